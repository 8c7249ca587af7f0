package io.asyncpipeline.updater;

import static io.asyncpipeline.updater.UpdaterTestSupport.batchAt;
import static io.asyncpipeline.updater.UpdaterTestSupport.batches;
import static io.asyncpipeline.updater.UpdaterTestSupport.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.testdata.Iris;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.FixedSchedule;

/**
 * Regression test for DL4J's updater blocks: consecutive layers whose updater configs are equal share one
 * {@link UpdaterBlock}, i.e. one {@code instantiate(view)} over the concatenated parameters of several layers.
 * That must give exactly the result of one block per layer.
 *
 * <p>The split net differs from the merged one only in layer 1's config, which states the same constant as a
 * {@link FixedSchedule} (its {@code valueAt} returns the same double at every step). The configs are not
 * {@code equals}, so DL4J keeps layer 1 in its own block, but the math is identical, so parameters and the
 * per-parameter state must agree bit for bit.
 */
class UpdaterBlockMergeTest {

    private static final int STEPS = 20;

    static Stream<Arguments> configs() {
        DiscountedNadam nadam = DiscountedNadam.builder().learningRate(0.02).beta1(0.9).build();
        DelayCorrectedNesterov nesterov = DelayCorrectedNesterov.builder().learningRate(0.1).momentum(0.9).build();
        return Stream.of(
                Arguments.of("DiscountedNadam", nadam,
                        nadam.toBuilder().learningRateSchedule(new FixedSchedule(0.02)).build(), 2),
                Arguments.of("DelayCorrectedNesterov", nesterov,
                        nesterov.toBuilder().momentumSchedule(new FixedSchedule(0.9)).build(), 1));
    }

    /** 4-16-16-3 MLP with one updater config per layer. */
    private static MultiLayerNetwork mlp(DataType type, IUpdater u0, IUpdater u1, IUpdater u2) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(2024).dataType(type)
                .list()
                .layer(new DenseLayer.Builder().nIn(Iris.FEATURES).nOut(16).activation(Activation.TANH).updater(u0).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH).updater(u1).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(Iris.CLASSES)
                        .activation(Activation.SOFTMAX).updater(u2).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static List<UpdaterBlock> blocks(MultiLayerNetwork net) {
        return ((BaseMultiLayerUpdater<?>) net.getUpdater()).getUpdaterBlocks();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void mergedBlockMatchesOneBlockPerLayer(String name, IUpdater shared, IUpdater neutralVariant, int statesPerParam) {
        assertNotEquals(shared, neutralVariant, "the variant must not be merged");
        for (int it : new int[] {0, 1, 7, 50}) {
            assertEquals(shared.getLearningRate(it, 0), neutralVariant.getLearningRate(it, 0), 0.0);
        }
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            String what = name + " " + type;
            MultiLayerNetwork merged = mlp(type, shared.clone(), shared.clone(), shared.clone());
            MultiLayerNetwork split = mlp(type, shared.clone(), neutralVariant.clone(), shared.clone());
            assertArrayEquals(values(merged.params()), values(split.params()), 0.0, what + " same initial params");

            List<DataSet> data = batches(type);
            for (int i = 0; i < STEPS; i++) {
                merged.fit(batchAt(data, i));
                split.fit(batchAt(data, i));
            }
            assertEquals(1, blocks(merged).size(), what + ": equal configs share one block");
            assertEquals(3, blocks(split).size(), what + ": the variant splits the net into one block per layer");

            assertArrayEquals(values(split.params()), values(merged.params()), 0.0, what + " params");

            long[] layerParams = new long[3];
            for (int l = 0; l < 3; l++) {
                layerParams[l] = merged.getLayer(l).numParams();
            }
            long total = Arrays.stream(layerParams).sum();
            assertEquals(statesPerParam * total, merged.getUpdater().getStateViewArray().length(), what);
            assertEquals(statesPerParam * total, split.getUpdater().getStateViewArray().length(), what);

            // Per-parameter state, read through each block's GradientUpdater: the merged block's arrays must be
            // the concatenation of the three per-layer blocks' arrays.
            Map<String, INDArray> mergedState = blocks(merged).get(0).getGradientUpdater().getState();
            for (String key : mergedState.keySet()) {
                double[] concatenated = new double[(int) total];
                int at = 0;
                for (UpdaterBlock b : blocks(split)) {
                    double[] part = values((INDArray) b.getGradientUpdater().getState().get(key));
                    System.arraycopy(part, 0, concatenated, at, part.length);
                    at += part.length;
                }
                assertEquals(total, at, what + " " + key);
                assertArrayEquals(concatenated, values(mergedState.get(key)), 0.0, what + " state " + key);
                assertTrue(Arrays.stream(concatenated).anyMatch(x -> x != 0.0), what + " state " + key + " is not all 0");
            }

            // The flat state view itself: merged is [s_0(all layers) | s_1(all layers)], split is
            // [s_0(L0) | s_1(L0) | s_0(L1) | s_1(L1) | ...]; each state slice of each layer must match.
            double[] mergedView = values(merged.getUpdater().getStateViewArray());
            double[] splitView = values(split.getUpdater().getStateViewArray());
            long layerStart = 0;
            long splitBlockStart = 0;
            for (int l = 0; l < 3; l++) {
                for (int s = 0; s < statesPerParam; s++) {
                    int from = (int) (s * total + layerStart);
                    int splitFrom = (int) (splitBlockStart + s * layerParams[l]);
                    assertArrayEquals(Arrays.copyOfRange(splitView, splitFrom, (int) (splitFrom + layerParams[l])),
                            Arrays.copyOfRange(mergedView, from, (int) (from + layerParams[l])), 0.0,
                            what + " state view, layer " + l + ", state " + s);
                }
                layerStart += layerParams[l];
                splitBlockStart += statesPerParam * layerParams[l];
            }
        }
    }
}
