package io.asyncpipeline.partition;

import io.asyncpipeline.model.MultiLayerPipelineModel;
import io.asyncpipeline.stage.Message;
import io.asyncpipeline.stage.StageComputation;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;

/**
 * Per-layer cost estimates for {@link Balancer}: measured forward+backward time on a sample batch,
 * or parameter count when no sample is given. Profiling does not change the network's parameters.
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
        int n = net.getnLayers();
        int[] ones = new int[n];
        Arrays.fill(ones, 1);
        List<StageComputation> layers = MultiLayerPipelineModel.split(net, ones).stages();
        long[][] times = new long[n][repeats];
        for (int r = 0; r < repeats; r++) {
            profileOnce(layers, sample, times, r);
        }
        double[] median = new double[n];
        for (int i = 0; i < n; i++) {
            long[] t = times[i].clone();
            Arrays.sort(t);
            median[i] = t[t.length / 2];
        }
        return median;
    }

    private static void profileOnce(List<StageComputation> layers, DataSet sample, long[][] times, int r) {
        int n = layers.size();
        Message[] inputs = new Message[n];
        Message msg = new Message(0, 0, (int) sample.getFeatures().size(0), new INDArray[] {sample.getFeatures()},
                new INDArray[] {sample.getLabels()}, masks(sample.getFeaturesMaskArray()), masks(sample.getLabelsMaskArray()));
        for (int i = 0; i < n; i++) {
            inputs[i] = msg;
            long t0 = System.nanoTime();
            INDArray[] out = layers.get(i).forward(msg, 0, 0, 0);
            times[i][r] = System.nanoTime() - t0;
            msg = new Message(0, 0, msg.examples(), out, msg.labels(), layers.get(i).lastOutputMasks(), msg.labelMasks());
        }
        INDArray[] grads = null;
        for (int i = n - 1; i >= 0; i--) {
            long t0 = System.nanoTime();
            grads = layers.get(i).backward(inputs[i], grads, 0);
            times[i][r] += System.nanoTime() - t0;
        }
    }

    private static INDArray[] masks(INDArray m) {
        return m == null ? null : new INDArray[] {m};
    }
}
