package io.asyncpipeline;

import io.asyncpipeline.model.SameDiffPipelineModel;
import io.asyncpipeline.partition.SameDiffPartitioner;
import java.util.List;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;

/** Validates builder options against a {@link SameDiff} graph and assembles the wrapper (first version; see README). */
final class SameDiffSetup {

    private static final long DEFAULT_SEED = 42;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SameDiffSetup.class);

    private SameDiffSetup() {
    }

    static AsyncPipelineWrapper build(SameDiff sd, PipelineBuilder<?> b) {
        checkTrainingConfig(sd);
        SameDiffShapes.checkAtBuild(sd, b.profileSample);
        if (b.partition != null) {
            throw new IllegalArgumentException("partition(...) counts layers or vertices; for SameDiff use cutAfter(variable names)");
        }
        if (b.schedule == Schedule.ASYNC_1F1B && b.weightStashing) {
            throw new IllegalArgumentException("weight stashing is not supported for SameDiff stages yet: use"
                    + " weightStashing(false) with ASYNC_1F1B, or GPIPE / ONE_F_ONE_B");
        }
        if (!b.stageUpdaters.isEmpty() || b.delayAwareMomentum != null || b.pipeMareIterations != null) {
            throw new IllegalArgumentException("stageUpdater, delayAwareMomentum and pipeMareLearningRate are not supported"
                    + " for SameDiff stages yet");
        }
        String[] cuts = b.cutAfter;
        if (cuts == null || cuts.length == 0) {     // automatic balancing by estimated op cost
            SameDiffPartitioner.Plan plan = SameDiffPartitioner.balance(sd, b.stages != null ? b.stages : 2, b.profileSample);
            LOG.info("SameDiff graph balanced: {}", plan);
            cuts = plan.cuts().toArray(new String[0]);
        }
        int p = cuts.length + 1;
        if (b.stages != null && b.stages != p) {
            throw new IllegalArgumentException("stages(" + b.stages + ") disagrees with cutAfter(...), which makes " + p
                    + " stages: set only one of them");
        }
        PipelineSettings settings = MultiLayerSetup.settings(b, b.seed != null ? b.seed : DEFAULT_SEED, p);
        SameDiffPipelineModel model = SameDiffPipelineModel.split(sd, cuts);
        return new AsyncPipelineWrapper(model, settings, ds -> SameDiffShapes.checkBatch(sd, ds));
    }

    /** The graph must carry a TrainingConfig mapping one DataSet feature and one label placeholder, and a loss. */
    static void checkTrainingConfig(SameDiff sd) {
        List<String> placeholders = sd.inputs() == null ? List.of() : sd.inputs();
        TrainingConfig tc = sd.getTrainingConfig();
        if (tc == null) {
            throw new IllegalArgumentException("the SameDiff graph has no TrainingConfig: before building the pipeline call"
                    + " sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-3)).dataSetFeatureMapping(...)"
                    + ".dataSetLabelMapping(...).build()) with the graph's placeholders " + placeholders);
        }
        check(tc.getDataSetFeatureMapping(), "feature", "dataSetFeatureMapping", placeholders);
        check(tc.getDataSetLabelMapping(), "label", "dataSetLabelMapping", placeholders);
        if (sd.getLossVariables() == null || sd.getLossVariables().isEmpty()) {
            throw new IllegalArgumentException("the SameDiff graph has no loss variable: call sd.setLossVariables(\"loss\")"
                    + " (or TrainingConfig.builder().minimize(...)) before building the pipeline");
        }
    }

    private static void check(List<String> mapping, String what, String setter, List<String> placeholders) {
        if (mapping == null || mapping.size() != 1) {
            throw new IllegalArgumentException("the TrainingConfig must map exactly one DataSet " + what + " array to a"
                    + " placeholder, has " + mapping + ": set " + setter + "(name) to one of " + placeholders);
        }
        if (!placeholders.contains(mapping.get(0))) {
            throw new IllegalArgumentException("the TrainingConfig's " + setter + " names \"" + mapping.get(0) + "\", which"
                    + " is not a placeholder of the graph; use one of " + placeholders);
        }
    }
}
