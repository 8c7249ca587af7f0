package io.asyncpipeline;

/**
 * The validated options of a wrapper (see {@link PipelineBuilder} for their meaning).
 *
 * @param ndThreadsPerStage ND4J intra-op threads while fitting; 0 = leave ND4J's setting alone
 * @param offHeapGcBudget   growth of physical memory (bytes) that triggers a garbage collection; 0 = never
 * @param timelineSpans     most timeline spans recorded per stage in a fit; 0 = no timeline is recorded
 * @param boundaryCompression how activations and gradients cross the stage boundaries
 */
public record PipelineSettings(Schedule schedule, int microBatches, int[] devices, boolean weightStashing,
                               long seed, boolean replay, boolean failOnNonFiniteScore, int ndThreadsPerStage,
                               long offHeapGcBudget, int timelineSpans,
                               io.asyncpipeline.transport.BoundaryCompression boundaryCompression) {

    public PipelineSettings {
        devices = devices.clone();
    }

    @Override
    public int[] devices() {
        return devices.clone();
    }
}
