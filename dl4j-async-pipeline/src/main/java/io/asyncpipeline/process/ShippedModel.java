package io.asyncpipeline.process;

import io.asyncpipeline.model.ModelSetup;
import io.asyncpipeline.model.graph.GraphSetup;
import io.asyncpipeline.model.multilayer.MultiLayerSetup;
import io.asyncpipeline.model.samediff.SameDiffSetup;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * A user's model as it travels to a stage host: DL4J's own serialisation with the updater state
 * ({@code ModelSerializer.writeModel(model, out, true)}, or {@code sd.save(out, true)} for SameDiff), so the host's
 * copy has the same parameters, optimizer state and counters, bit for bit.
 */
record ShippedModel(byte kind, byte[] bytes) {

    static final byte MULTI_LAYER = 1;
    static final byte GRAPH = 2;
    static final byte SAME_DIFF = 3;

    /** Serialises {@code model} (a MultiLayerNetwork, ComputationGraph or SameDiff) as it is now. */
    static ShippedModel of(Object model) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (model instanceof MultiLayerNetwork net) {
                ModelSerializer.writeModel(net, out, true);
                return new ShippedModel(MULTI_LAYER, out.toByteArray());
            }
            if (model instanceof ComputationGraph graph) {
                ModelSerializer.writeModel(graph, out, true);
                return new ShippedModel(GRAPH, out.toByteArray());
            }
            if (model instanceof SameDiff sd) {
                sd.save(out, true);
                return new ShippedModel(SAME_DIFF, out.toByteArray());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the model for the stage processes", e);
        }
        throw notShippable(model);
    }

    /** Fails now, not at the first fit, for a model that cannot travel (without serialising it). */
    static void requireShippable(Object model) {
        if (!(model instanceof MultiLayerNetwork || model instanceof ComputationGraph || model instanceof SameDiff)) {
            throw notShippable(model);
        }
    }

    private static IllegalArgumentException notShippable(Object model) {
        return new IllegalArgumentException("stage processes train a MultiLayerNetwork, ComputationGraph or SameDiff,"
                + " not " + (model == null ? "null" : model.getClass().getName()));
    }

    /** The host's copy of the model, and the setup that cuts it into stages. */
    ModelSetup restore() throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(bytes);
        return switch (kind) {
            case MULTI_LAYER -> new MultiLayerSetup(ModelSerializer.restoreMultiLayerNetwork(in, true));
            case GRAPH -> new GraphSetup(ModelSerializer.restoreComputationGraph(in, true));
            case SAME_DIFF -> new SameDiffSetup(SameDiff.load(in, true));
            default -> throw new IOException("unknown model kind " + kind);
        };
    }
}
