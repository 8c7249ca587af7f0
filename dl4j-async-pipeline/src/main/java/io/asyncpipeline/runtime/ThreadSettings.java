package io.asyncpipeline.runtime;

import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Limits ND4J's intra-op threads while stage threads run, and restores them afterwards. With P busy
 * stage threads on few cores, ND4J's default of one thread per core per op oversubscribes the CPU.
 * Sets libnd4j's thread limit and the BLAS library's thread count (both process-wide). Also used by the examples
 * to give DL4J's ParallelWrapper workers the same limit as pipeline stages.
 */
public final class ThreadSettings {

    private final int savedMax;
    private final int savedMaster;
    private final int savedBlas;
    private final boolean changed;

    private ThreadSettings(int savedMax, int savedMaster, int savedBlas, boolean changed) {
        this.savedMax = savedMax;
        this.savedMaster = savedMaster;
        this.savedBlas = savedBlas;
        this.changed = changed;
    }

    /** Sets ND4J's thread limits to {@code perStage}; 0 leaves them unchanged. */
    public static ThreadSettings apply(int perStage) {
        if (perStage <= 0) {
            return new ThreadSettings(0, 0, 0, false);
        }
        Environment env = Nd4j.getEnvironment();
        ThreadSettings saved = new ThreadSettings(env.maxThreads(), env.maxMasterThreads(), blasThreads(), true);
        env.setMaxThreads(perStage);
        env.setMaxMasterThreads(perStage);
        setBlasThreads(perStage);
        return saved;
    }

    /** Puts back the limits {@link #apply} replaced. */
    public void restore() {
        if (changed) {
            Environment env = Nd4j.getEnvironment();
            env.setMaxThreads(savedMax);
            env.setMaxMasterThreads(savedMaster);
            if (savedBlas > 0) {
                setBlasThreads(savedBlas);
            }
        }
    }

    private static int blasThreads() {
        try {
            return Nd4j.factory().blas().getMaxThreads();
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return 0;
        }
    }

    private static void setBlasThreads(int n) {
        try {
            Nd4j.factory().blas().setMaxThreads(n);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            // a backend without a settable BLAS pool: leave it
        }
    }
}
