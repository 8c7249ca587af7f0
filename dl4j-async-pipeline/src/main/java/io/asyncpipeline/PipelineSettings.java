package io.asyncpipeline;

/**
 * The validated options of a wrapper (see {@link PipelineBuilder} for their meaning).
 *
 * @param ndThreadsPerStage ND4J intra-op threads while fitting; 0 = leave ND4J's setting alone
 * @param offHeapGcBudget   growth of physical memory (bytes) that triggers a garbage collection; 0 = never
 * @param timelineSpans     most timeline spans recorded per stage in a fit; 0 = no timeline is recorded
 */
public record PipelineSettings(Schedule schedule, int microBatches, int[] devices, boolean weightStashing,
                               long seed, boolean replay, boolean failOnNonFiniteScore, int ndThreadsPerStage,
                               long offHeapGcBudget, int timelineSpans) {

    public PipelineSettings {
        devices = devices.clone();
    }

    @Override
    public int[] devices() {
        return devices.clone();
    }
}
