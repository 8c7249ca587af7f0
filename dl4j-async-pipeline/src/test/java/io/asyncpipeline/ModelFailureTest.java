package io.asyncpipeline;

import io.asyncpipeline.model.samediff.SameDiffAsyncStashingTest;
import io.asyncpipeline.model.samediff.SameDiffPipelineTest;
import static io.asyncpipeline.PipelineFailureTest.assertFinite;
import static io.asyncpipeline.PipelineFailureTest.liveStageThreads;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.testdata.Graphs;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Tripwire;
import io.asyncpipeline.testdata.Tripwire.InjectedFault;
import io.asyncpipeline.testdata.Tripwire.TripwireActivation;
import io.asyncpipeline.transformer.TransformerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * {@link PipelineFailureTest}'s guarantees for ComputationGraph and SameDiff pipelines: an error inside a
 * middle stage and a NaN loss stop every stage quickly, report the stage and micro-batch with the original
 * cause, leave no thread behind, keep completed updates (and nothing of the failed micro-batch), and leave
 * the wrapper usable.
 */
class ModelFailureTest {

    private static final Duration HANG_LIMIT = PipelineFailureTest.HANG_LIMIT;
    private static final long STOP_LIMIT_NANOS = PipelineFailureTest.STOP_LIMIT_NANOS;

    @BeforeEach
    void noLeftoverThreads() {
        PipelineFailureTest.startClean();
    }

    private static PipelineException fitExpectingFailure(AsyncPipelineWrapper w, DataSetIterator it) {
        return assertTimeoutPreemptively(HANG_LIMIT, () -> assertThrows(PipelineException.class, () -> w.fit(it)));
    }

    private static void assertStoppedFast(PipelineException e, long caught, long thrownAt, int stage, int microBatch) {
        assertEquals(stage, e.stage(), e.getMessage());
        assertEquals(microBatch, e.microBatch(), e.getMessage());
        assertTrue(e.getMessage().contains("stage " + stage) && e.getMessage().contains("micro-batch " + microBatch),
                e.getMessage());
        assertTrue(caught - thrownAt < STOP_LIMIT_NANOS, "fit threw " + (caught - thrownAt) / 1e6 + " ms after the fault");
        assertEquals(List.of(), liveStageThreads());
    }

    // ================================================================ ComputationGraph

    /** in(4) → d0 (identity) | trip (tripwire), d1 (tanh) | d2 (tanh) → out: cutAfter("d0", "d1"). */
    private static ComputationGraph tripwireGraph(long seed) {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(DataType.DOUBLE).updater(new Adam(0.01))
                .graphBuilder()
                .addInputs("in")
                .addLayer("d0", new DenseLayer.Builder().nIn(Iris.FEATURES).nOut(16).activation(Activation.IDENTITY)
                        .build(), "in")
                .addLayer("trip", new ActivationLayer.Builder().activation(new TripwireActivation()).build(), "d0")
                .addLayer("d1", new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH).build(), "trip")
                .addLayer("d2", new DenseLayer.Builder().nIn(16).nOut(8).activation(Activation.TANH).build(), "d1")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(Iris.CLASSES)
                        .activation(Activation.SOFTMAX).build(), "d2")
                .setOutputs("out")
                .build());
        g.init();
        return g;
    }

    /** As {@link PipelineFailureTest}: async batch 2 → rows 74-75 are micro-batch 37; GPipe M=2 → row 37 is. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"ASYNC_1F1B", "GPIPE"})
    void graphLayerErrorInStage1StopsEveryStageAndKeepsCompletedUpdates(Schedule schedule) {
        boolean sync = schedule.isSynchronous();
        ComputationGraph g = tripwireGraph(12);
        INDArray d0Before = g.getLayer("d0").params().dup();
        INDArray outBefore = g.getLayer("out").params().dup();
        List<DataSet> rows = sync ? Tripwire.rows(DataType.DOUBLE, 37) : Tripwire.rows(DataType.DOUBLE, 74, 75);
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(g).cutAfter("d0", "d1").schedule(schedule)
                .microBatches(2).build();
        assertArrayEquals(new int[] {1, 2, 2}, w.partition());

        PipelineException e = fitExpectingFailure(w, Tripwire.iterator(rows, 2));
        long caught = System.nanoTime();

        InjectedFault fault = TripwireActivation.LAST.get();
        assertNotNull(fault, "the tripwire never fired");
        assertSame(fault, e.getCause(), "the original exception must be the cause");
        assertEquals("async-pipeline-stage-1", fault.threadName, "fault must come from stage 1's thread");
        assertStoppedFast(e, caught, fault.nanoTime, 1, 37);
        int iterations = g.getIterationCount();
        if (sync) {
            assertEquals(18, iterations);
        } else {
            assertTrue(iterations >= 36 && iterations <= 37, "iterations " + iterations);
        }
        assertNotEquals(d0Before, g.getLayer("d0").params());
        assertNotEquals(outBefore, g.getLayer("out").params());
        assertFinite(g.params(), "params");
        assertFinite(g.getUpdater().getStateViewArray(), "updater state");

        // reusable: a clean epoch (150 rows in batches of 6) trains on
        INDArray paramsBefore = g.params().dup();
        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(Tripwire.iterator(Tripwire.rows(DataType.DOUBLE), 6)));
        assertEquals(iterations + 25, g.getIterationCount());
        assertNotEquals(paramsBefore, g.params());
        assertFinite(g.params(), "params after the next fit");
        assertEquals(List.of(), liveStageThreads());
        w.close();
    }

    /** Graphs.residual, 8 batches of 10; batch 3 has NaN features (GPipe M=2: micro-batch 6). */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"ASYNC_1F1B,3", "GPIPE,6"})
    void graphNaNLossFailsOnTheLastStageBeforeAnyUpdate(Schedule schedule, int expectedMicroBatch) {
        ComputationGraph g = Graphs.residual(new Adam(0.01), DataType.DOUBLE, 4);
        List<DataSet> data = Graphs.residualData(8, 10, DataType.DOUBLE, 6);
        DataSet bad = data.get(3);
        data.set(3, new DataSet(bad.getFeatures().dup().assign(Double.NaN), bad.getLabels()));
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(g).cutAfter("d1", "d3").schedule(schedule)
                .microBatches(2).build();

        PipelineException e = fitExpectingFailure(w, new ListDataSetIterator<>(data, 1));

        NonFiniteScoreException cause = assertInstanceOf(NonFiniteScoreException.class, e.getCause());
        assertTrue(cause.getMessage().contains("failOnNonFiniteScore(false)"), cause.getMessage());
        assertEquals(2, e.stage());
        assertEquals(expectedMicroBatch, e.microBatch());
        assertEquals(List.of(), liveStageThreads());
        assertEquals(3, g.getIterationCount(), "batches 0..2 kept, nothing of batch 3");
        assertFinite(g.params(), "params after a NaN loss");
        assertFinite(g.getUpdater().getStateViewArray(), "updater state after a NaN loss");

        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(new ListDataSetIterator<>(Graphs.residualData(5, 10,
                DataType.DOUBLE, 7), 1)));
        assertEquals(8, g.getIterationCount());
        assertFinite(g.params(), "params after the next fit");
        assertEquals(List.of(), liveStageThreads());
        w.close();
    }

    // ================================================================ SameDiff

    /**
     * in[-1,4] → h0 = tanh(in·w0 + b0) | h1 = tanh(reshape(reshape(h0, [-1,16]), [-1,8])·w1) | softmax(h1·w2)
     * → loss, cut after h0 and h1. The reshape to rows of 16 needs an even number of examples, so a
     * micro-batch of 3 examples fails inside stage 1 (shape checks only see [3,4] against [-1,4]).
     */
    private static SameDiff mlp(long seed) {
        Nd4j.getRandom().setSeed(seed);
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", DataType.DOUBLE, -1, 4);
        SDVariable label = sd.placeHolder("label", DataType.DOUBLE, -1, 3);
        SDVariable w0 = sd.var("w0", Nd4j.randn(DataType.DOUBLE, 4, 8).muli(0.5));
        SDVariable b0 = sd.var("b0", Nd4j.zeros(DataType.DOUBLE, 1, 8));
        SDVariable h0 = sd.math().tanh("h0", in.mmul(w0).add(b0));
        SDVariable pairs = h0.reshape(-1, 16);
        SDVariable w1 = sd.var("w1", Nd4j.randn(DataType.DOUBLE, 8, 8).muli(0.4));
        SDVariable h1 = sd.math().tanh("h1", pairs.reshape(-1, 8).mmul(w1));
        SDVariable w2 = sd.var("w2", Nd4j.randn(DataType.DOUBLE, 8, 3).muli(0.4));
        SDVariable out = sd.nn().softmax("out", h1.mmul(w2), 1);
        sd.loss().logLoss("loss", label, out);
        sd.setLossVariables("loss");
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(0.01)).dataSetFeatureMapping("in")
                .dataSetLabelMapping("label").build());
        return sd;
    }

    /** Iris batches of 4 rows; batch {@code special} (if >= 0) has {@code size} rows instead, NaN features if asked. */
    private static List<DataSet> iris(int batches, int special, int size, boolean nan) {
        List<DataSet> rows = Iris.all(DataType.DOUBLE).asList();
        List<DataSet> out = new ArrayList<>();
        int r = 0;
        for (int b = 0; b < batches; b++) {
            int n = b == special ? size : 4;
            DataSet d = DataSet.merge(rows.subList(r, r + n));
            r += n;
            out.add(b == special && nan ? new DataSet(d.getFeatures().dup().assign(Double.NaN), d.getLabels()) : d);
        }
        return out;
    }

    private static AsyncPipelineWrapper sameDiffPipeline(SameDiff sd, Schedule s) {
        return new AsyncPipelineWrapper.Builder(sd).cutAfter("h0", "h1").schedule(s).microBatches(2)
                .weightStashing(true).build();
    }

    private static int iterations(SameDiff sd) {
        return sd.getTrainingConfig().getIterationCount();
    }

    private static void assertVariablesAndStateFinite(SameDiff sd) {
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                assertFinite(v.getArr().ravel(), v.name());
            }
        }
        if (sd.getUpdaterMap() != null) {
            for (Map.Entry<String, GradientUpdater> e : sd.getUpdaterMap().entrySet()) {
                Map<String, INDArray> state = e.getValue().getState();
                if (state != null) {
                    state.forEach((k, a) -> assertFinite(a.ravel(), "updater state " + k + " of " + e.getKey()));
                }
            }
        }
    }

    private static double[] variables(SameDiff sd) {
        return Nd4j.toFlattened(sd.getVariable("w0").getArr(), sd.getVariable("b0").getArr(),
                sd.getVariable("w1").getArr(), sd.getVariable("w2").getArr()).toDoubleVector();
    }

    /** Batch 5 has NaN features (GPipe M=2: micro-batch 10); batches 0..4 are kept, nothing of batch 5. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"ASYNC_1F1B,5", "GPIPE,10"})
    void sameDiffNaNLossFailsBeforeTheBadGradientReachesAnyVariable(Schedule schedule, int expectedMicroBatch) {
        SameDiff sd = mlp(3);
        AsyncPipelineWrapper w = sameDiffPipeline(sd, schedule);

        PipelineException e = fitExpectingFailure(w, new ListDataSetIterator<>(iris(9, 5, 4, true), 1));

        NonFiniteScoreException cause = assertInstanceOf(NonFiniteScoreException.class, e.getCause());
        assertEquals(2, e.stage());
        assertEquals(expectedMicroBatch, e.microBatch());
        assertTrue(cause.getMessage().contains("failOnNonFiniteScore(false)"), cause.getMessage());
        assertEquals(List.of(), liveStageThreads());
        assertEquals(5, iterations(sd));
        assertVariablesAndStateFinite(sd);
        if (schedule.isSynchronous()) {
            // exactly the state of a run on the five good batches
            SameDiff reference = mlp(3);
            try (AsyncPipelineWrapper r = sameDiffPipeline(reference, schedule)) {
                r.fit(new ListDataSetIterator<>(iris(5, -1, 0, false), 1));
            }
            assertArrayEquals(variables(reference), variables(sd), 1e-12, "variables vs. the good batches alone");
        }

        double[] before = variables(sd);
        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(new ListDataSetIterator<>(iris(6, -1, 0, false), 1)));
        assertEquals(11, iterations(sd));
        assertVariablesAndStateFinite(sd);
        assertTrue(!Arrays.equals(before, variables(sd)), "the next fit trained");
        assertEquals(List.of(), liveStageThreads());
        w.close();
    }

    /**
     * A SameDiff op fails inside stage 1 on one micro-batch: batch 5 has 3 rows (async: micro-batch 5) or
     * 6 rows (GPipe M=2: micro-batches 10 and 11 of 3 rows; 10 fails first).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"ASYNC_1F1B,3,5", "GPIPE,6,10"})
    void sameDiffOpErrorInStage1StopsEveryStage(Schedule schedule, int badSize, int expectedMicroBatch) {
        SameDiff sd = mlp(5);
        double[] initial = variables(sd);
        AsyncPipelineWrapper w = sameDiffPipeline(sd, schedule);

        long[] handedOut = {0};
        DataSetIterator data = new ListDataSetIterator<>(iris(9, 5, badSize, false), 1) {
            private int served;

            @Override
            public DataSet next() {
                if (served++ == 5) {
                    handedOut[0] = System.nanoTime();     // the op fails after this
                }
                return super.next();
            }
        };
        PipelineException e = fitExpectingFailure(w, data);
        long caught = System.nanoTime();

        Throwable cause = e.getCause();
        assertNotNull(cause);
        assertTrue(!(cause instanceof PipelineException), "the op's own exception is the cause: " + cause);
        assertTrue(String.valueOf(cause.getMessage()).contains("Op reshape"), "cause names the failing op: " + cause);
        assertTrue(handedOut[0] > 0, "batch 5 was never taken");
        assertStoppedFast(e, caught, handedOut[0], 1, expectedMicroBatch);
        int it = iterations(sd);
        if (schedule.isSynchronous()) {
            assertEquals(5, it);
        } else {
            assertTrue(it >= 4 && it <= 5, "iterations " + it);
        }
        assertTrue(!Arrays.equals(initial, variables(sd)), "completed updates kept");
        assertVariablesAndStateFinite(sd);

        assertFitsAgain(w, sd, it);
    }

    /**
     * The transformer (3 blocks, one per stage; weight stashing): NaN labels in batch 3 make the loss NaN.
     * (NaN token ids do not: the one-hot embedding casts them to an index, so they are not detected.)
     */
    @Test
    void transformerNaNLabelsFailOnTheLastStageBeforeAnyUpdate() {
        TransformerConfig c = SameDiffAsyncStashingTest.C;
        SameDiff sd = SameDiffAsyncStashingTest.graph(new Adam(1e-2));
        List<DataSet> data = SameDiffPipelineTest.batches(6, 2, 5);
        data.set(3, new DataSet(data.get(3).getFeatures(), data.get(3).getLabels().dup().assign(Double.NaN)));
        AsyncPipelineWrapper w = SameDiffAsyncStashingTest.stashing(sd).build();

        PipelineException e = fitExpectingFailure(w, new ListDataSetIterator<>(data, 1));

        assertInstanceOf(NonFiniteScoreException.class, e.getCause());
        assertEquals(c.layers() - 1, e.stage());
        assertEquals(3, e.microBatch());
        assertEquals(3, iterations(sd));
        assertVariablesAndStateFinite(sd);
        assertEquals(List.of(), liveStageThreads());

        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(new ListDataSetIterator<>(SameDiffPipelineTest.batches(4, 2, 6),
                1)));
        assertEquals(7, iterations(sd));
        assertVariablesAndStateFinite(sd);
        w.close();
    }

    /** The iterator's next() throws for batch 5: the message blames the iterator, at the micro-batch stage 0 was fetching. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"ASYNC_1F1B,5", "GPIPE,10"})
    void sameDiffSourceErrorStopsEveryStageWithTheIteratorsException(Schedule schedule, int expectedMicroBatch) {
        SameDiff sd = mlp(7);
        AsyncPipelineWrapper w = sameDiffPipeline(sd, schedule);
        IllegalStateException broken = new IllegalStateException("disk gone");
        long[] thrownAt = {0};
        DataSetIterator data = new ListDataSetIterator<>(iris(9, -1, 0, false), 1) {
            private int served;

            @Override
            public DataSet next() {
                if (served++ == 5) {
                    thrownAt[0] = System.nanoTime();
                    throw broken;
                }
                return super.next();
            }
        };

        PipelineException e = fitExpectingFailure(w, data);
        long caught = System.nanoTime();

        assertSame(broken, e.getCause(), "the iterator's exception must be the cause");
        assertTrue(e.getMessage().contains("the training iterator failed while stage 0 read micro-batch "
                + expectedMicroBatch), e.getMessage());
        assertStoppedFast(e, caught, thrownAt[0], 0, expectedMicroBatch);
        int it = iterations(sd);
        if (schedule.isSynchronous()) {
            assertEquals(5, it);
        } else {
            assertTrue(it >= 3 && it <= 5, "iterations " + it);
        }
        assertVariablesAndStateFinite(sd);

        assertFitsAgain(w, sd, it);
    }

    /** After a failure the wrapper trains 6 more batches normally and leaves no thread behind. */
    private static void assertFitsAgain(AsyncPipelineWrapper w, SameDiff sd, int iterationsBefore) {
        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(new ListDataSetIterator<>(iris(6, -1, 0, false), 1)));
        assertEquals(iterationsBefore + 6, iterations(sd));
        assertVariablesAndStateFinite(sd);
        assertEquals(List.of(), liveStageThreads());
        w.close();
    }
}
