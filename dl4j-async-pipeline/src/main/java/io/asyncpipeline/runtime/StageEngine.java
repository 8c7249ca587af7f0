package io.asyncpipeline.runtime;

import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.metrics.StageTimeline;
import io.asyncpipeline.stage.MicroBatchSource;
import io.asyncpipeline.stage.UpdateObserver;
import java.util.List;

/**
 * Where the stages of a fit run: threads of this JVM ({@link #inProcess}), or stage processes that a coordinator
 * drives over the network ({@code io.asyncpipeline.process}). {@link PipelineTrainer} does the bookkeeping around
 * it (epochs, counters, listeners, optimizer state in the user's model) the same way for both.
 */
public interface StageEngine extends AutoCloseable {

    /** Before the first epoch of a fit, after the user's optimizer state was copied into the local stages. */
    default void beginFit() {
    }

    /**
     * Runs one epoch: every micro-batch of {@code source} through every stage, until the pipeline has drained.
     *
     * @throws RunFailedException when a stage, the source or a stage process failed; every stage has stopped
     */
    Epoch runEpoch(MicroBatchSource source, UpdateObserver observer, int baseIteration, List<StageTimeline> timelines)
            throws InterruptedException;

    /**
     * After each epoch, also a failed one, before the local stages' optimizer state is copied to the user's model:
     * a remote engine brings the stages' parameters and optimizer state home here. Default: nothing (the local
     * stages are the stages).
     */
    default void afterEpoch(boolean completed) {
    }

    /** After the last epoch of a fit, also after a failure. */
    default void endFit() {
    }

    /** The most updates any stage completed in the last epoch (also after a failure). */
    int updatesDone();

    /** Releases what the engine holds (threads, processes). */
    @Override
    default void close() {
    }

    /** What one epoch did: per-stage metrics (first to last) and its wall time. */
    record Epoch(List<StageMetrics> stages, long wallNanos) {
    }

    /** The stages as threads of this JVM, joined by {@code transport}. */
    static StageEngine inProcess(List<io.asyncpipeline.stage.StageComputation> stages, RunSettings settings,
                                 io.asyncpipeline.transport.Transport transport) {
        return new StageEngine() {
            private PipelineRun last;

            @Override
            public Epoch runEpoch(MicroBatchSource source, UpdateObserver observer, int base, List<StageTimeline> timelines)
                    throws InterruptedException {
                last = new PipelineRun(stages, 0, stages.size(), settings, transport, timelines);
                PipelineRun.Result r = last.run(source, observer, base);
                return new Epoch(r.stages(), r.wallNanos());
            }

            @Override
            public int updatesDone() {
                return last == null ? 0 : last.updatesDone();
            }
        };
    }
}
