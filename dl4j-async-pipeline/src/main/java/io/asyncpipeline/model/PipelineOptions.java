package io.asyncpipeline.model;

import io.asyncpipeline.runtime.RunSettings;
import java.util.Map;
import java.util.function.IntFunction;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The builder's options as plain data, for a {@link ModelSetup} to check against its model. Options the
 * user left unset are null. The schedule arrives already checked (non-null, M ≥ 1).
 *
 * @param scheduleName  the schedule's name, for messages
 * @param synchronous   whether the schedule updates once per M micro-batches (GPipe, synchronous 1F1B)
 * @param streams       the per-stage action streams of the schedule
 * @param inFlight      for P stages, the most micro-batches each stage holds between forward and backward
 * @param maxDelay      for P stages, the most updates each stage makes between a forward and its backward
 */
public record PipelineOptions(Integer stages, int[] partition, String[] cutAfter, String scheduleName,
                              boolean synchronous, RunSettings.StreamFactory streams, IntFunction<int[]> inFlight,
                              IntFunction<int[]> maxDelay, boolean weightStashing, int microBatches, int[] devices,
                              Long seed, boolean replay, boolean recompute, Integer ndThreadsPerStage,
                              long offHeapGcBudget, DataSet profileSample, MultiDataSet profileMultiSample,
                              Double delayAwareMomentum, Integer pipeMareIterations, Map<Integer, IUpdater> stageUpdaters) {

    public PipelineOptions {
        partition = partition == null ? null : partition.clone();
        cutAfter = cutAfter == null ? null : cutAfter.clone();
        devices = devices == null ? null : devices.clone();
        stageUpdaters = Map.copyOf(stageUpdaters);
    }
}
