package io.asyncpipeline.partition;

import io.asyncpipeline.model.GraphPipelineModel;
import io.asyncpipeline.model.MultiLayerPipelineModel;
import io.asyncpipeline.stage.Message;
import io.asyncpipeline.stage.StageComputation;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Per-unit cost estimates for {@link Balancer}: measured forward+backward time on a sample batch, or
 * parameter count when no sample is given. A unit is a layer of a {@code MultiLayerNetwork} or a group of
 * consecutive vertices of a {@code ComputationGraph}; each is profiled as a one-unit pipeline stage, so the
 * time is that of the stage code the pipeline runs. Profiling does not change the model's parameters.
 */
public final class LayerProfiler {

    private LayerProfiler() {
    }

    /** Parameter count of each layer (a cost proxy for dense layers; poor for convolutions). */
    public static double[] byParameters(MultiLayerNetwork net) {
        double[] c = new double[net.getnLayers()];
        for (int i = 0; i < c.length; i++) {
            c[i] = Math.max(1, net.getLayer(i).numParams());
        }
        return c;
    }

    /** Median over {@code repeats} runs of each layer's forward+backward time on {@code sample}, in ns. */
    public static double[] byTime(MultiLayerNetwork net, DataSet sample, int repeats) {
        int[] ones = new int[net.getnLayers()];
        Arrays.fill(ones, 1);
        List<StageComputation> layers = MultiLayerPipelineModel.split(net, ones).stages();
        return byTime(layers, new Message(0, 0, (int) sample.getFeatures().size(0), new INDArray[] {sample.getFeatures()},
                new INDArray[] {sample.getLabels()}, masks(sample.getFeaturesMaskArray()), masks(sample.getLabelsMaskArray())),
                repeats);
    }

    /**
     * Median over {@code repeats} runs of the forward+backward time of each group of vertices on {@code sample},
     * in ns: group i is the next {@code groups[i]} vertices of {@link GraphPipelineModel#vertexOrder}, and every
     * network output must be in the last group. {@code sample} must fit the graph (features per input, labels
     * per output, masks optional).
     */
    public static double[] byTime(ComputationGraph graph, MultiDataSet sample, int[] groups, int repeats) {
        int[] slots = new int[groups.length];
        Arrays.fill(slots, 1);
        List<StageComputation> units = GraphPipelineModel.split(graph, groups, slots, new boolean[groups.length]).stages();
        return byTime(units, new Message(0, 0, (int) sample.getFeatures(0).size(0), sample.getFeatures(), sample.getLabels(),
                sample.getFeaturesMaskArrays(), sample.getLabelsMaskArrays()), repeats);
    }

    /**
     * Median over {@code repeats} runs of each unit's forward+backward time, in ns: the units run as a pipeline of
     * one-unit stages (one slot each) on the micro-batch {@code first}, forward in order, then backward in reverse.
     */
    public static double[] byTime(List<StageComputation> units, Message first, int repeats) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
        }
        int n = units.size();
        long[][] times = new long[n][repeats];
        for (int r = 0; r < repeats; r++) {
            profileOnce(units, first, times, r);
        }
        for (StageComputation u : units) {
            u.discardGradients();
        }
        double[] median = new double[n];
        for (int i = 0; i < n; i++) {
            long[] t = times[i].clone();
            Arrays.sort(t);
            median[i] = t[t.length / 2];
        }
        return median;
    }

    private static void profileOnce(List<StageComputation> units, Message first, long[][] times, int r) {
        int n = units.size();
        Message[] inputs = new Message[n];
        Message msg = first;
        for (int i = 0; i < n; i++) {
            inputs[i] = msg;
            long t0 = System.nanoTime();
            INDArray[] out = units.get(i).forward(msg, 0, 0, 0);
            times[i][r] = System.nanoTime() - t0;
            msg = new Message(0, 0, msg.examples(), out, msg.labels(), units.get(i).lastOutputMasks(), msg.labelMasks());
        }
        INDArray[] grads = null;
        for (int i = n - 1; i >= 0; i--) {
            long t0 = System.nanoTime();
            grads = units.get(i).backward(inputs[i], grads, 0);
            times[i][r] += System.nanoTime() - t0;
        }
    }

    private static INDArray[] masks(INDArray m) {
        return m == null ? null : new INDArray[] {m};
    }
}
