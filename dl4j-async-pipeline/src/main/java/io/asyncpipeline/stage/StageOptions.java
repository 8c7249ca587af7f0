package io.asyncpipeline.stage;

/**
 * Per-stage run options.
 *
 * @param device        ND4J device index the stage thread binds to
 * @param weightStashing backward on the weight version of the forward (PipeDream) or on the current weights
 * @param baseIteration the model's iteration count when the run started
 * @param seed          base seed of the per-micro-batch RNG (dropout masks repeat on recompute)
 */
public record StageOptions(int device, boolean weightStashing, int baseIteration, long seed) {

    /** Seed for micro-batch {@code m} on stage {@code k}: the same on every forward and recompute of m. */
    public long seedFor(int stage, int m) {
        long z = seed + 0x9E3779B97F4A7C15L * (m + 1L) + 0xBF58476D1CE4E5B9L * (stage + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
