package io.asyncpipeline.updater;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.asyncpipeline.testdata.Iris;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;

/** Shared helpers for the updater integration tests: Iris batches, a SameDiff MLP, bit-exact comparisons. */
final class UpdaterTestSupport {

    static final int BATCH = 25;
    /** Names of the trainable SameDiff variables, in a fixed order. */
    static final String[] SD_VARIABLES = {"w0", "b0", "w1", "b1", "w2", "b2"};

    private UpdaterTestSupport() {
    }

    /** Iris in mini-batches of {@link #BATCH} (6 batches), same order every call. */
    static List<DataSet> batches(DataType type) {
        return Iris.all(type).batchBy(BATCH);
    }

    /** The batch used at a given iteration when cycling through the data. */
    static DataSet batchAt(List<DataSet> batches, long iteration) {
        return batches.get((int) (iteration % batches.size()));
    }

    /** The elements of any array in C order, as doubles (exact for FLOAT and DOUBLE). */
    static double[] values(INDArray a) {
        return a.dup('c').reshape(a.length()).toDoubleVector();
    }

    static void assertBitIdentical(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(values(expected), values(actual), 0.0, what);
    }

    /** Largest absolute element difference. */
    static double maxAbsDiff(INDArray a, INDArray b) {
        double[] x = values(a);
        double[] y = values(b);
        double max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }

    /** Fraction of rows whose arg-max of {@code probabilities} equals that of the one-hot {@code labels}. */
    static double accuracy(INDArray probabilities, INDArray labels) {
        INDArray predicted = probabilities.argMax(1);
        INDArray actual = labels.argMax(1);
        long correct = 0;
        for (long i = 0; i < actual.length(); i++) {
            if (predicted.getLong(i) == actual.getLong(i)) {
                correct++;
            }
        }
        return (double) correct / actual.length();
    }

    /**
     * A SameDiff 4-16-16-3 tanh MLP on placeholders "in"/"label" with a mean softmax cross-entropy loss "loss"
     * and a softmax output "probs"; weights are drawn from a seeded {@link Random} (Xavier-like scale), biases 0.
     */
    static SameDiff sameDiffMlp(IUpdater updater, DataType type, long seed) {
        Random rnd = new Random(seed);
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", type, -1, Iris.FEATURES);
        SDVariable label = sd.placeHolder("label", type, -1, Iris.CLASSES);
        SDVariable w0 = sd.var("w0", weights(rnd, Iris.FEATURES, 16, type));
        SDVariable b0 = sd.var("b0", Nd4j.zeros(type, 1, 16));
        SDVariable w1 = sd.var("w1", weights(rnd, 16, 16, type));
        SDVariable b1 = sd.var("b1", Nd4j.zeros(type, 1, 16));
        SDVariable w2 = sd.var("w2", weights(rnd, 16, Iris.CLASSES, type));
        SDVariable b2 = sd.var("b2", Nd4j.zeros(type, 1, Iris.CLASSES));
        SDVariable h0 = sd.math.tanh(in.mmul(w0).add(b0));
        SDVariable h1 = sd.math.tanh(h0.mmul(w1).add(b1));
        SDVariable logits = h1.mmul(w2).add(b2);
        sd.nn.softmax("probs", logits);
        sd.loss.softmaxCrossEntropy("loss", label, logits, null);
        sd.setLossVariables("loss");
        sd.setTrainingConfig(TrainingConfig.builder()
                .updater(updater)
                .dataSetFeatureMapping("in")
                .dataSetLabelMapping("label")
                .build());
        return sd;
    }

    private static INDArray weights(Random rnd, int nIn, int nOut, DataType type) {
        double scale = Math.sqrt(2.0 / (nIn + nOut));
        double[][] w = new double[nIn][nOut];
        for (double[] row : w) {
            for (int j = 0; j < nOut; j++) {
                row[j] = rnd.nextGaussian() * scale;
            }
        }
        return Nd4j.create(w).castTo(type);
    }

    /** Mean cross-entropy of a SameDiff MLP over a data set. */
    static double sameDiffLoss(SameDiff sd, DataSet data) {
        Map<String, INDArray> out = sd.output(Map.of("in", data.getFeatures(), "label", data.getLabels()), "loss");
        return out.get("loss").getDouble(0);
    }

    static double sameDiffAccuracy(SameDiff sd, DataSet data) {
        Map<String, INDArray> out = sd.output(Map.of("in", data.getFeatures()), "probs");
        return accuracy(out.get("probs"), data.getLabels());
    }

    /** All trainable variables of a SameDiff MLP, concatenated in {@link #SD_VARIABLES} order. */
    static double[] sameDiffParams(SameDiff sd) {
        int n = 0;
        double[][] parts = new double[SD_VARIABLES.length][];
        for (int i = 0; i < parts.length; i++) {
            parts[i] = values(sd.getVariable(SD_VARIABLES[i]).getArr());
            n += parts[i].length;
        }
        double[] all = new double[n];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
