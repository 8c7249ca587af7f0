package io.asyncpipeline;

import io.asyncpipeline.schedule.ActionStream;

/** The pipeline schedules a wrapper can run. */
public enum Schedule {

    /**
     * Asynchronous PipeDream 1F1B: every {@code DataSet} is one micro-batch, and every stage updates
     * right after each backward. No flush, no bubble in steady state; stage k's gradients are
     * τ_k = P-1-k updates stale.
     */
    ASYNC_1F1B,

    /**
     * Synchronous GPipe: every {@code DataSet} is a mini-batch split into M micro-batches; all forwards,
     * then all backwards, then one update per stage. Equals plain {@code fit} on the mini-batch.
     */
    GPIPE,

    /** Synchronous 1F1B (PipeDream-flush): GPipe's update rule with forwards and backwards interleaved. */
    ONE_F_ONE_B;

    /** True for the schedules that update once per mini-batch (GPIPE, ONE_F_ONE_B). */
    public boolean isSynchronous() {
        return this != ASYNC_1F1B;
    }

    /** The action stream of one stage. */
    ActionStream stream(int stage, int stages, int microBatches) {
        return switch (this) {
            case ASYNC_1F1B -> ActionStream.async1F1B(stage, stages);
            case GPIPE -> ActionStream.gpipe(stage, stages, microBatches);
            case ONE_F_ONE_B -> ActionStream.oneFOneB(stage, stages, microBatches);
        };
    }
}
