package io.asyncpipeline.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.NonFiniteScoreException;
import io.asyncpipeline.PipelineException;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.model.samediff.SameDiffAsyncStashingTest;
import io.asyncpipeline.model.samediff.SameDiffPipelineTest;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.testdata.RnnGraphs;
import io.asyncpipeline.testdata.Graphs;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * The stage runtime depends on the {@link Transport} seam only: training over {@link SerialisingTransport}, which
 * copies every activation, gradient, label and mask through a byte array, gives the same bits as the in-JVM
 * transport for every model type, and a failure still stops the pipeline with its original cause.
 */
class SerialisingTransportTest {

    private static final Transport[] TRANSPORTS = {new InJvmTransport(), new SerialisingTransport()};

    private static List<double[]> runBoth(Function<Transport, List<double[]>> train) {
        List<double[]> first = null;
        for (Transport t : TRANSPORTS) {
            List<double[]> state = train.apply(t);
            if (first == null) {
                first = state;
            } else {
                assertEquals(first.size(), state.size());
                for (int i = 0; i < first.size(); i++) {
                    assertArrayEquals(first.get(i), state.get(i), 0.0, "array " + i + " over " + t);
                }
            }
        }
        return first;
    }

    @Test
    void multiLayerNetworkAsyncWithStashingIsBitIdentical() {
        List<double[]> state = runBoth(t -> {
            MultiLayerNetwork net = Nets.irisMlp(DiscountedNadam.builder().learningRate(0.05).build(), DataType.DOUBLE, 5);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1)
                    .schedule(Schedule.ASYNC_1F1B).weightStashing(true).transport(t).build()) {
                w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
            }
            return List.of(net.params().data().asDouble(), net.getUpdater().getStateViewArray().data().asDouble());
        });
        assertFalse(allZero(state.get(1)), "the optimizer state moved");
    }

    @Test
    void graphWithMasksAndSkipsIsBitIdenticalUnderEverySchedule() {
        List<MultiDataSet> data = RnnGraphs.maskedData(3, 8, DataType.DOUBLE, 11, true);
        for (Schedule s : Schedule.values()) {
            runBoth(t -> {
                ComputationGraph g = RnnGraphs.twoInputs(DiscountedNadam.builder().learningRate(0.01).build(), DataType.DOUBLE, 3);
                try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(g).cutAfter("lstmA", "merge", "l2").schedule(s)
                        .microBatches(2).transport(t).build()) {
                    w.fit(Graphs.iterator(data), 2);
                }
                return List.of(g.params().data().asDouble(), g.getUpdater().getStateViewArray().data().asDouble());
            });
        }
    }

    @Test
    void sameDiffAsyncWithStashingIsBitIdentical() {
        List<org.nd4j.linalg.dataset.DataSet> data = SameDiffPipelineTest.batches(5, 2, 13);
        runBoth(t -> {
            SameDiff sd = SameDiffAsyncStashingTest.graph(DiscountedNadam.builder().learningRate(1e-2).build());
            try (AsyncPipelineWrapper w = SameDiffAsyncStashingTest.stashing(sd).transport(t).build()) {
                w.fit(new ListDataSetIterator<>(data, 1));
            }
            List<double[]> out = new ArrayList<>();
            for (Map.Entry<String, INDArray> e : SameDiffAsyncStashingTest.variables(sd).entrySet()) {
                out.add(e.getValue().data().asDouble());
            }
            return out;
        });
    }

    @Test
    void aFailureStopsThePipelineOverTheSerialisingTransport() {
        MultiLayerNetwork net = Nets.irisMlp(DiscountedNadam.builder().learningRate(0.05).build(), DataType.DOUBLE, 5);
        List<DataSet> data = new ArrayList<>();
        Iris.iterator(10, DataType.DOUBLE).forEachRemaining(data::add);
        data.set(4, new DataSet(data.get(4).getFeatures().dup().assign(Double.NaN), data.get(4).getLabels()));
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1)
                .transport(new SerialisingTransport()).build()) {
            PipelineException e = assertThrows(PipelineException.class, () -> w.fit(new ListDataSetIterator<>(data, 1)));
            assertInstanceOf(NonFiniteScoreException.class, e.getCause());
            assertEquals(2, e.stage());
            assertEquals(4, e.microBatch());
        }
    }

    @Test
    void aNullTransportIsRejectedAtBuild() {
        MultiLayerNetwork net = Nets.irisMlp(DiscountedNadam.builder().build(), DataType.DOUBLE, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(net).transport(null).build());
        assertEquals("transport is null: leave it unset for the in-JVM default", e.getMessage());
    }

    private static boolean allZero(double[] a) {
        for (double v : a) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }
}
