package io.asyncpipeline.arbiter;

import org.deeplearning4j.arbiter.ComputationGraphSpace;
import org.deeplearning4j.arbiter.DL4JConfiguration;
import org.deeplearning4j.arbiter.GraphConfiguration;
import org.deeplearning4j.arbiter.MultiLayerSpace;
import org.deeplearning4j.arbiter.optimize.api.AbstractParameterSpace;
import org.deeplearning4j.arbiter.optimize.api.ParameterSpace;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.List;
import java.util.Objects;

/**
 * The search space of {@link PipelineCandidate}s: a network space (Arbiter's {@link MultiLayerSpace} or
 * {@link ComputationGraphSpace}, whose updater may be a {@link DiscountedNadamSpace} or
 * {@link DelayCorrectedNesterovSpace}) or, for a SameDiff model, an updater space; plus a {@link PipelineSpace}.
 * It plugs into Arbiter's random and grid generators like any space:
 *
 * <pre>{@code
 * PipelineCandidateSpace space = PipelineCandidateSpace.sameDiff(
 *         DiscountedNadamSpace.builder().learningRate(new ContinuousParameterSpace(1e-4, 3e-3)).build(),
 *         PipelineSpace.builder().stages(4).weightStashing(true).build());
 * CandidateGenerator g = new RandomSearchGenerator(space, null);
 * }</pre>
 */
public final class PipelineCandidateSpace extends AbstractParameterSpace<PipelineCandidate> {

    private ParameterSpace<?> network;
    private ParameterSpace<IUpdater> updater;
    private PipelineSpace pipeline;

    /** For Arbiter's JSON. */
    private PipelineCandidateSpace() {
    }

    private PipelineCandidateSpace(ParameterSpace<?> network, ParameterSpace<IUpdater> updater, PipelineSpace pipeline) {
        this.network = network;
        this.updater = updater;
        this.pipeline = pipeline == null ? PipelineSpace.builder().build() : pipeline;
    }

    /** MultiLayerNetwork candidates: the network space (with its updater) and the pipeline settings. */
    public static PipelineCandidateSpace multiLayer(MultiLayerSpace network, PipelineSpace pipeline) {
        return new PipelineCandidateSpace(Objects.requireNonNull(network, "network"), null, pipeline);
    }

    /** ComputationGraph candidates: the graph space (with its updater) and the pipeline settings. */
    public static PipelineCandidateSpace graph(ComputationGraphSpace network, PipelineSpace pipeline) {
        return new PipelineCandidateSpace(Objects.requireNonNull(network, "network"), null, pipeline);
    }

    /**
     * Candidates for the task creator's SameDiff model: an updater space (null keeps the model's own updater) and the
     * pipeline settings.
     */
    public static PipelineCandidateSpace sameDiff(ParameterSpace<IUpdater> updater, PipelineSpace pipeline) {
        return new PipelineCandidateSpace(null, updater, pipeline);
    }

    @Override
    public PipelineCandidate getValue(double[] values) {
        PipelineConfig p = pipeline.getValue(values);
        if (network == null) {
            return PipelineCandidate.ofSameDiff(updater == null ? null : updater.getValue(values), p);
        }
        Object n = network.getValue(values);
        if (n instanceof DL4JConfiguration d) {
            return PipelineCandidate.of(d.getMultiLayerConfiguration(), p);
        }
        if (n instanceof GraphConfiguration g) {
            return PipelineCandidate.of(g.getConfiguration(), p);
        }
        throw new IllegalStateException("network space gave " + (n == null ? "null" : n.getClass().getName())
                + ", expected a DL4JConfiguration or GraphConfiguration");
    }

    public ParameterSpace<?> getNetwork() {
        return network;
    }

    public ParameterSpace<IUpdater> getUpdater() {
        return updater;
    }

    public PipelineSpace getPipeline() {
        return pipeline;
    }

    @Override
    @SuppressWarnings("rawtypes")
    public List<ParameterSpace> collectLeaves() {
        return Spaces.leaves(network, updater, pipeline);
    }

    @Override
    public int numParameters() {
        return Spaces.count(collectLeaves());
    }

    @Override
    public boolean isLeaf() {
        return false;
    }

    @Override
    public void setIndices(int... indices) {
        Spaces.assign("PipelineCandidateSpace", collectLeaves(), indices);
    }

    /** This space as Arbiter JSON. */
    public String toJson() {
        return Spaces.toJson(this);
    }

    /** Reads {@link #toJson()}. */
    public static PipelineCandidateSpace fromJson(String json) {
        return Spaces.fromJson(json, PipelineCandidateSpace.class);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PipelineCandidateSpace s && Objects.equals(network, s.network)
                && Objects.equals(updater, s.updater) && Objects.equals(pipeline, s.pipeline);
    }

    @Override
    public int hashCode() {
        return Objects.hash(network, updater, pipeline);
    }

    @Override
    public String toString() {
        return "PipelineCandidateSpace(" + (network != null ? "network=" + network : "updater=" + updater)
                + ", pipeline=" + pipeline + ")";
    }
}
