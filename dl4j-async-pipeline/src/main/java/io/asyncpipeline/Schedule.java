package io.asyncpipeline;

import io.asyncpipeline.runtime.RunSettings;
import io.asyncpipeline.schedule.Action;
import io.asyncpipeline.schedule.ActionStream;
import java.util.Iterator;

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

    /** The action streams of the stages. */
    RunSettings.StreamFactory streams(int microBatches) {
        return (stage, stages) -> stream(stage, stages, microBatches);
    }

    private Iterator<Action> stream(int stage, int stages, int microBatches) {
        return switch (this) {
            case ASYNC_1F1B -> ActionStream.async1F1B(stage, stages);
            case GPIPE -> ActionStream.gpipe(stage, stages, microBatches);
            case ONE_F_ONE_B -> ActionStream.oneFOneB(stage, stages, microBatches);
        };
    }

    /** For P stages: the most micro-batches each stage holds between a forward and its backward. */
    int[] inFlight(int p, int microBatches) {
        int[] n = new int[p];
        for (int k = 0; k < p; k++) {
            n[k] = switch (this) {
                case ASYNC_1F1B -> p - k;
                case GPIPE -> microBatches;
                case ONE_F_ONE_B -> Math.min(p - k, microBatches);
            };
        }
        return n;
    }

    /** For P stages: the most updates each stage makes between a forward and its backward. */
    int[] maxDelay(int p) {
        int[] d = new int[p];
        for (int k = 0; k < p; k++) {
            d[k] = this == ASYNC_1F1B ? p - 1 - k : 0;
        }
        return d;
    }
}
