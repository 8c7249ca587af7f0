package io.asyncpipeline.stage;

/** Feeds the first stage: the next micro-batch, or {@link Message#END}. Called from the first stage's thread only. */
@FunctionalInterface
public interface MicroBatchSource {
    Message next() throws Exception;
}
