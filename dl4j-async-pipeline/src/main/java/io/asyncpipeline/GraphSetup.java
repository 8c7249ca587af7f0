package io.asyncpipeline;

import io.asyncpipeline.model.GraphPipelineModel;
import io.asyncpipeline.model.Partitions;
import io.asyncpipeline.partition.Balancer;
import io.asyncpipeline.partition.LayerProfiler;
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

/** Validates builder options against a {@link ComputationGraph} and assembles the wrapper. */
final class GraphSetup {

    private static final int DEFAULT_STAGES = 2;
    private static final int PROFILE_REPEATS = 5;

    private GraphSetup() {
    }

    static AsyncPipelineWrapper build(ComputationGraph graph, PipelineBuilder<?> b) {
        if (graph.getVertices() == null || graph.params() == null) {
            throw new IllegalArgumentException("the graph is not initialised: call graph.init() before wrapping it");
        }
        checkGraph(graph);
        int[] partition = partition(graph, b);
        PipelineSettings settings = MultiLayerSetup.settings(b, graph.getConfiguration().getDefaultConfiguration().getSeed(),
                partition.length);
        MultiLayerSetup.checkBatchNorm(Arrays.asList(graph.getLayers()), b);
        GraphPipelineModel model = GraphPipelineModel.split(graph, partition, MultiLayerSetup.slots(b, partition.length),
                MultiLayerSetup.privateWeights(b, partition.length));
        List<Layer[]> layers = new ArrayList<>();
        for (ComputationGraph sub : model.stageGraphs()) {
            layers.add(sub.getLayers());
        }
        MultiLayerSetup.applyStageUpdaters(layers, b);
        return new AsyncPipelineWrapper(model, settings, null, mds -> checkBatch(graph, mds));
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
    static int[] partition(ComputationGraph graph, PipelineBuilder<?> b) {
        List<String> units = GraphPipelineModel.vertexOrder(graph);
        int n = units.size();
        if ((b.cutAfter != null || b.partition != null) && (b.profileSample != null || b.profileMultiSample != null)) {
            throw new IllegalArgumentException("profileWith(...) balances stages(P) by measured time; it has no effect with "
                    + (b.cutAfter != null ? "cutAfter(...)" : "partition(...)") + ", which fixes the cuts: set only one of them");
        }
        if (b.cutAfter != null) {
            if (b.partition != null) {
                throw new IllegalArgumentException("set only one of partition(...) and cutAfter(...)");
            }
            int[] partition = cuts(graph, units, b.cutAfter);
            if (b.stages != null && b.stages != partition.length) {
                throw new IllegalArgumentException("stages(" + b.stages + ") disagrees with cutAfter" + Arrays.toString(b.cutAfter)
                        + ", which makes " + partition.length + " stages: set only one of them");
            }
            return partition;
        }
        if (b.partition != null) {
            if (b.stages != null && b.stages != b.partition.length) {
                throw new IllegalArgumentException("stages(" + b.stages + ") disagrees with partition "
                        + Arrays.toString(b.partition) + " of " + b.partition.length + " stages: set only one of them");
            }
            Partitions.validate(b.partition, n, "vertices");
            return b.partition.clone();
        }
        // every network output must be in the last stage: the tail from the first output on is one unit
        int firstOut = n - 1;
        for (String o : graph.getConfiguration().getNetworkOutputs()) {
            firstOut = Math.min(firstOut, units.indexOf(o));
        }
        int p = b.stages != null ? b.stages : Math.min(DEFAULT_STAGES, firstOut + 1);
        if (p < 1) {
            throw new IllegalArgumentException("stages must be >= 1, got " + p);
        }
        if (p > firstOut + 1) {
            throw new IllegalArgumentException("cannot make " + p + " stages from this graph: every network output must be"
                    + " in the last stage and \"" + units.get(firstOut) + "\" is vertex " + (firstOut + 1) + " of " + n
                    + " in topological order, so use at most " + (firstOut + 1) + " stages");
        }
        double[] costs = new double[firstOut + 1];
        MultiDataSet sample = profileSample(graph, b);
        if (sample != null) {
            int[] groups = new int[firstOut + 1];
            Arrays.fill(groups, 1);
            groups[firstOut] = n - firstOut;
            costs = LayerProfiler.byTime(graph, sample, groups, PROFILE_REPEATS);
        } else {
            for (int i = 0; i < n; i++) {
                costs[Math.min(i, firstOut)] += graph.getVertex(units.get(i)).numParams();
            }
        }
        int[] sizes = Balancer.balance(costs, p);
        sizes[p - 1] += n - 1 - firstOut;
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
    private static MultiDataSet profileSample(ComputationGraph graph, PipelineBuilder<?> b) {
        MultiDataSet sample = b.profileMultiSample;
        if (sample == null && b.profileSample != null) {
            DataSet ds = b.profileSample;
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
