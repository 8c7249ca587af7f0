package io.asyncpipeline.runtime;

import io.asyncpipeline.transport.BoundaryCompression;

import io.asyncpipeline.schedule.PipelineSchedule;

/**
 * The validated run options the runtime needs (the user-facing view is {@code io.asyncpipeline.PipelineSettings}).
 *
 * @param schedule          the generator of the stages' action streams
 * @param channelCapacity   messages one channel holds without blocking its sender: the most micro-batches a
 *                          stage of the plan keeps in flight, plus two
 * @param devices           ND4J device of each stage
 * @param weightStashing    backward on the forward's weight version
 * @param seed              base seed of the per-micro-batch random generator
 * @param replay            run every stage in the calling thread
 * @param ndThreadsPerStage ND4J intra-op threads while fitting; 0 leaves ND4J alone
 * @param offHeapGcBudget   growth of physical memory (bytes) that triggers a garbage collection; 0 = never
 * @param timelineSpans     most timeline spans recorded per stage in a fit; 0 = record no timeline
 * @param compression       how activations and gradients cross the stage boundaries
 */
public record RunSettings(PipelineSchedule schedule, int channelCapacity, int[] devices,
                          boolean weightStashing, long seed, boolean replay, int ndThreadsPerStage,
                          long offHeapGcBudget, int timelineSpans, BoundaryCompression compression) {

    /** Settings without boundary compression. */
    public RunSettings(PipelineSchedule schedule, int channelCapacity, int[] devices, boolean weightStashing, long seed,
                       boolean replay, int ndThreadsPerStage, long offHeapGcBudget, int timelineSpans) {
        this(schedule, channelCapacity, devices, weightStashing, seed, replay, ndThreadsPerStage, offHeapGcBudget,
                timelineSpans, BoundaryCompression.NONE);
    }

    /** Micro-batches cut from each data batch: M for the synchronous schedules, 1 for the asynchronous one. */
    public int perBatch() {
        return schedule.microBatchesPerUpdate();
    }

    public RunSettings {
        devices = devices.clone();
        if (compression == null) {
            throw new IllegalArgumentException("compression must not be null");
        }
        if (timelineSpans < 0) {
            throw new IllegalArgumentException("timelineSpans must be >= 0, got " + timelineSpans);
        }
    }

    @Override
    public int[] devices() {
        return devices.clone();
    }
}
