package io.asyncpipeline.model.graph;

import io.asyncpipeline.model.CommonSetup;
import io.asyncpipeline.model.ModelSetup;
import io.asyncpipeline.model.Partitions;
import io.asyncpipeline.model.PipelineOptions;
import io.asyncpipeline.model.dl4j.Dl4jSetup;
import io.asyncpipeline.partition.Balancer;
import io.asyncpipeline.runtime.RunSettings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.impl.rnn.DuplicateToTimeSeriesVertex;
import org.deeplearning4j.nn.graph.vertex.impl.rnn.LastTimeStepVertex;
import org.deeplearning4j.nn.graph.vertex.impl.rnn.ReverseTimeSeriesVertex;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/** Checks the builder's options against a {@link ComputationGraph}, chooses the cuts and builds the stages. */
public final class GraphSetup implements ModelSetup {

    private static final int DEFAULT_STAGES = 2;
    private static final int PROFILE_REPEATS = 5;

    private final ComputationGraph graph;

    /** @param graph an initialised graph ({@code graph.init()} called) */
    public GraphSetup(ComputationGraph graph) {
        if (graph == null) {
            throw new IllegalArgumentException("graph is null");
        }
        this.graph = graph;
    }

    @Override
    public Built build(PipelineOptions o) {
        if (graph.getVertices() == null || graph.params() == null) {
            throw new IllegalArgumentException("the graph is not initialised: call graph.init() before wrapping it");
        }
        checkGraph(graph);
        int[] partition = partition(graph, o);
        int p = partition.length;
        CommonSetup.StageLayout layout = CommonSetup.layout(o, p);
        RunSettings settings = CommonSetup.runSettings(o, graph.getConfiguration().getDefaultConfiguration().getSeed(), layout);
        Dl4jSetup.checkBatchNorm(Arrays.asList(graph.getLayers()), o);
        GraphPipelineModel model = GraphPipelineModel.split(graph, partition, layout.slots(),
                layout.privateWeights());
        List<Layer[]> layers = new ArrayList<>();
        for (ComputationGraph sub : model.stageGraphs()) {
            layers.add(sub.getLayers());
        }
        Dl4jSetup.applyStageUpdaters(layers, o);
        return new Built(model, settings);
    }

    private static void checkGraph(ComputationGraph graph) {
        ComputationGraphConfiguration conf = graph.getConfiguration();
        if (conf.getBackpropType() == BackpropType.TruncatedBPTT) {
            throw new IllegalArgumentException("truncated BPTT is not supported by the pipeline: use BackpropType.Standard");
        }
        for (String o : conf.getNetworkOutputs()) {
            GraphVertex v = graph.getVertex(o);
            if (!v.hasLayer() || !(v.getLayer() instanceof IOutputLayer)) {
                throw new IllegalArgumentException("network output \"" + o + "\" must be an output or loss layer"
                        + " (IOutputLayer), got " + v.getClass().getSimpleName());
            }
        }
    }

    /** Vertices per stage, from cutAfter(...), partition(...), or balanced by measured time (profileWith) or parameter count. */
    static int[] partition(ComputationGraph graph, PipelineOptions o) {
        List<String> units = GraphPipelineModel.vertexOrder(graph);
        int n = units.size();
        if ((o.cutAfter() != null || o.partition() != null) && (o.profileSample() != null || o.profileMultiSample() != null)) {
            throw new IllegalArgumentException("profileWith(...) balances stages(P) by measured time; it has no effect with "
                    + (o.cutAfter() != null ? "cutAfter(...)" : "partition(...)") + ", which fixes the cuts: set only one of them");
        }
        if (o.cutAfter() != null) {
            if (o.partition() != null) {
                throw new IllegalArgumentException("set only one of partition(...) and cutAfter(...)");
            }
            int[] partition = cuts(graph, units, o.cutAfter());
            if (o.stages() != null && o.stages() != partition.length) {
                throw new IllegalArgumentException("stages(" + o.stages() + ") disagrees with cutAfter" + Arrays.toString(o.cutAfter())
                        + ", which makes " + partition.length + " stages: set only one of them");
            }
            return partition;
        }
        if (o.partition() != null) {
            if (o.stages() != null && o.stages() != o.partition().length) {
                throw new IllegalArgumentException("stages(" + o.stages() + ") disagrees with partition "
                        + Arrays.toString(o.partition()) + " of " + o.partition().length + " stages: set only one of them");
            }
            Partitions.validate(o.partition(), n, "vertices");
            return o.partition();
        }
        // every network output must be in the last stage: the tail from the first output on is one unit
        int firstOut = n - 1;
        for (String out : graph.getConfiguration().getNetworkOutputs()) {
            firstOut = Math.min(firstOut, units.indexOf(out));
        }
        int p = o.stages() != null ? o.stages() : Math.min(DEFAULT_STAGES, firstOut + 1);
        if (p < 1) {
            throw new IllegalArgumentException("stages must be >= 1, got " + p);
        }
        if (p > firstOut + 1) {
            throw new IllegalArgumentException("cannot make " + p + " stages from this graph: every network output must be"
                    + " in the last stage and \"" + units.get(firstOut) + "\" is vertex " + (firstOut + 1) + " of " + n
                    + " in topological order, so use at most " + (firstOut + 1) + " stages");
        }
        double[] costs = new double[firstOut + 1];
        MultiDataSet sample = profileSample(graph, o);
        if (sample != null) {
            int[] groups = new int[firstOut + 1];
            Arrays.fill(groups, 1);
            groups[firstOut] = n - firstOut;
            costs = GraphPipelineModel.timePerGroup(graph, sample, groups, PROFILE_REPEATS);
        } else {
            for (int i = 0; i < n; i++) {
                costs[Math.min(i, firstOut)] += graph.getVertex(units.get(i)).numParams();
            }
        }
        int[] sizes = Balancer.balance(costs, p);
        sizes[p - 1] += n - 1 - firstOut;
        if (sample == null) {
            Dl4jSetup.reportParameterBalance(Arrays.asList(graph.getLayers()), sizes, "vertices");
        }
        return sizes;
    }

    private static int[] cuts(ComputationGraph graph, List<String> units, String[] names) {
        List<String> inputs = graph.getConfiguration().getNetworkInputs();
        int n = units.size();
        int[] sizes = new int[names.length + 1];
        int previous = -1;
        for (int i = 0; i < names.length; i++) {
            String name = names[i];
            if (name != null && inputs.contains(name)) {
                throw new IllegalArgumentException("cutAfter(\"" + name + "\"): \"" + name + "\" is a network input, not a"
                        + " vertex; cut after a layer or vertex. Vertices in topological order: " + units);
            }
            int pos = units.indexOf(name);
            if (pos < 0) {
                throw new IllegalArgumentException("cutAfter(\"" + name + "\"): the graph has no vertex named \"" + name
                        + "\". Vertices in topological order: " + units);
            }
            if (pos == previous) {
                throw new IllegalArgumentException("cutAfter" + Arrays.toString(names) + " names \"" + name + "\" twice,"
                        + " which leaves stage " + i + " empty: name each cut vertex once");
            }
            if (pos < previous) {
                throw new IllegalArgumentException("cutAfter" + Arrays.toString(names) + " is not in topological order: \""
                        + name + "\" comes before \"" + names[i - 1] + "\". List the cuts in topological order: " + units);
            }
            if (pos == n - 1) {
                throw new IllegalArgumentException("cutAfter(\"" + name + "\") leaves stage " + (i + 1) + " empty: \"" + name
                        + "\" is the last vertex in topological order. Cut before it; vertices: " + units);
            }
            sizes[i] = pos - previous;
            previous = pos;
        }
        sizes[names.length] = n - 1 - previous;
        return sizes;
    }

    /** The profileWith sample as a MultiDataSet, checked against the graph; null without one. */
    private static MultiDataSet profileSample(ComputationGraph graph, PipelineOptions o) {
        MultiDataSet sample = o.profileMultiSample();
        if (sample == null && o.profileSample() != null) {
            DataSet ds = o.profileSample();
            sample = new org.nd4j.linalg.dataset.MultiDataSet(ds.getFeatures(), ds.getLabels(), ds.getFeaturesMaskArray(),
                    ds.getLabelsMaskArray());
        }
        if (sample == null) {
            return null;
        }
        List<String> inputs = graph.getConfiguration().getNetworkInputs();
        List<String> outputs = graph.getConfiguration().getNetworkOutputs();
        int nf = sample.getFeatures() == null ? 0 : sample.getFeatures().length;
        int nl = sample.getLabels() == null ? 0 : sample.getLabels().length;
        if (nf != inputs.size() || nl != outputs.size()) {
            throw new IllegalArgumentException("profileWith: the sample has " + nf + " feature and " + nl + " label arrays but"
                    + " the graph has " + inputs.size() + " inputs " + inputs + " and " + outputs.size() + " outputs " + outputs
                    + ": pass a MultiDataSet with features in input order and labels in output order");
        }
        try {
            checkBatch(graph, sample);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("profileWith: the sample does not fit the graph: " + e.getMessage(), e);
        }
        return sample;
    }

    /** Checks one batch against the graph's inputs and outputs. */
    static void checkBatch(ComputationGraph graph, MultiDataSet mds) {
        INDArray[] f = mds.getFeatures();
        INDArray[] y = mds.getLabels();
        int nIn = graph.getConfiguration().getNetworkInputs().size();
        int nOut = graph.getConfiguration().getNetworkOutputs().size();
        if (f == null || f.length != nIn) {
            throw new IllegalArgumentException("a batch has " + (f == null ? 0 : f.length) + " feature arrays but the graph"
                    + " has " + nIn + " inputs " + graph.getConfiguration().getNetworkInputs()
                    + ": a DataSetIterator feeds one input and one output; use fit(MultiDataSetIterator)");
        }
        if (y == null || y.length != nOut) {
            throw new IllegalArgumentException("a batch has " + (y == null ? 0 : y.length) + " label arrays but the graph"
                    + " has " + nOut + " outputs " + graph.getConfiguration().getNetworkOutputs()
                    + ": a DataSetIterator feeds one input and one output; use fit(MultiDataSetIterator)");
        }
        long examples = f[0].size(0);
        if (examples == 0) {
            throw new IllegalArgumentException("a batch with 0 examples cannot be trained on");
        }
        for (INDArray a : concat(f, y)) {
            if (a == null || a.size(0) != examples) {
                throw new IllegalArgumentException("every feature and label array of a batch needs " + examples
                        + " examples (rows), got " + (a == null ? "null" : Arrays.toString(a.shape())));
            }
        }
        checkMasks(mds.getFeaturesMaskArrays(), nIn, "feature", "inputs", examples);
        checkMasks(mds.getLabelsMaskArrays(), nOut, "label", "outputs", examples);
        if (hasMask(mds.getFeaturesMaskArrays())) {
            for (GraphVertex v : graph.getVertices()) {
                if (v instanceof LastTimeStepVertex || v instanceof ReverseTimeSeriesVertex
                        || v instanceof DuplicateToTimeSeriesVertex) {
                    throw new IllegalArgumentException("vertex \"" + v.getVertexName() + "\" is a " + v.getClass().getSimpleName()
                            + ", which reads a network input's feature mask directly rather than the mask propagated to it;"
                            + " a pipeline stage cannot give it that mask. Train without feature masks, or use"
                            + " the LastTimeStep layer wrapper, which uses the propagated mask");
                }
            }
        }
    }

    private static void checkMasks(INDArray[] masks, int n, String kind, String what, long examples) {
        if (masks == null) {
            return;
        }
        if (masks.length != n) {
            throw new IllegalArgumentException("a batch has " + masks.length + " " + kind + " mask arrays but the graph has "
                    + n + " " + what + ": give one mask per " + what.substring(0, what.length() - 1) + " (null for none)");
        }
        for (INDArray m : masks) {
            if (m != null && m.size(0) != examples) {
                throw new IllegalArgumentException("every " + kind + " mask of a batch needs " + examples
                        + " examples (rows), got " + Arrays.toString(m.shape()));
            }
        }
    }

    private static boolean hasMask(INDArray[] masks) {
        if (masks != null) {
            for (INDArray m : masks) {
                if (m != null) {
                    return true;
                }
            }
        }
        return false;
    }

    private static INDArray[] concat(INDArray[] a, INDArray[] b) {
        INDArray[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
