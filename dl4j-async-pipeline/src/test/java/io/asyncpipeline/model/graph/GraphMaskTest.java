package io.asyncpipeline.model.graph;

import io.asyncpipeline.Schedule;
import io.asyncpipeline.AsyncPipelineWrapper;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.model.graph.GraphPipelineModel;
import io.asyncpipeline.testdata.Graphs;
import io.asyncpipeline.testdata.RnnGraphs;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.rnn.LastTimeStepVertex;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Feature and label masks on ComputationGraph pipelines: two masked sequence inputs of different lengths, LSTMs
 * (whose masks pass on as {@code Passthrough}), a merge vertex and an RnnOutputLayer with a label mask.
 */
class GraphMaskTest {

    private static final String[] CUTS = {"lstmA", "merge", "l2"};

    private static IUpdater nadam() {
        return DiscountedNadam.builder().learningRate(0.01).build();
    }

    private static void assertSameState(ComputationGraph expected, ComputationGraph actual, double tol, String what) {
        assertArrayEquals(expected.params().toDoubleVector(), actual.params().toDoubleVector(), tol, what + " params");
        assertArrayEquals(expected.getUpdater().getStateViewArray().toDoubleVector(),
                actual.getUpdater().getStateViewArray().toDoubleVector(), tol, what + " updater state");
        assertEquals(expected.getIterationCount(), actual.getIterationCount(), what + " iterations");
    }

    @Test
    void oneStageEqualsGraphFitBitForBit() {
        for (boolean labelMasks : new boolean[] {true, false}) {
            ComputationGraph plain = RnnGraphs.twoInputs(nadam(), DataType.DOUBLE, 7);
            ComputationGraph piped = RnnGraphs.twoInputs(nadam(), DataType.DOUBLE, 7);
            List<MultiDataSet> data = RnnGraphs.maskedData(4, 8, DataType.DOUBLE, 3, labelMasks);
            plain.fit(Graphs.iterator(data), 2);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).stages(1).build()) {
                w.fit(Graphs.iterator(data), 2);
            }
            assertSameState(plain, piped, 0.0, "label masks " + labelMasks);
            assertEquals(plain.score(), piped.score(), 0.0, "score");
        }
    }

    @Test
    void synchronousSchedulesEqualGraphFitWithMasksCrossingBoundaries() {
        for (Schedule s : new Schedule[] {Schedule.GPIPE, Schedule.ONE_F_ONE_B}) {
            ComputationGraph plain = RnnGraphs.twoInputs(nadam(), DataType.DOUBLE, 5);
            ComputationGraph piped = RnnGraphs.twoInputs(nadam(), DataType.DOUBLE, 5);
            List<MultiDataSet> data = RnnGraphs.maskedData(3, 12, DataType.DOUBLE, 8, true);
            plain.fit(Graphs.iterator(data), 2);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).cutAfter(CUTS).schedule(s)
                    .microBatches(4).build()) {
                assertEquals(List.of("b", "lstmA"), w.cuts().crossing().get(0), "input b and its mask travel to stage 1");
                assertEquals(List.of("merge"), w.cuts().crossing().get(1));
                assertEquals(List.of("l2"), w.cuts().crossing().get(2), "the output stage gets l2's Passthrough mask");
                w.fit(Graphs.iterator(data), 2);
                INDArray[] masks = w.pipelineModel().stages().get(0).lastOutputMasks();
                assertEquals(3, masks.length, "one mask per boundary tensor, then their mask states");
                assertArrayEquals(new int[] {1, 2}, masks[2].toIntVector(), "b: Active (network input), lstmA: Passthrough");
            }
            assertSameState(plain, piped, 1e-10, s.name());
        }
    }

    @Test
    void masksChangeTheResult() {
        ComputationGraph masked = RnnGraphs.twoInputs(nadam(), DataType.DOUBLE, 5);
        ComputationGraph unmasked = RnnGraphs.twoInputs(nadam(), DataType.DOUBLE, 5);
        List<MultiDataSet> data = RnnGraphs.maskedData(2, 8, DataType.DOUBLE, 8, true);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(masked).cutAfter(CUTS).schedule(Schedule.GPIPE)
                .microBatches(2).build()) {
            w.fit(Graphs.iterator(data));
        }
        List<MultiDataSet> stripped = data.stream().map(d -> (MultiDataSet) new org.nd4j.linalg.dataset.MultiDataSet(
                d.getFeatures(), d.getLabels())).toList();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(unmasked).cutAfter(CUTS).schedule(Schedule.GPIPE)
                .microBatches(2).build()) {
            w.fit(Graphs.iterator(stripped));
        }
        assertFalse(Arrays.equals(masked.params().toDoubleVector(), unmasked.params().toDoubleVector()));
    }

    @Test
    void threadedAsyncIsBitIdenticalToSingleThreadedReplay() {
        for (boolean stash : new boolean[] {true, false}) {
            ComputationGraph a = RnnGraphs.twoInputs(nadam(), DataType.FLOAT, 3);
            ComputationGraph b = RnnGraphs.twoInputs(nadam(), DataType.FLOAT, 3);
            List<MultiDataSet> data = RnnGraphs.maskedData(8, 6, DataType.FLOAT, 4, true);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(a).cutAfter(CUTS).weightStashing(stash).build()) {
                w.fit(Graphs.iterator(data), 2);
            }
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(b).cutAfter(CUTS).weightStashing(stash)
                    .singleThreadedReplay(true).build()) {
                w.fit(Graphs.iterator(data), 2);
            }
            assertArrayEquals(a.params().toDoubleVector(), b.params().toDoubleVector(), 0.0, "stash=" + stash);
            assertEquals(16, a.getIterationCount());
        }
    }

    @Test
    void unsupportedMaskCasesFailWithAClearMessage() {
        ComputationGraph g = RnnGraphs.twoInputs(nadam(), DataType.DOUBLE, 1);
        MultiDataSet good = RnnGraphs.maskedData(1, 4, DataType.DOUBLE, 1, true).get(0);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(g).cutAfter("merge").build()) {
            org.nd4j.linalg.dataset.MultiDataSet oneMask = new org.nd4j.linalg.dataset.MultiDataSet(good.getFeatures(),
                    good.getLabels());
            oneMask.setFeaturesMaskArrays(new INDArray[] {good.getFeaturesMaskArray(0)});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> w.fit(Graphs.iterator(List.of(oneMask))));
            assertTrue(e.getMessage().contains("1 feature mask arrays but the graph has 2 inputs"), e.getMessage());
            MultiDataSet shortMask = new org.nd4j.linalg.dataset.MultiDataSet(good.getFeatures(), good.getLabels(),
                    good.getFeaturesMaskArrays(), new INDArray[] {Nd4j.ones(DataType.DOUBLE, 3, RnnGraphs.STEPS)});
            e = assertThrows(IllegalArgumentException.class, () -> w.fit(Graphs.iterator(List.of(shortMask))));
            assertTrue(e.getMessage().contains("label mask of a batch needs 4 examples"), e.getMessage());
        }

        ComputationGraph last = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("in")
                .addLayer("lstm", new LSTM.Builder().nIn(3).nOut(4).build(), "in")
                .addVertex("lastStep", new LastTimeStepVertex("in"), "lstm")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                        .activation(Activation.IDENTITY).build(), "lastStep")
                .setOutputs("out").build());
        last.init();
        MultiDataSet masked = new org.nd4j.linalg.dataset.MultiDataSet(
                new INDArray[] {Nd4j.rand(DataType.DOUBLE, 4, 3, 5)}, new INDArray[] {Nd4j.rand(DataType.DOUBLE, 4, 2)},
                new INDArray[] {Nd4j.ones(DataType.DOUBLE, 4, 5)}, null);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(last).stages(1).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> w.fit(Graphs.iterator(List.of(masked))));
            assertTrue(e.getMessage().contains("\"lastStep\" is a LastTimeStepVertex"), e.getMessage());
        }
    }
}
