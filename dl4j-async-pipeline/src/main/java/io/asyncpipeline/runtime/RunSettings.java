package io.asyncpipeline.runtime;

/**
 * The validated run options the runtime needs (the user-facing view is {@code io.asyncpipeline.PipelineSettings}).
 *
 * @param scheduleName      the schedule, as the user named it (for messages)
 * @param microBatches      M, micro-batches per update of the synchronous schedules
 * @param perBatch          micro-batches cut from each data batch: M for the synchronous schedules, 1 for the asynchronous one
 * @param devices           ND4J device of each stage
 * @param weightStashing    backward on the forward's weight version
 * @param seed              base seed of the per-micro-batch random generator
 * @param replay            run every stage in the calling thread
 * @param ndThreadsPerStage ND4J intra-op threads while fitting; 0 leaves ND4J alone
 * @param offHeapGcBudget   growth of physical memory (bytes) that triggers a garbage collection; 0 = never
 */
public record RunSettings(String scheduleName, StreamFactory streams, int microBatches, int perBatch,
                          int[] devices,
                          boolean weightStashing, long seed, boolean replay, int ndThreadsPerStage,
                          long offHeapGcBudget) {

    /** The action stream of each stage, from the chosen schedule. */
    @FunctionalInterface
    public interface StreamFactory {
        java.util.Iterator<io.asyncpipeline.schedule.Action> stream(int stage, int stages);
    }

    /** Messages one channel holds without blocking its sender: the schedule's window plus two. */
    public int channelCapacity(int stages) {
        return Math.max(stages, microBatches) + 2;
    }

    public RunSettings {
        devices = devices.clone();
    }

    @Override
    public int[] devices() {
        return devices.clone();
    }
}
