package io.asyncpipeline.stage;

import io.asyncpipeline.transport.BoundaryCompression;

/**
 * Per-stage run options.
 *
 * @param device        ND4J device index the stage thread binds to
 * @param weightStashing backward on the weight version of the forward (PipeDream) or on the current weights
 * @param baseIteration the model's iteration count when the run started
 * @param seed          base seed of the per-micro-batch RNG (dropout masks repeat on recompute)
 * @param compression   how the activations and gradients this stage sends are rounded (and those it receives
 *                      restored)
 * @param cpuTimeCosts  the forward, backward and update times in the stage's metrics are the stage thread's CPU time
 *                      rather than elapsed time: a cost that other processes on the machine do not inflate, and that
 *                      is the op's whole cost only when ND4J computes on the calling thread (one thread); the
 *                      timeline's spans stay elapsed time
 */
public record StageOptions(int device, boolean weightStashing, int baseIteration, long seed,
                           BoundaryCompression compression, boolean cpuTimeCosts) {

    public StageOptions {
        if (compression == null) {
            throw new IllegalArgumentException("compression must not be null (NONE sends the tensors as they are)");
        }
    }

    /** Options without boundary compression, costs in elapsed time. */
    public StageOptions(int device, boolean weightStashing, int baseIteration, long seed) {
        this(device, weightStashing, baseIteration, seed, BoundaryCompression.NONE, false);
    }

    /** Seed for micro-batch {@code m} on stage {@code k}: the same on every forward and recompute of m. */
    public long seedFor(int stage, int m) {
        long z = seed + 0x9E3779B97F4A7C15L * (m + 1L) + 0xBF58476D1CE4E5B9L * (stage + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
