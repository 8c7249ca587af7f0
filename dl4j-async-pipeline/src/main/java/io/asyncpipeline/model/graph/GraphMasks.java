package io.asyncpipeline.model.graph;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Feature and label masks of a {@link GraphStage}, propagated as {@code ComputationGraph.setLayerMaskArrays}
 * propagates them through the whole graph.
 *
 * <p>A vertex's mask result is a pair (mask, {@link MaskState}) or no pair at all, and both the state and
 * the absence matter downstream (an LSTM passes its mask on as {@code Passthrough}, which an
 * {@code RnnOutputLayer} does not apply to its input; a vertex without a pair does not set the state of its
 * consumer). So what crosses a cut is, per crossing tensor, its mask, followed by one extra array of
 * state codes ({@link #NONE}: no pair, {@link #ACTIVE}, {@link #PASSTHROUGH}, {@link #NO_STATE}: a pair with
 * a null state), one per tensor. The first stage
 * receives the network input masks as they are (all {@code Active}, as in {@code ComputationGraph}). A
 * message without masks means the batch had no feature masks: no propagation, every layer mask cleared.
 */
final class GraphMasks {

    static final int NONE = 0;
    static final int ACTIVE = 1;
    static final int PASSTHROUGH = 2;
    static final int NO_STATE = 3;

    private GraphMasks() {
    }

    /** The mask pairs of the incoming tensors {@code names}, or null when the batch has no feature masks. */
    static Map<String, Pair<INDArray, MaskState>> decode(List<String> names, INDArray[] masks, boolean networkInputs) {
        if (masks == null) {
            return null;
        }
        int n = names.size();
        if (masks.length != (networkInputs ? n : n + 1)) {
            throw new IllegalStateException("expected " + (networkInputs ? n : n + 1) + " mask arrays for " + names
                    + ", got " + masks.length);
        }
        Map<String, Pair<INDArray, MaskState>> pairs = new HashMap<>();
        int[] states = networkInputs ? null : masks[n].toIntVector();
        for (int i = 0; i < n; i++) {
            int s = networkInputs ? ACTIVE : states[i];
            pairs.put(names.get(i), s == NONE ? null : new Pair<>(masks[i], s == ACTIVE ? MaskState.Active
                    : s == PASSTHROUGH ? MaskState.Passthrough : null));
        }
        return pairs;
    }

    /** The masks of the outgoing tensors {@code names} followed by their state codes; null without masks. */
    static INDArray[] encode(List<String> names, Map<String, Pair<INDArray, MaskState>> pairs) {
        if (pairs == null) {
            return null;
        }
        int n = names.size();
        INDArray[] out = new INDArray[n + 1];
        int[] states = new int[n];
        for (int i = 0; i < n; i++) {
            Pair<INDArray, MaskState> p = pairs.get(names.get(i));
            out[i] = p == null ? null : p.getFirst();
            states[i] = p == null ? NONE : p.getSecond() == null ? NO_STATE
                    : p.getSecond() == MaskState.Passthrough ? PASSTHROUGH : ACTIVE;
        }
        out[n] = Nd4j.createFromArray(states);
        return out;
    }

    /**
     * Clears the masks of {@code g}'s layers, then (with {@code pairs}) feeds the masks forward through its
     * vertices in topological order, adding each vertex's result to {@code pairs}; then sets the label masks
     * on the output layers, as {@code ComputationGraph.setLayerMaskArrays} does.
     */
    static void propagate(ComputationGraph g, Map<String, Pair<INDArray, MaskState>> pairs, INDArray[] labelMasks,
                          List<String> outputs, int batch) {
        g.clearLayerMaskArrays();
        GraphVertex[] vertices = g.getVertices();
        if (pairs != null) {
            for (int idx : g.topologicalSortOrder()) {
                GraphVertex current = vertices[idx];
                if (current.isInputVertex()) {
                    continue;
                }
                VertexIndices[] ins = current.getInputVertices();
                INDArray[] masks = null;
                MaskState state = null;
                for (int j = 0; j < ins.length; j++) {
                    Pair<INDArray, MaskState> p = pairs.get(vertices[ins[j].getVertexIndex()].getVertexName());
                    if (p != null) {
                        if (masks == null) {
                            masks = new INDArray[ins.length];
                        }
                        masks[j] = p.getFirst();
                        if (state == null || state == MaskState.Passthrough) {
                            state = p.getSecond();
                        }
                    }
                }
                pairs.put(current.getVertexName(), current.feedForwardMaskArrays(masks, state, batch));
            }
        }
        setLabelMasks(g, labelMasks, outputs, false);
    }

    /**
     * Label masks on the output layers. Propagation ({@code forScore == false}) sets only the non-null ones, over
     * the propagated feature masks; before the score, {@code ComputationGraph} sets every output's label mask, null included.
     */
    static void setLabelMasks(ComputationGraph g, INDArray[] labelMasks, List<String> outputs, boolean forScore) {
        if (labelMasks == null && !forScore) {
            return;
        }
        for (int j = 0; j < outputs.size(); j++) {
            INDArray m = labelMasks == null ? null : labelMasks[j];
            if (m != null || forScore) {
                Layer l = g.getVertex(outputs.get(j)).getLayer();
                l.setMaskArray(m);
            }
        }
    }
}
