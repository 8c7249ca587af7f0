package io.asyncpipeline.model.samediff;

import io.asyncpipeline.model.CommonSetup;
import io.asyncpipeline.model.ModelSetup;
import io.asyncpipeline.model.PipelineOptions;
import io.asyncpipeline.runtime.RunSettings;
import java.util.List;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.learning.config.IUpdater;

/** Checks the builder's options against a {@link SameDiff} graph, chooses the cuts and builds the stages. */
public final class SameDiffSetup implements ModelSetup {

    private static final long DEFAULT_SEED = 42;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SameDiffSetup.class);

    private final SameDiff sd;

    /** @param sd a graph with its TrainingConfig set ({@code sd.setTrainingConfig}) */
    public SameDiffSetup(SameDiff sd) {
        if (sd == null) {
            throw new IllegalArgumentException("sameDiff is null");
        }
        this.sd = sd;
    }

    @Override
    public Built build(PipelineOptions o) {
        checkTrainingConfig(sd);
        if (o.profileMultiSample() != null) {
            throw new IllegalArgumentException("profileWith(MultiDataSet) is for ComputationGraphs; a SameDiff pipeline"
                    + " takes profileWith(DataSet) with the features and labels its TrainingConfig maps");
        }
        SameDiffShapes.checkAtBuild(sd, o.profileSample());
        if (o.partition() != null) {
            throw new IllegalArgumentException("partition(...) counts layers or vertices; for SameDiff use cutAfter(variable names)");
        }
        String[] cuts = o.cutAfter();
        if (cuts == null || cuts.length == 0) {     // automatic balancing by estimated op cost
            SameDiffPartitioner.Plan plan = SameDiffPartitioner.balance(sd, o.stages() != null ? o.stages() : 2, o.profileSample());
            LOG.info("SameDiff graph balanced: {}", plan);
            cuts = plan.cuts().toArray(new String[0]);
        }
        int p = cuts.length + 1;
        if (o.stages() != null && o.stages() != p) {
            throw new IllegalArgumentException("stages(" + o.stages() + ") disagrees with cutAfter(...), which makes " + p
                    + " stages: set only one of them");
        }
        RunSettings settings = CommonSetup.runSettings(o, o.seed() != null ? o.seed() : DEFAULT_SEED, p);
        SameDiffPipelineModel model = SameDiffPipelineModel.split(sd, stageUpdaters(sd, o, p), cuts);
        return new Built(model, settings);
    }

    /**
     * Per-stage updaters as for a MultiLayerNetwork (method.md §5): stageUpdater(k, ...) replaces the
     * TrainingConfig's updater on stage k, then delay-aware momentum and PipeMare adjust each stage's
     * copy. Null (every stage uses the TrainingConfig's updater) when none of these options is set.
     */
    private static IUpdater[] stageUpdaters(SameDiff sd, PipelineOptions o, int p) {
        CommonSetup.checkStageOptions(o, p);
        if (!CommonSetup.hasStageOptions(o)) {
            return null;
        }
        IUpdater graphUpdater = sd.getTrainingConfig().getUpdater();
        IUpdater[] u = new IUpdater[p];
        for (int k = 0; k < p; k++) {
            u[k] = CommonSetup.stageUpdater(graphUpdater, o, k, p);
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
