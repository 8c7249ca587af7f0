package io.asyncpipeline.testdata;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** A recurrent ComputationGraph with two masked sequence inputs, and variable-length data for it. */
public final class RnnGraphs {

    public static final int STEPS = 6;

    private RnnGraphs() {
    }

    /**
     * Inputs a(3), b(2), time series: lstmA(a) → 4, lstmB(b) → 3, merge = [lstmA, lstmB] (7), l2 = LSTM(merge) → 5,
     * out = RnnOutputLayer(l2), 3 classes per step. The LSTMs pass their masks on as {@code Passthrough}.
     */
    public static ComputationGraph twoInputs(IUpdater updater, DataType type, long seed) {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(type).updater(updater)
                .graphBuilder()
                .addInputs("a", "b")
                .addLayer("lstmA", lstm(3, 4), "a")
                .addLayer("lstmB", lstm(2, 3), "b")
                .addVertex("merge", new MergeVertex(), "lstmA", "lstmB")
                .addLayer("l2", lstm(7, 5), "merge")
                .addLayer("out", new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(3)
                        .dataFormat(RNNFormat.NCW).activation(Activation.SOFTMAX).build(), "l2")
                .setOutputs("out")
                .build());
        g.init();
        return g;
    }

    private static LSTM lstm(int in, int out) {
        return new LSTM.Builder().nIn(in).nOut(out).activation(Activation.TANH).build();
    }

    /**
     * Batches for {@link #twoInputs}: each example has its own length for a and for b (1..{@link #STEPS}); the
     * label mask is a's mask. With {@code labelMasks} false only the feature masks are set.
     */
    public static List<org.nd4j.linalg.dataset.api.MultiDataSet> maskedData(int batches, int size, DataType type, long seed,
                                                                            boolean labelMasks) {
        Random r = new Random(seed);
        List<org.nd4j.linalg.dataset.api.MultiDataSet> out = new ArrayList<>();
        for (int n = 0; n < batches; n++) {
            INDArray a = Nd4j.zeros(type, size, 3, STEPS);
            INDArray b = Nd4j.zeros(type, size, 2, STEPS);
            INDArray y = Nd4j.zeros(type, size, 3, STEPS);
            INDArray ma = Nd4j.zeros(type, size, STEPS);
            INDArray mb = Nd4j.zeros(type, size, STEPS);
            for (int i = 0; i < size; i++) {
                int lenA = 1 + r.nextInt(STEPS);
                int lenB = 1 + r.nextInt(STEPS);
                for (int t = 0; t < STEPS; t++) {
                    double sum = 0;
                    for (int j = 0; j < 3; j++) {
                        double v = r.nextGaussian();
                        a.putScalar(new long[] {i, j, t}, v);
                        sum += v;
                    }
                    for (int j = 0; j < 2; j++) {
                        b.putScalar(new long[] {i, j, t}, r.nextGaussian());
                    }
                    y.putScalar(new long[] {i, sum > 0.5 ? 0 : sum > -0.5 ? 1 : 2, t}, 1);
                    ma.putScalar(i, t, t < lenA ? 1 : 0);
                    mb.putScalar(i, t, t < lenB ? 1 : 0);
                }
            }
            out.add(new MultiDataSet(new INDArray[] {a, b}, new INDArray[] {y}, new INDArray[] {ma, mb},
                    labelMasks ? new INDArray[] {ma.dup()} : null));
        }
        return out;
    }
}
