package io.asyncpipeline;

import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Limits ND4J's intra-op threads while stage threads run, and restores them afterwards. With P busy
 * stage threads on few cores, ND4J's default of one OpenMP thread per core oversubscribes the CPU.
 */
final class ThreadSettings {

    private final int savedMax;
    private final int savedMaster;
    private final boolean changed;

    private ThreadSettings(int savedMax, int savedMaster, boolean changed) {
        this.savedMax = savedMax;
        this.savedMaster = savedMaster;
        this.changed = changed;
    }

    /** Sets ND4J's thread limits to {@code perStage}; 0 leaves them unchanged. */
    static ThreadSettings apply(int perStage) {
        Environment env = Nd4j.getEnvironment();
        if (perStage <= 0) {
            return new ThreadSettings(0, 0, false);
        }
        ThreadSettings saved = new ThreadSettings(env.maxThreads(), env.maxMasterThreads(), true);
        env.setMaxThreads(perStage);
        env.setMaxMasterThreads(perStage);
        return saved;
    }

    void restore() {
        if (changed) {
            Environment env = Nd4j.getEnvironment();
            env.setMaxThreads(savedMax);
            env.setMaxMasterThreads(savedMaster);
        }
    }
}
