package io.asyncpipeline.model.samediff;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;

/**
 * Placeholder shape checks of a SameDiff pipeline, at {@code build()} and on every batch of {@code fit}.
 * The TrainingConfig's feature and label placeholders must be declared with a shape (rank known;
 * {@code -1} for any size, typically the batch dimension). A batch (or the {@code profileWith} sample)
 * must match that rank and every dimension that is not {@code -1}; at {@code build()} one forward pass on
 * a small batch shaped like the placeholders checks that the declared shapes fit the graph.
 */
final class SameDiffShapes {

    private SameDiffShapes() {
    }

    /** The checks at build(): declared shapes, the sample against them, and a forward pass on a small batch. */
    static void checkAtBuild(SameDiff sd, DataSet sample) {
        String feature = SameDiffGraphs.requireFeaturePlaceholder(sd.getTrainingConfig());
        String label = SameDiffGraphs.requireLabelPlaceholder(sd.getTrainingConfig());
        declared(sd, feature, "features");
        declared(sd, label, "labels");
        if (sample != null) {
            if (sample.getFeatures() == null || sample.getLabels() == null) {
                throw new IllegalArgumentException("the profileWith(...) sample has no " + (sample.getFeatures() == null
                        ? "features" : "labels") + ": give a DataSet with both");
            }
            check(sd, feature, sample.getFeatures(), "the profileWith(...) sample's features");
            check(sd, label, sample.getLabels(), "the profileWith(...) sample's labels");
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

    private static void declared(SameDiff sd, String name, String what) {
        if (sd.getVariable(name).getShape() == null) {
            throw new IllegalArgumentException("placeholder \"" + name + "\" (the DataSet's " + what + ") is declared without"
                    + " a shape, so batches cannot be checked against it: declare its rank, with -1 for any size, e.g."
                    + " sd.placeHolder(\"" + name + "\", " + sd.getVariable(name).dataType() + ", -1, 32)");
        }
    }

    /** A batch of fit: features and labels present, as many examples each, shapes matching the placeholders. */
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
        check(sd, SameDiffGraphs.requireFeaturePlaceholder(sd.getTrainingConfig()), f, "a batch's features");
        check(sd, SameDiffGraphs.requireLabelPlaceholder(sd.getTrainingConfig()), y, "a batch's labels");
    }

    /** {@code a} against the declared shape of placeholder {@code name}: same rank, equal where not -1. */
    static void check(SameDiff sd, String name, INDArray a, String what) {
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
