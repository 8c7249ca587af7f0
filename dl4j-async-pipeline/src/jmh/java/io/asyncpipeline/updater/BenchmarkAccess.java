package io.asyncpipeline.updater;

import org.nd4j.linalg.learning.GradientUpdater;

/**
 * Benchmark-only access to package-private switches of the updaters. It lives in the benchmark source
 * root (src/jmh/java), not in the library, so the main code stays unchanged.
 */
public final class BenchmarkAccess {

    private BenchmarkAccess() {
    }

    /** Makes a {@link DiscountedNadamUpdater} use its ND4J-ops fallback instead of the fused host pass. */
    public static void forceOpsPath(GradientUpdater<?> updater, boolean force) {
        ((DiscountedNadamUpdater) updater).forceOpsPath(force);
    }

    /** Whether the last step of a {@link DiscountedNadamUpdater} took the fused host-memory pass. */
    public static boolean lastStepFused(GradientUpdater<?> updater) {
        return ((DiscountedNadamUpdater) updater).lastStepFused();
    }
}
