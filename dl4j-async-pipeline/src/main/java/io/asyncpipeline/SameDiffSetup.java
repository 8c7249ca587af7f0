package io.asyncpipeline;

import io.asyncpipeline.model.SameDiffPipelineModel;
import io.asyncpipeline.partition.SameDiffPartitioner;
import io.asyncpipeline.schedule.Schedules;
import java.util.List;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.learning.config.IUpdater;

/** Validates builder options against a {@link SameDiff} graph and assembles the wrapper (first version; see README). */
final class SameDiffSetup {

    private static final long DEFAULT_SEED = 42;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SameDiffSetup.class);

    private SameDiffSetup() {
    }

    static AsyncPipelineWrapper build(SameDiff sd, PipelineBuilder<?> b) {
        checkTrainingConfig(sd);
        if (b.profileMultiSample != null) {
            throw new IllegalArgumentException("profileWith(MultiDataSet) is for ComputationGraphs; a SameDiff pipeline"
                    + " takes profileWith(DataSet) with the features and labels its TrainingConfig maps");
        }
        SameDiffShapes.checkAtBuild(sd, b.profileSample);
        if (b.partition != null) {
            throw new IllegalArgumentException("partition(...) counts layers or vertices; for SameDiff use cutAfter(variable names)");
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
        SameDiffPipelineModel model = SameDiffPipelineModel.split(sd, stageUpdaters(sd, b, p), cuts);
        return new AsyncPipelineWrapper(model, settings, ds -> SameDiffShapes.checkBatch(sd, ds));
    }

    /**
     * Per-stage updaters as for a MultiLayerNetwork (method.md §5): stageUpdater(k, ...) replaces the
     * TrainingConfig's updater on stage k, then delay-aware momentum and PipeMare adjust each stage's
     * copy. Null (every stage uses the TrainingConfig's updater) when none of these options is set.
     */
    private static IUpdater[] stageUpdaters(SameDiff sd, PipelineBuilder<?> b, int p) {
        MultiLayerSetup.checkStageOptions(b, p);
        if (!MultiLayerSetup.hasStageOptions(b)) {
            return null;
        }
        IUpdater graphUpdater = sd.getTrainingConfig().getUpdater();
        IUpdater[] u = new IUpdater[p];
        for (int k = 0; k < p; k++) {
            u[k] = MultiLayerSetup.adjust(b.stageUpdaters.getOrDefault(k, graphUpdater), b, Schedules.delay(k, p), p);
        }
        return u;
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
