package io.asyncpipeline.arbiter;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Objects;

/**
 * One point of a {@link PipelineCandidateSpace}: what {@link PipelineTaskCreator} trains. It holds a network
 * configuration (a {@link MultiLayerConfiguration} or a {@link ComputationGraphConfiguration}) or none (a SameDiff
 * model supplied to the task creator), an updater (for SameDiff; null keeps the model's own), and the pipeline
 * settings. {@link #toJson()} / {@link #fromJson(String)} write and read it, so the best candidate of a search can
 * be stored and trained again.
 */
public final class PipelineCandidate implements Serializable {

    private static final long serialVersionUID = 1L;

    private final MultiLayerConfiguration multiLayer;
    private final ComputationGraphConfiguration graph;
    private final IUpdater updater;
    private final PipelineConfig pipeline;

    private PipelineCandidate(MultiLayerConfiguration multiLayer, ComputationGraphConfiguration graph, IUpdater updater,
                              PipelineConfig pipeline) {
        this.multiLayer = multiLayer;
        this.graph = graph;
        this.updater = updater;
        this.pipeline = pipeline == null ? PipelineConfig.DEFAULTS : pipeline;
    }

    /** A MultiLayerNetwork candidate. */
    public static PipelineCandidate of(MultiLayerConfiguration conf, PipelineConfig pipeline) {
        return new PipelineCandidate(Objects.requireNonNull(conf, "conf"), null, null, pipeline);
    }

    /** A ComputationGraph candidate. */
    public static PipelineCandidate of(ComputationGraphConfiguration conf, PipelineConfig pipeline) {
        return new PipelineCandidate(null, Objects.requireNonNull(conf, "conf"), null, pipeline);
    }

    /** A candidate for the SameDiff model of the task creator: its updater (null: the model's own) and settings. */
    public static PipelineCandidate ofSameDiff(IUpdater updater, PipelineConfig pipeline) {
        return new PipelineCandidate(null, null, updater, pipeline);
    }

    /** The MultiLayerNetwork configuration, or null. */
    public MultiLayerConfiguration multiLayer() {
        return multiLayer;
    }

    /** The ComputationGraph configuration, or null. */
    public ComputationGraphConfiguration graph() {
        return graph;
    }

    /** True when neither network configuration is set: the task creator's SameDiff model is trained. */
    public boolean isSameDiff() {
        return multiLayer == null && graph == null;
    }

    /** The SameDiff model's updater, or null to keep the one its TrainingConfig has. */
    public IUpdater updater() {
        return updater;
    }

    public PipelineConfig pipeline() {
        return pipeline;
    }

    /** JSON with the fields {@code multiLayer} / {@code graph} (DL4J's own JSON), {@code updater} and {@code pipeline}. */
    public String toJson() {
        ObjectMapper m = NeuralNetConfiguration.mapper();
        try {
            ObjectNode root = m.createObjectNode();
            if (multiLayer != null) {
                root.set("multiLayer", m.readTree(multiLayer.toJson()));
            }
            if (graph != null) {
                root.set("graph", m.readTree(graph.toJson()));
            }
            if (updater != null) {
                root.set("updater", m.readTree(m.writeValueAsString(updater)));
            }
            pipeline.writeTo(root.putObject("pipeline"));
            return m.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads {@link #toJson()}.
     *
     * @throws IllegalArgumentException naming what is wrong when {@code json} is not such a candidate
     */
    public static PipelineCandidate fromJson(String json) {
        ObjectMapper m = NeuralNetConfiguration.mapper();
        JsonNode root;
        try {
            root = m.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("PipelineCandidate: not JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("PipelineCandidate: expected a JSON object, got " + root);
        }
        if (root.has("multiLayer") && root.has("graph")) {
            throw new IllegalArgumentException("PipelineCandidate: give multiLayer or graph, not both");
        }
        try {
            MultiLayerConfiguration ml = root.has("multiLayer")
                    ? MultiLayerConfiguration.fromJson(root.get("multiLayer").toString()) : null;
            ComputationGraphConfiguration cg = root.has("graph")
                    ? ComputationGraphConfiguration.fromJson(root.get("graph").toString()) : null;
            IUpdater u = root.has("updater") ? m.readValue(root.get("updater").toString(), IUpdater.class) : null;
            return new PipelineCandidate(ml, cg, u, PipelineConfig.readFrom(root.path("pipeline")));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("PipelineCandidate: cannot read " + e.getMessage(), e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PipelineCandidate c && Objects.equals(multiLayer, c.multiLayer) && Objects.equals(graph, c.graph)
                && Objects.equals(updater, c.updater) && pipeline.equals(c.pipeline);
    }

    @Override
    public int hashCode() {
        return Objects.hash(multiLayer, graph, updater, pipeline);
    }

    @Override
    public String toString() {
        String model = multiLayer != null ? "MultiLayerNetwork" : graph != null ? "ComputationGraph" : "SameDiff";
        return "PipelineCandidate(" + model + (updater != null ? ", updater=" + updater : "") + ", " + pipeline + ")";
    }
}
