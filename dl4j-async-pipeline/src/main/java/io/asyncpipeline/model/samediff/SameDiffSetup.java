package io.asyncpipeline.model.samediff;

import io.asyncpipeline.model.CommonSetup;
import io.asyncpipeline.model.ModelSetup;
import io.asyncpipeline.model.PipelineOptions;
import io.asyncpipeline.runtime.RunSettings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Builds a SameDiff pipeline from the builder's options: checks the graph's TrainingConfig and its
 * placeholder shapes, chooses the cuts ({@code cutAfter(...)} names them, else {@link SameDiffPartitioner}
 * balances the estimated op costs over {@code stages(P)}) and builds the {@link SameDiffPipelineModel}.
 * The placeholder shape checks here also run on every batch of {@code fit} ({@link #checkBatch}).
 */
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
        checkShapesAtBuild(sd, o.profileSample());
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
        CommonSetup.StageLayout layout = CommonSetup.layout(o, p);
        RunSettings settings = CommonSetup.runSettings(o, o.seed() != null ? o.seed() : DEFAULT_SEED, layout);
        SameDiffPipelineModel model = SameDiffPipelineModel.split(sd, stageUpdaters(sd, o, p), cuts);
        if (o.gradientClipNorm() != null) {
            model.clipGradientNorm(o.gradientClipNorm());
        }
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
        checkMapping(tc.getDataSetFeatureMapping(), "feature", "dataSetFeatureMapping", placeholders);
        checkMapping(tc.getDataSetLabelMapping(), "label", "dataSetLabelMapping", placeholders);
        if (sd.getLossVariables() == null || sd.getLossVariables().isEmpty()) {
            throw new IllegalArgumentException("the SameDiff graph has no loss variable: call sd.setLossVariables(\"loss\")"
                    + " (or TrainingConfig.builder().minimize(...)) before building the pipeline");
        }
    }

    private static void checkMapping(List<String> mapping, String what, String setter, List<String> placeholders) {
        if (mapping == null || mapping.size() != 1) {
            throw new IllegalArgumentException("the TrainingConfig must map exactly one DataSet " + what + " array to a"
                    + " placeholder, has " + mapping + ": set " + setter + "(name) to one of " + placeholders);
        }
        if (!placeholders.contains(mapping.get(0))) {
            throw new IllegalArgumentException("the TrainingConfig's " + setter + " names \"" + mapping.get(0) + "\", which"
                    + " is not a placeholder of the graph; use one of " + placeholders);
        }
    }

    /**
     * The placeholder shape checks at build(). The TrainingConfig's feature and label placeholders must be
     * declared with a shape (rank known; {@code -1} for any size, typically the batch dimension); the
     * {@code profileWith} sample must match that rank and every dimension that is not {@code -1}; and one
     * forward pass on the sample, or on zeros shaped like the placeholders, checks that the declared shapes
     * fit the graph.
     */
    static void checkShapesAtBuild(SameDiff sd, DataSet sample) {
        String feature = SameDiffGraphs.requireFeaturePlaceholder(sd.getTrainingConfig());
        String label = SameDiffGraphs.requireLabelPlaceholder(sd.getTrainingConfig());
        requireDeclaredShape(sd, feature, "features");
        requireDeclaredShape(sd, label, "labels");
        if (sample != null) {
            if (sample.getFeatures() == null || sample.getLabels() == null) {
                throw new IllegalArgumentException("the profileWith(...) sample has no " + (sample.getFeatures() == null
                        ? "features" : "labels") + ": give a DataSet with both");
            }
            checkShape(sd, feature, sample.getFeatures(), "the profileWith(...) sample's features");
            checkShape(sd, label, sample.getLabels(), "the profileWith(...) sample's labels");
        }
        List<String> wanted = new ArrayList<>(sd.getLossVariables());
        Map<String, INDArray> feeds = new LinkedHashMap<>();
        feeds.put(feature, sample != null ? sample.getFeatures() : SameDiffGraphs.zeros(sd.getVariable(feature)));
        feeds.put(label, sample != null ? sample.getLabels() : SameDiffGraphs.zeros(sd.getVariable(label)));
        try {
            sd.output(feeds, wanted);
        } catch (RuntimeException e) {
            StringBuilder shapes = new StringBuilder();
            feeds.forEach((k, v) -> shapes.append(shapes.length() == 0 ? "" : ", ").append('"').append(k).append("\" ")
                    .append(Arrays.toString(v.shape())));
            throw new IllegalArgumentException("a forward pass of the graph on " + (sample != null ? "the profileWith(...)"
                    + " sample" : "zeros shaped like its placeholders (-1 as " + SameDiffPartitioner.DEFAULT_BATCH + ")")
                    + " (" + shapes + ") failed: " + e.getMessage() + ". Check that the declared placeholder shapes"
                    + " (sd.placeHolder(name, type, shape...)) match what the graph's ops expect", e);
        }
    }

    private static void requireDeclaredShape(SameDiff sd, String name, String what) {
        if (sd.getVariable(name).getShape() == null) {
            throw new IllegalArgumentException("placeholder \"" + name + "\" (the DataSet's " + what + ") is declared without"
                    + " a shape, so batches cannot be checked against it: declare its rank, with -1 for any size, e.g."
                    + " sd.placeHolder(\"" + name + "\", " + sd.getVariable(name).dataType() + ", -1, 32)");
        }
    }

    /** The check of every batch of fit: features and labels present, as many examples each, shapes matching the placeholders. */
    static void checkBatch(SameDiff sd, DataSet ds) {
        INDArray f = ds.getFeatures();
        INDArray y = ds.getLabels();
        if (f == null || y == null) {
            throw new IllegalArgumentException("a DataSet without " + (f == null ? "features" : "labels")
                    + " cannot be trained on");
        }
        if (ds.getFeaturesMaskArray() != null || ds.getLabelsMaskArray() != null) {
            throw new IllegalArgumentException("the batch has a " + (ds.getFeaturesMaskArray() != null ? "features" : "labels")
                    + " mask, which SameDiff stages do not support: feed masks as placeholders of the graph, or drop them");
        }
        if (f.rank() == 0 || y.rank() == 0 || f.size(0) != y.size(0) || f.size(0) == 0) {
            throw new IllegalArgumentException("a batch's features " + Arrays.toString(f.shape()) + " and labels "
                    + Arrays.toString(y.shape()) + " must have the same number of examples (> 0) in dimension 0");
        }
        checkShape(sd, SameDiffGraphs.requireFeaturePlaceholder(sd.getTrainingConfig()), f, "a batch's features");
        checkShape(sd, SameDiffGraphs.requireLabelPlaceholder(sd.getTrainingConfig()), y, "a batch's labels");
    }

    /** {@code a} against the declared shape of placeholder {@code name}: same rank, equal where not -1. */
    private static void checkShape(SameDiff sd, String name, INDArray a, String what) {
        long[] expected = sd.getVariable(name).getShape();
        if (expected == null) {
            return;
        }
        long[] actual = a.shape();
        String head = what + " have shape " + Arrays.toString(actual) + ", but placeholder \"" + name + "\" is declared "
                + Arrays.toString(expected) + " (-1: any size): ";
        if (actual.length != expected.length) {
            throw new IllegalArgumentException(head + "rank " + actual.length + " instead of " + expected.length
                    + "; reshape the data to rank " + expected.length + " or declare the placeholder with rank " + actual.length);
        }
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] >= 0 && expected[i] != actual[i]) {
                throw new IllegalArgumentException(head + "dimension " + i + " is " + actual[i] + ", expected " + expected[i]
                        + "; change the data (e.g. the iterator's sequence length or number of classes) or the"
                        + " placeholder's declared shape (the model's configuration)");
            }
        }
    }
}
