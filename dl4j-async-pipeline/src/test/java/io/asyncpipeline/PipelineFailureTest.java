package io.asyncpipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.testdata.Tripwire;
import io.asyncpipeline.testdata.Tripwire.InjectedFault;
import io.asyncpipeline.testdata.Tripwire.TripwireActivation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Stage failures, NaN losses, stopFit and interrupts: the pipeline stops every stage quickly, reports the
 * stage and micro-batch with the original cause, leaves no thread behind and keeps completed updates.
 */
class PipelineFailureTest {

    static final Duration HANG_LIMIT = Duration.ofSeconds(90);
    /** "All stages stop within seconds." */
    static final long STOP_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    @BeforeEach
    void noLeftoverThreads() {
        startClean();
    }

    /** No stage thread of an earlier test is alive, and the tripwire has not fired yet. */
    static void startClean() {
        assertEquals(List.of(), liveStageThreads(), "stage threads left by an earlier test");
        TripwireActivation.LAST.set(null);
    }

    static List<String> liveStageThreads() {
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("async-pipeline-stage-")) {
                names.add(t.getName());
            }
        }
        return names;
    }

    static void assertFinite(INDArray a, String what) {
        for (double v : a.toDoubleVector()) {
            assertTrue(Double.isFinite(v), what + " has a non-finite value " + v);
        }
    }

    static boolean hasNaN(INDArray a) {
        for (double v : a.toDoubleVector()) {
            if (Double.isNaN(v)) {
                return true;
            }
        }
        return false;
    }

    private static PipelineException fitExpectingFailure(AsyncPipelineWrapper w, DataSetIterator it) {
        return assertTimeoutPreemptively(HANG_LIMIT, () -> assertThrows(PipelineException.class, () -> w.fit(it)));
    }

    // ---------------------------------------------------------------- 1. a layer throws inside stage 1

    /**
     * Asynchronous: DataSet = micro-batch, batch 2, so micro-batch 37 is rows 74-75. Synchronous with M=2:
     * micro-batch 37 is row 37 (second half of mini-batch 18).
     */
    @ParameterizedTest(name = "{0} replay={1}")
    @CsvSource({"ASYNC_1F1B,false", "ASYNC_1F1B,true", "GPIPE,false", "GPIPE,true", "ONE_F_ONE_B,false"})
    void layerErrorInStage1AtMicroBatch37StopsEveryStageAndKeepsCompletedUpdates(Schedule schedule, boolean replay) {
        boolean sync = schedule.isSynchronous();
        MultiLayerNetwork net = Tripwire.net(new Adam(0.01), DataType.DOUBLE, 12);
        INDArray stage0Before = net.getLayer(0).params().dup();
        INDArray stage2Before = net.getLayer(3).params().dup();
        List<DataSet> rows = sync ? Tripwire.rows(DataType.DOUBLE, 37) : Tripwire.rows(DataType.DOUBLE, 74, 75);
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(Tripwire.PARTITION).schedule(schedule)
                .microBatches(2).singleThreadedReplay(replay).build();

        PipelineException e = fitExpectingFailure(w, Tripwire.iterator(rows, 2));
        long caught = System.nanoTime();

        InjectedFault fault = TripwireActivation.LAST.get();
        assertNotNull(fault, "the tripwire never fired");
        assertSame(fault, e.getCause(), "the original exception must be the cause");
        assertEquals(1, e.stage());
        assertEquals(37, e.microBatch());
        assertTrue(e.getMessage().contains("stage 1") && e.getMessage().contains("micro-batch 37"), e.getMessage());
        if (!replay) {
            assertEquals("async-pipeline-stage-1", fault.threadName, "fault must come from stage 1's thread");
            assertTrue(caught - fault.nanoTime < STOP_LIMIT_NANOS,
                    "fit threw " + (caught - fault.nanoTime) / 1e6 + " ms after the fault");
        }
        assertEquals(List.of(), liveStageThreads());

        // completed updates kept: in async 1F1B stage 1 did U(0..35) before F(37), and stage 2 cannot get past
        // U(36); in a synchronous schedule mini-batches 0..17 were complete, 18 was not.
        int iterations = net.getIterationCount();
        if (sync) {
            assertEquals(18, iterations);
        } else {
            assertTrue(iterations >= 36 && iterations <= 37, "iterations " + iterations);
        }
        assertNotEquals(stage0Before, net.getLayer(0).params());
        assertNotEquals(stage2Before, net.getLayer(3).params());
        assertFinite(net.params(), "params");
        assertFinite(net.getUpdater().getStateViewArray(), "updater state");
    }

    // ---------------------------------------------------------------- 2. NaN loss

    /** Iris in batches of 10; row 52 (batch 5; micro-batch 10 of GPIPE M=2) has NaN features. */
    private static List<DataSet> rowsWithNaN() {
        List<DataSet> rows = Iris.all(DataType.DOUBLE).asList();
        DataSet d = rows.get(52);
        rows.set(52, new DataSet(d.getFeatures().dup().assign(Double.NaN), d.getLabels().dup()));
        return rows;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"ASYNC_1F1B,5", "GPIPE,10", "ONE_F_ONE_B,10"})
    void nanLossFailsOnTheLastStageWithNonFiniteScoreException(Schedule schedule, int expectedMicroBatch) {
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.DOUBLE, 5);
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).schedule(schedule)
                .microBatches(2).build();

        PipelineException e = fitExpectingFailure(w, new ListDataSetIterator<>(rowsWithNaN(), 10));

        NonFiniteScoreException cause = assertInstanceOf(NonFiniteScoreException.class, e.getCause());
        assertTrue(cause.getMessage().contains("failOnNonFiniteScore(false)"), cause.getMessage());
        assertEquals(2, e.stage());
        assertEquals(expectedMicroBatch, e.microBatch());
        assertEquals(List.of(), liveStageThreads());
        // the NaN micro-batch's gradients never reached an update: batches 0..4 are kept, the network is usable
        assertEquals(5, net.getIterationCount());
        assertFinite(net.params(), "params after a NaN loss");
        assertFinite(net.getUpdater().getStateViewArray(), "updater state after a NaN loss");
    }

    @Test
    void nanLossIsIgnoredWhenFailOnNonFiniteScoreIsOff() {
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.DOUBLE, 5);
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1)
                .failOnNonFiniteScore(false).build();
        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(new ListDataSetIterator<>(rowsWithNaN(), 10)));
        assertEquals(15, net.getIterationCount());
        assertTrue(hasNaN(net.params()), "the NaN batch should have reached the parameters (flag off)");
        assertEquals(List.of(), liveStageThreads());
    }

    // ---------------------------------------------------------------- 3. stopFit from a listener

    @Test
    void stopFitFromAListenerDrainsAndReturnsNearTheRequestedIteration() {
        int p = 3;
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.DOUBLE, 3);
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).build();
        List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
        net.setListeners(new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                seen.add(iteration);
                if (iteration == 10) {
                    w.stopFit();
                }
            }
        });

        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(Iris.iterator(5, DataType.DOUBLE), 3)); // 30 per epoch

        // Stop is seen by stage 0 when it asks for the next micro-batch. When the last stage finishes U(10),
        // stage 0 can have taken at most micro-batches 0..10+P (it needs B(m) from the last stage before
        // F(m+P)); everything taken is drained, so 11 <= updates <= 11 + P.
        int iterations = net.getIterationCount();
        assertTrue(iterations >= 11 && iterations <= 11 + p, "iterations " + iterations);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < iterations; i++) {
            expected.add(i);
        }
        assertEquals(expected, seen, "every update reported once, in order");
        for (int k = 0; k < p; k++) {
            assertEquals(iterations, w.metrics().stage(k).updates(), "stage " + k + " drained");
        }
        assertEquals(iterations, w.metrics().microBatches());
        assertEquals(List.of(), liveStageThreads());

        // the stop request does not stick to the next fit
        net.setListeners();
        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(Iris.iterator(5, DataType.DOUBLE)));
        assertEquals(iterations + 30, net.getIterationCount());
    }

    // ---------------------------------------------------------------- 4. interrupt

    @Test
    void interruptingTheFittingThreadStopsTheRunWithPipelineException() throws Exception {
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.FLOAT, 4);
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).build();
        CountDownLatch running = new CountDownLatch(20);
        net.setListeners(new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                running.countDown();
            }
        });
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean interruptFlag = new AtomicBoolean();
        AtomicBoolean returnedNormally = new AtomicBoolean();
        Thread caller = new Thread(() -> {
            try {
                w.fit(Iris.iterator(1, DataType.FLOAT), 10_000); // 1.5M micro-batches: never ends by itself
                returnedNormally.set(true);
            } catch (Throwable t) {
                thrown.set(t);
            }
            interruptFlag.set(Thread.currentThread().isInterrupted());
        }, "fit-caller");
        caller.setDaemon(true);
        caller.start();

        long stopNanos = assertTimeoutPreemptively(HANG_LIMIT, () -> {
            running.await();
            long t0 = System.nanoTime();
            caller.interrupt();
            caller.join();
            return System.nanoTime() - t0;
        });

        assertFalse(returnedNormally.get());
        PipelineException e = assertInstanceOf(PipelineException.class, thrown.get());
        assertInstanceOf(InterruptedException.class, e.getCause());
        assertEquals(-1, e.stage());
        assertTrue(interruptFlag.get(), "fit must restore the interrupt flag");
        assertTrue(stopNanos < STOP_LIMIT_NANOS, "stopped " + stopNanos / 1e6 + " ms after the interrupt");
        assertEquals(List.of(), liveStageThreads());
        assertTrue(net.getIterationCount() >= 20);
        assertFinite(net.params(), "params");

        // the wrapper is not left "running"
        net.setListeners();
        int before = net.getIterationCount();
        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(Iris.iterator(50, DataType.FLOAT)));
        assertEquals(before + 3, net.getIterationCount());
    }

    // ---------------------------------------------------------------- 6. reuse after a failure

    @Test
    void wrapperIsReusableAfterALayerFailure() {
        MultiLayerNetwork net = Tripwire.net(new Adam(0.01), DataType.DOUBLE, 21);
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(Tripwire.PARTITION).build();
        fitExpectingFailure(w, Tripwire.iterator(Tripwire.rows(DataType.DOUBLE, 20), 5));
        int before = net.getIterationCount();
        INDArray paramsBefore = net.params().dup();

        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(Tripwire.iterator(Tripwire.rows(DataType.DOUBLE), 5)));

        assertEquals(before + 30, net.getIterationCount());
        assertNotEquals(paramsBefore, net.params());
        assertFinite(net.params(), "params");
        assertEquals(List.of(), liveStageThreads());
    }

    /** The failed run left a half-accumulated NaN gradient on the last stage; it must not leak into the next fit. */
    @ParameterizedTest
    @CsvSource({"ASYNC_1F1B", "GPIPE", "ONE_F_ONE_B"})
    void wrapperIsReusableAfterANaNBatch(Schedule schedule) {
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.DOUBLE, 8);
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).schedule(schedule)
                .microBatches(2).build();
        fitExpectingFailure(w, new ListDataSetIterator<>(rowsWithNaN(), 10));
        DataSet all = Iris.all(DataType.DOUBLE);
        double scoreBefore = net.score(all);

        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(Iris.iterator(10, DataType.DOUBLE), 5));

        assertFinite(net.params(), "params");
        double scoreAfter = net.score(all);
        assertTrue(scoreAfter < scoreBefore, "training resumed: loss " + scoreBefore + " -> " + scoreAfter);
        assertEquals(List.of(), liveStageThreads());
    }
}
