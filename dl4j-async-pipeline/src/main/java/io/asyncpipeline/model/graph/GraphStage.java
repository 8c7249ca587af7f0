package io.asyncpipeline.model.graph;

import io.asyncpipeline.transport.Message;
import io.asyncpipeline.model.dl4j.Dl4jEvents;
import io.asyncpipeline.model.dl4j.Dl4jStage;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.deeplearning4j.nn.api.Layer;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One stage of a {@link ComputationGraph}: a sub-graph over a contiguous range of the user's graph's
 * vertices in topological order, whose parameters are a view of the user's parameter vector.
 *
 * <p>Routing over the cuts: the incoming message carries one tensor per name of {@code inNames} (the
 * activations produced before this stage and consumed here or later); the outgoing message one per name
 * of {@code outNames} (produced up to this stage, consumed later). A name in both lists that this stage
 * does not produce passes through unchanged, and its gradient passes back, plus the gradient of any
 * consumer inside this stage. Gradients of an activation with several consumers are summed in reverse
 * topological order of the consumers, as {@code ComputationGraph} sums them.
 *
 * <p>Forward and backward drive the sub-graph's vertices directly ({@code setInput}, {@code doForward},
 * {@code setEpsilon}, {@code doBackward}) with the workspace policy of every DL4J stage ({@link Dl4jStage});
 * the update runs DL4J's own {@link ComputationGraphUpdater} of the sub-graph.
 *
 * <p>Masks: each forward feeds the incoming feature masks through the sub-graph's vertices as
 * {@code ComputationGraph.setLayerMaskArrays} does, and sends on the masks (and mask states) of its outgoing
 * tensors; the last stage sets the label masks on its output layers ({@link GraphMasks}).
 */
final class GraphStage extends Dl4jStage<ComputationGraph> {

    private final boolean first;
    private final boolean last;
    private final List<String> inNames;
    private final List<String> outNames;
    private final List<String> subInputs;
    private final Map<String, List<String>> vertexInputs;
    private final List<String> outputs;
    private INDArray[] outputMasks;

    /**
     * @param replicas       graphs built like {@code sub} (one per extra slot, or one per slot with private weights)
     * @param privateWeights true: {@code replicas} are all the slots, each on its own weight copy
     */
    GraphStage(ComputationGraph sub, List<ComputationGraph> replicas, boolean first, boolean last, boolean privateWeights,
               List<String> inNames, List<String> outNames) {
        super(withGradients(sub), replicas, privateWeights, sub.getVertices().length);
        this.first = first;
        this.last = last;
        this.inNames = List.copyOf(inNames);
        this.outNames = List.copyOf(outNames);
        this.subInputs = List.copyOf(sub.getConfiguration().getNetworkInputs());
        this.vertexInputs = sub.getConfiguration().getVertexInputs();
        this.outputs = List.copyOf(sub.getConfiguration().getNetworkOutputs());
    }

    private static ComputationGraph withGradients(ComputationGraph sub) {
        sub.initGradientsView();
        return sub;
    }

    private static boolean isOutputLayer(GraphVertex v) {
        return v.hasLayer() && v.getLayer() instanceof IOutputLayer;
    }

    @Override
    protected INDArray[] computeForward(Message input, int slot, int iteration, int epoch) {
        ComputationGraph g = slot(slot);
        INDArray[] tensors = input.tensors();
        Map<String, INDArray> env = new HashMap<>();
        for (int i = 0; i < inNames.size(); i++) {
            env.put(inNames.get(i), tensors[i]);
        }
        INDArray[] in = new INDArray[subInputs.size()];
        for (int i = 0; i < in.length; i++) {
            in[i] = env.get(subInputs.get(i));
        }
        g.setInputs(in); // the sub-graph's batch size (used by preprocessors) comes from its inputs or labels
        if (last) {
            g.setLabels(input.labels());
        }
        Map<String, Pair<INDArray, MaskState>> masks = GraphMasks.decode(inNames, input.featureMasks(), first);
        GraphMasks.propagate(g, masks, last ? input.labelMasks() : null, outputs, input.examples());
        outputMasks = last ? null : GraphMasks.encode(outNames, masks);
        counters(g, iteration, epoch);
        GraphVertex[] vertices = g.getVertices();
        for (int idx : g.topologicalSortOrder()) {
            GraphVertex v = vertices[idx];
            INDArray out;
            if (v.isInputVertex()) {
                out = env.get(v.getVertexName());
            } else if (isOutputLayer(v)) {
                continue; // as in ComputationGraph: output layers only get their input; the loss is computed in backward
            } else {
                try (MemoryWorkspace ws = mgr.notifyScopeEntered(ArrayType.FF_WORKING_MEM)) {
                    out = v.doForward(true, mgr);
                }
                env.put(v.getVertexName(), out);
            }
            VertexIndices[] consumers = v.getOutputVertices();
            if (consumers != null) {
                for (VertexIndices c : consumers) {
                    vertices[c.getVertexIndex()].setInput(c.getVertexEdgeNumber(), out, mgr);
                }
            }
        }
        INDArray[] out = new INDArray[outNames.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = env.get(outNames.get(i));
        }
        return out;
    }

    /** The masks of the outgoing tensors with their mask states (see {@link GraphMasks}); null without feature masks. */
    @Override
    public INDArray[] lastOutputMasks() {
        return outputMasks;
    }

    @Override
    protected INDArray[] computeBackward(Message input, INDArray[] outputGradients, int slot) {
        ComputationGraph g = slot(slot);
        GraphVertex[] vertices = g.getVertices();
        Map<String, INDArray> eps = new HashMap<>();
        if (!last && outputGradients != null) {
            for (int i = 0; i < outNames.size(); i++) {
                if (outputGradients[i] != null) {
                    eps.put(outNames.get(i), outputGradients[i]);
                }
            }
        }
        if (last) {
            for (int j = 0; j < outputs.size(); j++) {
                ((IOutputLayer) g.getVertex(outputs.get(j)).getLayer()).setLabels(input.labels()[j]);
            }
        }
        gradients.beforeBackward(sub.getGradientsViewArray());
        int[] order = g.topologicalSortOrder();
        for (int i = order.length - 1; i >= 0; i--) {
            GraphVertex v = vertices[order[i]];
            if (v.isInputVertex()) {
                continue;
            }
            String name = v.getVertexName();
            if (!isOutputLayer(v)) {
                INDArray e = eps.get(name);
                if (e == null) {
                    throw new IllegalStateException("no gradient reached the output of vertex \"" + name
                            + "\": every vertex output must be consumed by a vertex with a gradient");
                }
                v.setEpsilon(e);
            }
            Pair<Gradient, INDArray[]> p;
            try (MemoryWorkspace ws = mgr.notifyScopeEntered(ArrayType.BP_WORKING_MEM)) {
                p = v.doBackward(false, mgr);
            }
            if (p.getFirst() != null) {
                unitGradients.put(name, p.getFirst());
            }
            INDArray[] inputEps = p.getSecond();
            List<String> ins = vertexInputs.get(name);
            for (int j = 0; j < ins.size() && inputEps != null && j < inputEps.length; j++) {
                if (inputEps[j] != null) {
                    // consumers later in topological order were added first: same summation order as ComputationGraph
                    eps.merge(ins.get(j), inputEps[j], (sum, e) -> sum.add(e));
                }
            }
        }
        gradients.afterBackward(sub.getGradientsViewArray());
        if (last) {
            GraphMasks.setLabelMasks(g, input.labelMasks(), outputs, true); // as ComputationGraph does before the score
            double score = 0;
            try (MemoryWorkspace ws = mgr.notifyScopeEntered(ArrayType.FF_WORKING_MEM)) {
                for (String o : outputs) {
                    score += ((IOutputLayer) g.getVertex(o).getLayer()).computeScore(0.0, true, mgr);
                }
            }
            lastScore = score;
        }
        if (first) {
            return null;
        }
        INDArray[] back = new INDArray[inNames.size()];
        for (int i = 0; i < back.length; i++) {
            back[i] = eps.get(inNames.get(i));
        }
        return back;
    }

    @Override
    protected void applyUpdater(Gradient g, int iteration, int epoch, int examples) {
        sub.getUpdater().update(g, iteration, epoch, examples, mgr);
    }

    @Override
    protected void setCounters(ComputationGraph g, int iteration, int epoch) {
        counters(g, iteration, epoch);
    }

    @Override
    protected Layer[] layers(ComputationGraph g) {
        return g.getLayers();
    }

    /** The graph's and its layers' iteration and epoch counters. */
    static void counters(ComputationGraph g, int iteration, int epoch) {
        g.getConfiguration().setIterationCount(iteration);
        g.getConfiguration().setEpochCount(epoch);
        Dl4jEvents.setLayerCounters(g.getLayers(), iteration, epoch);
    }

    @Override
    public List<INDArray> optimizerState() {
        INDArray state = sub.getUpdater().getStateViewArray();
        return state == null || state.length() == 0 ? List.of() : List.of(state);
    }
}
