package io.asyncpipeline;

/**
 * The validated options of a wrapper (see {@link PipelineBuilder} for their meaning).
 *
 * @param ndThreadsPerStage ND4J intra-op threads while fitting; 0 = leave ND4J's setting alone
 */
public record PipelineSettings(Schedule schedule, int microBatches, int[] devices, boolean weightStashing,
                               long seed, boolean replay, boolean failOnNonFiniteScore, int ndThreadsPerStage) {

    public PipelineSettings {
        devices = devices.clone();
    }

    @Override
    public int[] devices() {
        return devices.clone();
    }
}
