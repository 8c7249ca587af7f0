package io.asyncpipeline.model;

import io.asyncpipeline.transport.BoundaryCompression;

import io.asyncpipeline.schedule.PipelineSchedule;
import java.util.Map;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The builder's options as plain data, for a {@link ModelSetup} to check against its model. Options the
 * user left unset are null. The schedule arrives already checked (non-null, M ≥ 1).
 *
 * @param scheduleName  the schedule's name as the user chose it, for messages
 * @param schedule      the generator of the stages' action streams; slots, stash sizes and channel capacity are
 *                      read from its plan ({@link CommonSetup#layout})
 * @param timelineSpans most timeline spans recorded per stage in a fit; 0 = record no timeline (checked: >= 0)
 * @param gradientClipNorm the L2 norm each stage clips its step's gradient to, or null for none (checked: > 0,
 *                         finite; SameDiff models only)
 * @param compression   how activations and gradients cross the stage boundaries (not null)
 */
public record PipelineOptions(Integer stages, int[] partition, String[] cutAfter, String scheduleName,
                              PipelineSchedule schedule, boolean weightStashing, int microBatches, int[] devices,
                              Long seed, boolean replay, boolean recompute, Integer ndThreadsPerStage,
                              long offHeapGcBudget, DataSet profileSample, MultiDataSet profileMultiSample,
                              Double delayAwareMomentum, Integer pipeMareIterations, Map<Integer, IUpdater> stageUpdaters,
                              int timelineSpans, Double gradientClipNorm, BoundaryCompression compression) {

    public PipelineOptions {
        partition = partition == null ? null : partition.clone();
        cutAfter = cutAfter == null ? null : cutAfter.clone();
        devices = devices == null ? null : devices.clone();
        stageUpdaters = Map.copyOf(stageUpdaters);
    }
}
