package io.asyncpipeline.model.graph;

import io.asyncpipeline.model.Partitions;
import io.asyncpipeline.model.dl4j.Dl4jPipelineModel;
import io.asyncpipeline.model.dl4j.LayerProfiler;
import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.transport.Message;
import java.util.Collection;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A {@link ComputationGraph} cut into stages of consecutive vertices in the graph's topological order.
 *
 * <p>Parameters: {@code ComputationGraph} lays its flat parameter vector out vertex by vertex in its
 * topological order, so a stage's vertices own one contiguous range of it. Each stage is a sub-graph
 * built from a clone of the user's configuration holding the stage's vertices, whose network inputs are
 * the crossing activations it consumes. The sub-graph's configuration is given the parent's topological
 * order (restricted to the stage) as its cached order, so its own flat layout equals that range, and it
 * is initialised on a view of it: no copies; every update is visible in the user's graph at once
 * (checked vertex by vertex at construction).
 *
 * <p>Crossings: cut b (after stage b) carries every network input or vertex output produced at or
 * before stage b and consumed after it, in the parent's topological order (network inputs first). So an
 * activation consumed two stages later travels through the stage in between, and its gradient back.
 */
public final class GraphPipelineModel extends Dl4jPipelineModel<ComputationGraph, GraphStage> {

    private final ComputationGraph graph;
    private final List<List<String>> crossing = new ArrayList<>();
    private final List<String> cutAfter = new ArrayList<>();

    private GraphPipelineModel(ComputationGraph graph, int[] partition, int[] slots, boolean[] privateWeights) {
        super(graph, partition);
        this.graph = graph;
        int p = partition.length;
        ComputationGraphConfiguration conf = graph.getConfiguration();
        List<String> units = vertexOrder(graph);
        List<String> inputs = conf.getNetworkInputs();
        Map<String, Integer> stageOf = new HashMap<>();
        for (String in : inputs) {
            stageOf.put(in, -1);
        }
        int u = 0;
        for (int k = 0; k < p; k++) {
            for (int i = 0; i < partition[k]; i++) {
                stageOf.put(units.get(u++), k);
            }
        }
        Map<String, Integer> lastUse = new HashMap<>();
        for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
            int consumer = stageOf.get(e.getKey());
            for (String in : e.getValue()) {
                lastUse.merge(in, consumer, Math::max);
            }
        }
        List<String> all = new ArrayList<>(inputs);
        all.addAll(units);
        for (int b = 0; b < p - 1; b++) {
            List<String> names = new ArrayList<>();
            for (String n : all) {
                if (stageOf.get(n) <= b && lastUse.getOrDefault(n, -1) > b) {
                    names.add(n);
                }
            }
            crossing.add(names);
        }
        INDArray params = graph.params();
        INDArray flat = params.reshape(params.length());
        long offset = 0;
        u = 0;
        for (int k = 0; k < p; k++) {
            List<String> members = units.subList(u, u + partition[k]);
            List<String> in = k == 0 ? inputs : crossing.get(k - 1);
            List<String> out = k == p - 1 ? List.of() : crossing.get(k);
            List<String> subInputs = new ArrayList<>();
            for (String n : in) {
                for (String m : members) {
                    if (conf.getVertexInputs().get(m).contains(n)) {
                        subInputs.add(n);
                        break;
                    }
                }
            }
            List<String> subOutputs = new ArrayList<>();
            if (k == p - 1) {
                subOutputs.addAll(conf.getNetworkOutputs());
            } else {
                for (String n : out) {
                    if (stageOf.get(n) == k) {
                        subOutputs.add(n);
                    }
                }
            }
            long n = 0;
            for (String m : members) {
                n += graph.getVertex(m).numParams();
            }
            INDArray view = n == 0 ? null : flat.get(NDArrayIndex.interval(offset, offset + n)).reshape(1, n);
            ComputationGraph sub = subGraph(members, subInputs, subOutputs);
            sub.init(view, false);
            checkSharesParameters(sub, members);
            boolean own = privateWeights[k] && view != null;
            List<ComputationGraph> replicas = new ArrayList<>();
            for (int r = own ? 0 : 1; r < slots[k]; r++) {
                ComputationGraph replica = subGraph(members, subInputs, subOutputs);
                replica.init(own ? view.dup() : view, false);
                replicas.add(replica);
            }
            addStage(new GraphStage(sub, replicas, k == 0, k == p - 1, own, in, out), offset);
            if (k < p - 1) {
                cutAfter.add(members.get(members.size() - 1));
            }
            offset += n;
            u += partition[k];
        }
    }

    /**
     * Cuts {@code graph} into stages of {@code partition[k]} vertices each (network inputs not counted), in
     * the order of {@link #vertexOrder}; stage k gets {@code slots[k]} activation slots, each with a private
     * weight copy where {@code privateWeights[k]}.
     *
     * @throws IllegalArgumentException if the partition does not cover the vertices exactly, or an output
     *                                  layer is not in the last stage
     */
    public static GraphPipelineModel split(ComputationGraph graph, int[] partition, int[] slots, boolean[] privateWeights) {
        if (graph.getVertices() == null) {
            throw new IllegalArgumentException("the graph is not initialised: call graph.init() before wrapping it");
        }
        List<String> units = vertexOrder(graph);
        Partitions.validate(partition, units.size(), "vertices");
        Partitions.validateSlots(slots, privateWeights, partition.length);
        int lastStart = units.size() - partition[partition.length - 1];
        for (String o : graph.getConfiguration().getNetworkOutputs()) {
            if (units.indexOf(o) < lastStart) {
                throw new IllegalArgumentException("output \"" + o + "\" is not in the last stage: every network output"
                        + " must be in the last stage; move the last cut before \"" + o + "\" (topological order: "
                        + units + ")");
            }
        }
        return new GraphPipelineModel(graph, partition, slots, privateWeights);
    }

    /**
     * Median over {@code repeats} runs of the forward+backward time of each group of vertices on {@code sample},
     * in ns: group i is the next {@code groups[i]} vertices of {@link #vertexOrder}, and every network output must
     * be in the last group. {@code sample} must fit the graph (features per input, labels per output, masks optional).
     */
    public static double[] timePerGroup(ComputationGraph graph, MultiDataSet sample, int[] groups, int repeats) {
        int[] slots = new int[groups.length];
        Arrays.fill(slots, 1);
        List<StageComputation> units = split(graph, groups, slots, new boolean[groups.length]).stages();
        return LayerProfiler.byTime(units, new Message(0, 0, (int) sample.getFeatures(0).size(0), sample.getFeatures(),
                sample.getLabels(), sample.getFeaturesMaskArrays(), sample.getLabelsMaskArrays()), repeats);
    }

    /** The graph's non-input vertices in its topological order (the order of its flat parameter vector). */
    public static List<String> vertexOrder(ComputationGraph graph) {
        GraphVertex[] vertices = graph.getVertices();
        List<String> out = new ArrayList<>();
        for (int idx : graph.topologicalSortOrder()) {
            if (!vertices[idx].isInputVertex()) {
                out.add(vertices[idx].getVertexName());
            }
        }
        return out;
    }

    /** A graph of {@code members} (in parent topological order) fed by {@code inputs}, with the parent's order cached. */
    private ComputationGraph subGraph(List<String> members, List<String> inputs, List<String> outputs) {
        ComputationGraphConfiguration parent = graph.getConfiguration();
        ComputationGraphConfiguration conf = parent.clone();
        LinkedHashMap<String, org.deeplearning4j.nn.conf.graph.GraphVertex> vertices = new LinkedHashMap<>();
        LinkedHashMap<String, List<String>> vertexInputs = new LinkedHashMap<>();
        for (String m : members) {
            vertices.put(m, conf.getVertices().get(m));
            vertexInputs.put(m, new ArrayList<>(parent.getVertexInputs().get(m)));
        }
        conf.setVertices(vertices);
        conf.setVertexInputs(vertexInputs);
        conf.setNetworkInputs(new ArrayList<>(inputs));
        conf.setNetworkOutputs(new ArrayList<>(outputs));
        // vertex index i = position i: inputs first, then the members in the parent's topological order
        int[] order = new int[inputs.size() + members.size()];
        List<String> names = new ArrayList<>(inputs);
        names.addAll(members);
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        conf.setTopologicalOrder(order);
        conf.setTopologicalOrderStr(names);
        ComputationGraph sub = new ComputationGraph(conf);
        return sub;
    }

    /** Parameter layout invariant: every layer of the sub-graph sees the parent's values for that layer. */
    private void checkSharesParameters(ComputationGraph sub, List<String> members) {
        for (String m : members) {
            GraphVertex pv = graph.getVertex(m);
            GraphVertex sv = sub.getVertex(m);
            if (pv.numParams() != sv.numParams() || pv.numParams() > 0 && !pv.params().equals(sv.params())) {
                throw new IllegalStateException("stage parameter layout differs from the graph's at vertex \"" + m + "\"");
            }
        }
        for (org.deeplearning4j.nn.api.Layer l : sub.getLayers()) {
            l.allowInputModification(false); // crossing activations may be shared with other stages and the stash
        }
    }

    /** The stage sub-graphs (for per-stage updater settings and tests). */
    public List<ComputationGraph> stageGraphs() {
        List<ComputationGraph> out = new ArrayList<>();
        for (GraphStage s : stageList()) {
            out.add(s.model());
        }
        return out;
    }

    @Override
    public String unit() {
        return "vertices";
    }

    /** The last vertex (in topological order) of every stage but the last. */
    @Override
    public List<String> cutAfter() {
        return Collections.unmodifiableList(cutAfter);
    }

    /**
     * The names whose activations cross each cut, in the order of the message tensors: every network input or
     * vertex output produced before the cut and consumed after it.
     */
    @Override
    public List<List<String>> crossing() {
        List<List<String>> out = new ArrayList<>();
        for (List<String> b : crossing) {
            out.add(Collections.unmodifiableList(b));
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public boolean takesMultiDataSets() {
        return true;
    }

    @Override
    public void checkBatch(MultiDataSet batch) {
        GraphSetup.checkBatch(graph, batch);
    }

    @Override
    public int iterationCount() {
        return graph.getIterationCount();
    }

    @Override
    public int epochCount() {
        return graph.getEpochCount();
    }

    @Override
    public void setCounters(int iteration, int epoch) {
        GraphStage.counters(graph, iteration, epoch);
    }

    @Override
    protected void recordScore(double score, int iteration) {
        graph.setScore(score);
        graph.getConfiguration().setIterationCount(iteration);
    }

    @Override
    protected Updater userUpdater() {
        return graph.getUpdater();
    }

    @Override
    protected Updater stageUpdater(GraphStage stage) {
        return stage.model().getUpdater();
    }

    @Override
    protected Collection<TrainingListener> listeners() {
        return graph.getListeners();
    }

    @Override
    public String toString() {
        return "GraphPipelineModel" + Arrays.toString(partition());
    }
}
