package io.asyncpipeline.updater;

import static io.asyncpipeline.updater.UpdaterTestSupport.BATCH;
import static io.asyncpipeline.updater.UpdaterTestSupport.accuracy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Both updaters train real Iris data in all three DL4J/ND4J model kinds: 30 epochs of 6 mini-batches of 25
 * (180 steps), loss measured over all 150 rows before and after.
 *
 * <p>Measured (FLOAT, seed 12345 for the DL4J nets, seed 7 for the SameDiff weights; the MultiLayerNetwork and the
 * ComputationGraph are the same net and give the same numbers), initial → final loss (ratio), accuracy:
 * <pre>
 *   DiscountedNadam        MLN / CG   1.0306 → 0.0534 (0.052)  0.980
 *   DiscountedNadam        SameDiff   0.7309 → 0.0521 (0.071)  0.987
 *   DelayCorrectedNesterov MLN / CG   1.0306 → 0.0925 (0.090)  0.967
 *   DelayCorrectedNesterov SameDiff   0.7309 → 0.1020 (0.140)  0.967
 * </pre>
 * The required ratio 0.35 and accuracy 0.9 leave a wide margin, so the test does not depend on the exact seed.
 */
class UpdaterTrainingTest {

    private static final int EPOCHS = 30;
    private static final double LOSS_RATIO = 0.35;
    private static final double MIN_ACCURACY = 0.9;

    static Stream<Arguments> updaters() {
        return Stream.of(
                Arguments.of("DiscountedNadam", DiscountedNadam.builder().learningRate(0.01).build()),
                Arguments.of("DelayCorrectedNesterov",
                        DelayCorrectedNesterov.builder().learningRate(0.1).momentum(0.9).build()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("updaters")
    void trainsAMultiLayerNetwork(String name, IUpdater updater) {
        DataSet all = Iris.all(DataType.FLOAT);
        MultiLayerNetwork net = Nets.irisMlp(updater, DataType.FLOAT, 12345);
        double initial = net.score(all);
        DataSetIterator it = Iris.iterator(BATCH, DataType.FLOAT);
        for (int e = 0; e < EPOCHS; e++) {
            it.reset();
            net.fit(it);
        }
        assertEquals(EPOCHS * 6, net.getIterationCount());
        check(name + " MultiLayerNetwork", initial, net.score(all), accuracy(net.output(all.getFeatures()), all.getLabels()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("updaters")
    void trainsAComputationGraph(String name, IUpdater updater) {
        DataSet all = Iris.all(DataType.FLOAT);
        ComputationGraph graph = Nets.irisGraph(updater, DataType.FLOAT, 12345);
        double initial = graph.score(all);
        DataSetIterator it = Iris.iterator(BATCH, DataType.FLOAT);
        for (int e = 0; e < EPOCHS; e++) {
            it.reset();
            graph.fit(it);
        }
        assertEquals(EPOCHS * 6, graph.getIterationCount());
        check(name + " ComputationGraph", initial, graph.score(all),
                accuracy(graph.outputSingle(all.getFeatures()), all.getLabels()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("updaters")
    void trainsASameDiffGraph(String name, IUpdater updater) {
        DataSet all = Iris.all(DataType.FLOAT);
        SameDiff sd = UpdaterTestSupport.sameDiffMlp(updater, DataType.FLOAT, 7);
        double initial = UpdaterTestSupport.sameDiffLoss(sd, all);
        sd.fit(Iris.iterator(BATCH, DataType.FLOAT), EPOCHS);
        assertEquals(EPOCHS * 6, sd.getTrainingConfig().getIterationCount());
        check(name + " SameDiff", initial, UpdaterTestSupport.sameDiffLoss(sd, all),
                UpdaterTestSupport.sameDiffAccuracy(sd, all));
    }

    private static void check(String what, double initial, double last, double accuracy) {
        System.out.printf("MEASURED %s: loss %.4f -> %.4f (ratio %.3f), accuracy %.3f%n",
                what, initial, last, last / initial, accuracy);
        assertTrue(Double.isFinite(last), what + " final loss " + last);
        assertTrue(last < LOSS_RATIO * initial,
                what + ": final loss " + last + " is not below " + LOSS_RATIO + " x initial " + initial);
        assertTrue(accuracy >= MIN_ACCURACY, what + ": training accuracy " + accuracy + " < " + MIN_ACCURACY);
    }
}
