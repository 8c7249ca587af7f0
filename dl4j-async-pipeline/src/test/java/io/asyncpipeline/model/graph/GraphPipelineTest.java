package io.asyncpipeline.model.graph;

import io.asyncpipeline.Schedule;
import io.asyncpipeline.AsyncPipelineWrapper;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.model.graph.GraphPipelineModel;
import io.asyncpipeline.testdata.Graphs;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/** ComputationGraph pipelines: exactness against plain DL4J, boundary routing and builder errors. */
class GraphPipelineTest {

    private static IUpdater nadam() {
        return DiscountedNadam.builder().learningRate(0.01).build();
    }

    private static DataSetIteratorFactory residualData(int batches, int size, DataType type) {
        List<DataSet> data = Graphs.residualData(batches, size, type, 5);
        return () -> new ListDataSetIterator<>(data, 1);
    }

    private interface DataSetIteratorFactory extends Supplier<org.nd4j.linalg.dataset.api.iterator.DataSetIterator> {
    }

    private static void assertSameState(ComputationGraph expected, ComputationGraph actual, double tol, String what) {
        assertArrayEquals(expected.params().toDoubleVector(), actual.params().toDoubleVector(), tol, what + " params");
        assertArrayEquals(expected.getUpdater().getStateViewArray().toDoubleVector(),
                actual.getUpdater().getStateViewArray().toDoubleVector(), tol, what + " updater state");
        assertEquals(expected.getIterationCount(), actual.getIterationCount(), what + " iterations");
        assertEquals(expected.getEpochCount(), actual.getEpochCount(), what + " epochs");
    }

    @Test
    void oneStageEqualsGraphFitStepForStep() {
        ComputationGraph plain = Graphs.residual(nadam(), DataType.DOUBLE, 7);
        ComputationGraph piped = Graphs.residual(nadam(), DataType.DOUBLE, 7);
        DataSetIteratorFactory data = residualData(6, 10, DataType.DOUBLE);
        plain.fit(data.get(), 2);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).stages(1).build()) {
            w.fit(data.get(), 2);
        }
        assertSameState(plain, piped, 0.0, "one stage");
        assertEquals(12, piped.getIterationCount());

        ComputationGraph plainMulti = Graphs.multiInOut(nadam(), DataType.DOUBLE, 3);
        ComputationGraph pipedMulti = Graphs.multiInOut(nadam(), DataType.DOUBLE, 3);
        List<MultiDataSet> multi = Graphs.multiData(5, 8, DataType.DOUBLE, 9);
        plainMulti.fit(Graphs.iterator(multi), 2);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(pipedMulti).stages(1).build()) {
            w.fit(Graphs.iterator(multi), 2);
        }
        assertSameState(plainMulti, pipedMulti, 0.0, "one stage, multi in/out");
        assertEquals(plainMulti.score(), pipedMulti.score(), 1e-12, "score: sum of both output losses");
    }

    @Test
    void aStageWithoutParametersAndRecomputationKeepTheResults() {
        // cut after d3 and add: the middle stage is the ElementWise add alone (no parameters)
        ComputationGraph plain = Graphs.residual(nadam(), DataType.DOUBLE, 8);
        ComputationGraph piped = Graphs.residual(nadam(), DataType.DOUBLE, 8);
        DataSetIteratorFactory data = residualData(3, 12, DataType.DOUBLE);
        plain.fit(data.get());
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).cutAfter("d3", "add")
                .schedule(Schedule.ONE_F_ONE_B).microBatches(3).recomputeActivations(true).build()) {
            assertArrayEquals(new int[] {3, 1, 2}, w.partition());
            w.fit(data.get());
        }
        assertSameState(plain, piped, 1e-10, "zero-parameter stage");

        ComputationGraph kept = Graphs.residual(nadam(), DataType.FLOAT, 9);
        ComputationGraph recomputed = Graphs.residual(nadam(), DataType.FLOAT, 9);
        DataSetIteratorFactory floats = residualData(6, 8, DataType.FLOAT);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(kept).cutAfter("d1", "add")
                .singleThreadedReplay(true).build()) {
            w.fit(floats.get());
        }
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(recomputed).cutAfter("d1", "add")
                .recomputeActivations(true).singleThreadedReplay(true).build()) {
            w.fit(floats.get());
        }
        assertArrayEquals(kept.params().toDoubleVector(), recomputed.params().toDoubleVector(), 0.0, "recompute");
    }

    @Test
    void synchronousSchedulesEqualGraphFitWithASkipAcrossTwoStages() {
        for (Schedule s : new Schedule[] {Schedule.GPIPE, Schedule.ONE_F_ONE_B}) {
            ComputationGraph plain = Graphs.residual(nadam(), DataType.DOUBLE, 7);
            ComputationGraph piped = Graphs.residual(nadam(), DataType.DOUBLE, 7);
            DataSetIteratorFactory data = residualData(4, 20, DataType.DOUBLE);
            plain.fit(data.get(), 2);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).cutAfter("d1", "d2", "d3").schedule(s)
                    .microBatches(5).build()) {
                assertArrayEquals(new int[] {1, 1, 1, 3}, w.partition());
                assertEquals(List.of("d1"), w.cuts().crossing().get(0));
                assertEquals(List.of("d1", "d2"), w.cuts().crossing().get(1));
                assertEquals(List.of("d1", "d3"), w.cuts().crossing().get(2), "the skip from d1 passes through stage 2");
                w.fit(data.get(), 2);
            }
            assertSameState(plain, piped, 1e-10, s.name());
        }
    }

    @Test
    void synchronousSchedulesEqualGraphFitWithSeveralInputsAndOutputs() {
        for (Schedule s : new Schedule[] {Schedule.GPIPE, Schedule.ONE_F_ONE_B}) {
            ComputationGraph plain = Graphs.multiInOut(nadam(), DataType.DOUBLE, 3);
            ComputationGraph piped = Graphs.multiInOut(nadam(), DataType.DOUBLE, 3);
            List<MultiDataSet> data = Graphs.multiData(4, 20, DataType.DOUBLE, 9);
            plain.fit(Graphs.iterator(data), 2);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).cutAfter("dA", "merge").schedule(s)
                    .microBatches(4).build()) {
                assertEquals(List.of("b", "dA"), w.cuts().crossing().get(0), "input b is first used in stage 1");
                assertEquals(List.of("merge"), w.cuts().crossing().get(1));
                w.fit(Graphs.iterator(data), 2);
            }
            assertSameState(plain, piped, 1e-10, s.name());
        }
    }

    @Test
    void threadedAsyncIsBitIdenticalToSingleThreadedReplay() {
        for (boolean stash : new boolean[] {true, false}) {
            ComputationGraph a = Graphs.residual(nadam(), DataType.FLOAT, 3);
            ComputationGraph b = Graphs.residual(nadam(), DataType.FLOAT, 3);
            DataSetIteratorFactory data = residualData(8, 10, DataType.FLOAT);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(a).cutAfter("d1", "d3").weightStashing(stash)
                    .build()) {
                w.fit(data.get(), 2);
            }
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(b).cutAfter("d1", "d3").weightStashing(stash)
                    .singleThreadedReplay(true).build()) {
                w.fit(data.get(), 2);
            }
            assertArrayEquals(a.params().toDoubleVector(), b.params().toDoubleVector(), 0.0, "stash=" + stash);
            assertEquals(16, a.getIterationCount());

            ComputationGraph c = Graphs.multiInOut(nadam(), DataType.FLOAT, 4);
            ComputationGraph d = Graphs.multiInOut(nadam(), DataType.FLOAT, 4);
            List<MultiDataSet> multi = Graphs.multiData(8, 6, DataType.FLOAT, 2);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(c).cutAfter("dA", "merge").weightStashing(stash)
                    .build()) {
                w.fit(Graphs.iterator(multi));
            }
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(d).cutAfter("dA", "merge").weightStashing(stash)
                    .singleThreadedReplay(true).build()) {
                w.fit(Graphs.iterator(multi));
            }
            assertArrayEquals(c.params().toDoubleVector(), d.params().toDoubleVector(), 0.0, "multi stash=" + stash);
        }
    }

    @Test
    void asyncStashingMatchesAnIndependentReplay() {
        List<DataSet> residual = Graphs.residualData(8, 10, DataType.DOUBLE, 5);
        List<MultiDataSet> asMulti = new ArrayList<>();
        for (DataSet ds : residual) {
            asMulti.add(ds.toMultiDataSet());
        }
        checkReplay(Graphs.residual(nadam(), DataType.DOUBLE, 11), Graphs.residual(nadam(), DataType.DOUBLE, 11),
                asMulti, new String[] {"d1", "d2", "d3"});
        checkReplay(Graphs.multiInOut(new Adam(0.02), DataType.DOUBLE, 12), Graphs.multiInOut(new Adam(0.02), DataType.DOUBLE, 12),
                Graphs.multiData(8, 6, DataType.DOUBLE, 4), new String[] {"dA", "merge"});
    }

    private static void checkReplay(ComputationGraph piped, ComputationGraph ref, List<MultiDataSet> batches, String[] cuts) {
        int[] partition;
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).cutAfter(cuts).build()) {
            w.fit(Graphs.iterator(batches));
            partition = w.partition();
            for (int k = 0; k < partition.length; k++) {
                assertEquals(partition.length - 1 - k, w.metrics().stage(k).modalDelay(), "stage " + k + " delay");
            }
        }
        replay(ref, batches, partition);
        assertArrayEquals(ref.params().toDoubleVector(), piped.params().toDoubleVector(), 0.0);
        assertArrayEquals(ref.getUpdater().getStateViewArray().toDoubleVector(),
                piped.getUpdater().getStateViewArray().toDoubleVector(), 1e-12);
        assertEquals(batches.size(), piped.getIterationCount());
    }

    /**
     * The reference, from plain DL4J calls: stage k's parameter segment (its vertices' parameters, contiguous in
     * the graph's topological order) at version max(0, m - τ_k) for micro-batch m, τ_k = P-1-k; the gradient
     * at that mixed point is applied to the current parameters as iteration m.
     */
    private static void replay(ComputationGraph graph, List<MultiDataSet> batches, int[] partition) {
        int p = partition.length;
        List<String> order = GraphPipelineModel.vertexOrder(graph);
        long[] offsets = new long[p + 1];
        int v = 0;
        for (int k = 0; k < p; k++) {
            long n = 0;
            for (int i = 0; i < partition[k]; i++) {
                n += graph.getVertex(order.get(v++)).numParams();
            }
            offsets[k + 1] = offsets[k] + n;
        }
        List<INDArray> history = new ArrayList<>();
        history.add(graph.params().dup());
        for (int m = 0; m < batches.size(); m++) {
            INDArray point = graph.params().dup();
            for (int k = 0; k < p; k++) {
                segment(point, offsets, k).assign(segment(history.get(Math.max(0, m - (p - 1 - k))), offsets, k));
            }
            INDArray current = graph.params().dup();
            graph.setParams(point);
            MultiDataSet mds = batches.get(m);
            graph.setInputs(mds.getFeatures());
            graph.setLabels(mds.getLabels());
            graph.computeGradientAndScore();
            Gradient g = graph.gradient();
            graph.setParams(current);
            graph.getUpdater().update(g, m, 0, (int) mds.getFeatures(0).size(0), LayerWorkspaceMgr.noWorkspaces());
            graph.params().subi(g.gradient().reshape(graph.params().shape()));
            history.add(graph.params().dup());
        }
    }

    private static INDArray segment(INDArray flat, long[] offsets, int k) {
        return flat.reshape(flat.length()).get(NDArrayIndex.interval(offsets[k], offsets[k + 1]));
    }

    @Test
    void autoBalancedStagesKeepEveryOutputInTheLastStage() {
        ComputationGraph g = Graphs.multiInOut(nadam(), DataType.DOUBLE, 1);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(g).stages(3).build()) {
            int[] part = w.partition();
            assertEquals(3, part.length);
            assertEquals(6, part[0] + part[1] + part[2]);
            List<String> order = GraphPipelineModel.vertexOrder(g);
            int lastStart = 6 - part[2];
            assertTrue(order.indexOf("out1") >= lastStart && order.indexOf("out2") >= lastStart, order + " " + part[2]);
            w.fit(Graphs.iterator(Graphs.multiData(3, 4, DataType.DOUBLE, 1)));
            assertEquals(3, g.getIterationCount());
        }
    }

    @Test
    void buildErrorsSayWhatToChange() {
        ComputationGraph g = Graphs.residual(nadam(), DataType.DOUBLE, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(g).cutAfter("d1", "nope").build());
        assertTrue(e.getMessage().contains("no vertex named \"nope\"") && e.getMessage().contains("[d1, d2, d3, add, d4, out]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(g).cutAfter("d3", "d1").build());
        assertTrue(e.getMessage().contains("not in topological order"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(g).cutAfter("d1", "d1").build());
        assertTrue(e.getMessage().contains("leaves stage 1 empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(g).cutAfter("out").build());
        assertTrue(e.getMessage().contains("leaves stage 1 empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(g).cutAfter("in").build());
        assertTrue(e.getMessage().contains("network input"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(g).partition(2, 4, 1).build());
        assertTrue(e.getMessage().contains("must add up to 6"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(g).cutAfter("d1").stages(3).build());
        assertTrue(e.getMessage().contains("set only one"), e.getMessage());

        ComputationGraph multi = Graphs.multiInOut(nadam(), DataType.DOUBLE, 1);
        List<String> order = GraphPipelineModel.vertexOrder(multi);
        String firstOut = order.indexOf("out1") < order.indexOf("out2") ? "out1" : "out2";
        e = assertThrows(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(multi).cutAfter(firstOut).build());
        assertTrue(e.getMessage().contains("must be in the last stage"), e.getMessage());

        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(multi).cutAfter("merge").build()) {
            e = assertThrows(IllegalArgumentException.class, () -> w.fit(residualData(1, 4, DataType.DOUBLE).get()));
            assertTrue(e.getMessage().contains("use fit(MultiDataSetIterator)"), e.getMessage());
        }
    }
}
