package io.asyncpipeline.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.schedule.Action;
import io.asyncpipeline.schedule.PipelineSchedule;
import io.asyncpipeline.schedule.Schedules;
import io.asyncpipeline.schedule.StagePlan;
import io.asyncpipeline.transport.BoundedChannel;
import io.asyncpipeline.transport.Channel;
import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The stage interpreter on its own: two workers, recording computations, bounded channels, no model. */
class StageWorkerTest {

    private record Pipeline(List<StageWorker> workers, List<RecordingComputation> computations, FailureHandler failures,
                            Channel forward, Channel backward) {
    }

    /** A source of {@code n} one-row micro-batches. */
    private static MicroBatchSource source(int n) {
        int[] next = {0};
        return () -> next[0] < n
                ? new Message(next[0], 0, 1, new INDArray[] {Nd4j.scalar((double) next[0]++)}, null, null, null)
                : Message.END;
    }

    /** Two stages with weight stashing, so no backward re-runs its forward: the record is the schedule itself. */
    private static Pipeline twoStages(PipelineSchedule schedule, int n, int failStage, int failAt) {
        HaltSignal halt = new HaltSignal();
        FailureHandler failures = new FailureHandler(halt);
        Channel fwd = new BoundedChannel(4, halt);
        Channel bwd = new BoundedChannel(4, halt);
        List<RecordingComputation> comps = new ArrayList<>();
        List<StageWorker> workers = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            RecordingComputation c = new RecordingComputation(k, 2, k == failStage ? failAt : -1);
            comps.add(c);
            StageLinks links = k == 0 ? new StageLinks(null, fwd, bwd, null, source(n), null)
                    : new StageLinks(fwd, null, null, bwd, null, null);
            workers.add(new StageWorker(k, 2, c, schedule.stream(k, 2), links, new StageOptions(0, true, 0, 1),
                    new StageMetrics(k), failures));
        }
        return new Pipeline(workers, comps, failures, fwd, bwd);
    }

    private static List<String> compact(List<Action> actions) {
        List<String> out = new ArrayList<>();
        for (Action a : actions) {
            out.add(a.toString());
        }
        return out;
    }

    private static void runThreads(List<StageWorker> workers) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (StageWorker w : workers) {
            Thread t = new Thread(w, "test-stage-" + w.stage());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(t.isAlive(), t.getName() + " did not stop");
        }
    }

    @Test
    void threadedWorkersExecuteExactlyTheTruncatedPlan() throws InterruptedException {
        for (PipelineSchedule s : new PipelineSchedule[] {Schedules.async1F1B(), Schedules.gpipe(2), Schedules.oneFOneB(2)}) {
            int n = 6;
            Pipeline p = twoStages(s, n, -1, -1);
            runThreads(p.workers());
            StagePlan plan = s.plan(2, n);
            for (int k = 0; k < 2; k++) {
                assertEquals(compact(plan.actions(k)), p.computations().get(k).done, s.name() + ", stage " + k);
                assertEquals(StageWorker.State.FINISHED, p.workers().get(k).state());
                assertEquals(plan.actions(k).size(), p.workers().get(k).actionsExecuted());
                assertEquals(n, p.workers().get(k).streamEnd());
            }
            assertEquals(null, p.failures().failure());
        }
    }

    @Test
    void steppedWorkersMatchThreadedOnes() throws Exception {
        Pipeline p = twoStages(Schedules.async1F1B(), 5, -1, -1);
        boolean[] done = new boolean[2];
        while (!(done[0] && done[1])) {
            boolean progress = false;
            for (int k = 0; k < 2; k++) {
                if (!done[k]) {
                    StageWorker.Step step = p.workers().get(k).step(false);
                    done[k] = step == StageWorker.Step.DONE;
                    progress |= step != StageWorker.Step.BLOCKED;
                }
            }
            assertTrue(progress, "no stage could move");
        }
        assertEquals(compact(Schedules.async1F1B(2, 5).actions(0)), p.computations().get(0).done);
        assertEquals(compact(Schedules.async1F1B(2, 5).actions(1)), p.computations().get(1).done);
    }

    @Test
    void aWorkerRunsOnce() throws InterruptedException {
        Pipeline p = twoStages(Schedules.async1F1B(), 2, -1, -1);
        runThreads(p.workers());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.workers().get(0).run());
        assertTrue(e.getMessage().contains("already started"), e.getMessage());
    }

    @Test
    void aFailingStageHaltsItsNeighbourAndKeepsTheFirstCause() throws InterruptedException {
        Pipeline p = twoStages(Schedules.async1F1B(), 8, 1, 3);
        runThreads(p.workers());
        FailureHandler.Failure f = p.failures().failure();
        assertNotNull(f);
        assertEquals(1, f.stage());
        assertEquals(3, f.microBatch());
        assertInstanceOf(IllegalStateException.class, f.cause());
        assertEquals(StageWorker.State.FAILED, p.workers().get(1).state());
        assertEquals(StageWorker.State.HALTED, p.workers().get(0).state(), "stage 0 blocked on a channel and gave up");
        assertFalse(p.computations().get(1).done.contains("1F3"));
    }

    @Test
    void aMessageOutOfScheduleOrderIsAnOrderingError() throws Exception {
        HaltSignal halt = new HaltSignal();
        FailureHandler failures = new FailureHandler(halt);
        Channel fwd = new BoundedChannel(4, halt);
        Channel bwd = new BoundedChannel(4, halt);
        StageWorker last = new StageWorker(1, 2, new RecordingComputation(1, 1, -1), Schedules.async1F1B().stream(1, 2),
                new StageLinks(fwd, null, null, bwd, null, null), new StageOptions(0, false, 0, 1), new StageMetrics(1),
                failures);
        fwd.send(new Message(1, 0, 1, new INDArray[] {Nd4j.scalar(1.0)}, null, null, null));
        ScheduleOrderException e = assertThrows(ScheduleOrderException.class, () -> last.step(true));
        assertEquals("stage 1 expected micro-batch 0 for its forward but received 1 (schedule and channels disagree)",
                e.getMessage());
    }

    /** Weight stashing reuses its copies: the number of new copies stays bounded however long the stream is. */
    @Test
    void theStashAllocatesNoNewCopyInTheSteadyState() throws InterruptedException {
        for (int n : new int[] {10, 60}) {
            Pipeline p = twoStages(Schedules.async1F1B(), n, -1, -1);
            runThreads(p.workers());
            RecordingComputation first = p.computations().get(0);
            assertTrue(first.snapshots <= 3, first.snapshots + " copies allocated for " + n + " micro-batches");
            assertTrue(first.snapshotsInto >= n - 3, "later snapshots reuse a copy: " + first.snapshotsInto);
            assertEquals(Schedules.async1F1B(2, n).actions(0).size(), p.workers().get(0).actionsExecuted());
        }
    }

    /**
     * With {@code cpuTimeCosts} the metrics charge a forward its thread's CPU time: a forward that waits 30 ms without
     * computing costs about nothing, where elapsed time charges it the 30 ms.
     */
    @Test
    void cpuTimeCostsLeaveOutTimeTheStageDidNotRun() throws InterruptedException {
        long[] forwardNanos = new long[2];
        for (int mode = 0; mode < 2; mode++) {
            boolean cpu = mode == 1;
            HaltSignal halt = new HaltSignal();
            FailureHandler failures = new FailureHandler(halt);
            Channel fwd = new BoundedChannel(4, halt);
            Channel bwd = new BoundedChannel(4, halt);
            List<StageWorker> workers = new ArrayList<>();
            StageMetrics first = new StageMetrics(0);
            for (int k = 0; k < 2; k++) {
                RecordingComputation c = new RecordingComputation(k, 2, -1) {
                    @Override
                    public INDArray[] forward(Message input, int slot, int iteration, int epoch) {
                        try {
                            Thread.sleep(30);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return super.forward(input, slot, iteration, epoch);
                    }
                };
                StageLinks links = k == 0 ? new StageLinks(null, fwd, bwd, null, source(5), null)
                        : new StageLinks(fwd, null, null, bwd, null, null);
                workers.add(new StageWorker(k, 2, c, Schedules.async1F1B().stream(k, 2), links,
                        new StageOptions(0, true, 0, 1, io.asyncpipeline.transport.BoundaryCompression.NONE, cpu),
                        k == 0 ? first : new StageMetrics(k), failures));
            }
            runThreads(workers);
            forwardNanos[mode] = first.forwardNanos();
        }
        assertTrue(forwardNanos[0] >= 5 * 30_000_000L, "elapsed: " + forwardNanos[0] + " ns for 5 forwards of 30 ms");
        assertTrue(forwardNanos[1] < 5 * 10_000_000L, "CPU time: " + forwardNanos[1] + " ns for 5 sleeping forwards");
    }
}
