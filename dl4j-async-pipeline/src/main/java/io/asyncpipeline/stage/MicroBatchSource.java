package io.asyncpipeline.stage;

import io.asyncpipeline.transport.Message;

/** Feeds the first stage: the next micro-batch, or {@link Message#END}. Called from the first stage's thread only. */
@FunctionalInterface
public interface MicroBatchSource {
    Message next() throws Exception;

    /** True once the user's iterator itself threw from {@link #next()} (not a check or split of its batch). */
    default boolean failedInIterator() {
        return false;
    }
}
