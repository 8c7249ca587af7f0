package io.asyncpipeline;

import io.asyncpipeline.schedule.PipelineSchedule;
import io.asyncpipeline.schedule.Schedules;

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

    /**
     * The generator of this schedule's per-stage action streams, which the stage interpreter runs.
     *
     * @param microBatches micro-batches per mini-batch {@code M >= 1}; ignored by ASYNC_1F1B, which
     *                     updates after every micro-batch
     * @return the generator
     * @throws IllegalArgumentException if a synchronous schedule gets {@code microBatches < 1}
     */
    public PipelineSchedule generator(int microBatches) {
        return Schedules.named(name(), microBatches);
    }

    /**
     * The generator with {@code extraInFlightPerCut} extra micro-batches in flight per cut (ASYNC_1F1B only; see
     * {@link io.asyncpipeline.schedule.Schedules#async1F1B(int)}).
     *
     * @throws IllegalArgumentException for a synchronous schedule with {@code extraInFlightPerCut != 0}, or a count
     *                                  out of range
     */
    public PipelineSchedule generator(int microBatches, int extraInFlightPerCut) {
        return Schedules.named(name(), microBatches, extraInFlightPerCut);
    }
}
