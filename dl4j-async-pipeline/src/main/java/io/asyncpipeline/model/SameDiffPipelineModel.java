package io.asyncpipeline.model;

import io.asyncpipeline.stage.StageComputation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;

/**
 * A {@link SameDiff} graph cut at named boundary variables ({@link SameDiffStages}), each stage a
 * {@link SameDiffStage}. Parameters are the user's arrays; the counters are the user's
 * {@link TrainingConfig}'s.
 *
 * <p>Optimizer state: SameDiff M2.1 keeps its per-variable updaters private (no accessor), so the stages
 * keep their own state, created fresh by this model. {@link #pullOptimizerState()} and
 * {@link #pushOptimizerState()} do nothing: a SameDiff graph trained alternately with {@code sd.fit} and
 * the pipeline restarts the optimizer state at each switch.
 */
public final class SameDiffPipelineModel implements PipelineModel {

    private final SameDiff sd;
    private final TrainingConfig config;
    private final SameDiffStages split;
    private final List<StageComputation> stages = new ArrayList<>();

    private SameDiffPipelineModel(SameDiff sd, String[] boundaries) {
        this.sd = sd;
        this.config = sd.getTrainingConfig();
        if (config == null) {
            throw new IllegalArgumentException("the SameDiff graph has no TrainingConfig: call sd.setTrainingConfig first");
        }
        this.split = SameDiffStages.split(sd, boundaries);
        for (int i = 0; i < split.size(); i++) {
            stages.add(new SameDiffStage(split, i, config));
        }
    }

    /** Cuts {@code sd} (with its training config set) at {@code boundaries}, in graph order. */
    public static SameDiffPipelineModel split(SameDiff sd, String... boundaries) {
        return new SameDiffPipelineModel(sd, boundaries);
    }

    public SameDiffStages stageGraphs() {
        return split;
    }

    @Override
    public List<StageComputation> stages() {
        return Collections.unmodifiableList(stages);
    }

    /** Number of the user's graph's ops in each stage. */
    @Override
    public int[] partition() {
        int[] p = new int[split.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = split.stage(i).opCount();
        }
        return p;
    }

    @Override
    public void pullOptimizerState() {
    }

    @Override
    public void pushOptimizerState() {
    }

    @Override
    public int iterationCount() {
        return config.getIterationCount();
    }

    @Override
    public int epochCount() {
        return config.getEpochCount();
    }

    @Override
    public void setCounters(int iteration, int epoch) {
        config.setIterationCount(iteration);
        config.setEpochCount(epoch);
    }

    @Override
    public void reportIteration(int iteration, int epoch, double score) {
        config.setIterationCount(iteration + 1);
    }

    @Override
    public List<TrainingListener> listeners() {
        return List.of();
    }

    @Override
    public void epochEvent(boolean start) {
    }

    /** The user's graph. */
    public SameDiff graph() {
        return sd;
    }

    /** Not available yet: the stages' optimizer state is not written back into the user's SameDiff. */
    @Override
    public void saveCheckpoint(java.io.File file) {
        throw new UnsupportedOperationException("checkpoints of pipelined SameDiff models are not supported yet: the"
                + " stages' optimizer state is not written back into the SameDiff; save the variables with sd.save(file, false)");
    }
}
