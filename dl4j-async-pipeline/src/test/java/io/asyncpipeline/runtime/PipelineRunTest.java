package io.asyncpipeline.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.schedule.Action;
import io.asyncpipeline.schedule.PipelineSchedule;
import io.asyncpipeline.schedule.Schedules;
import io.asyncpipeline.stage.MicroBatchSource;
import io.asyncpipeline.stage.ScheduleOrderException;
import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.stage.UpdateObserver;
import io.asyncpipeline.transport.InJvmTransport;
import io.asyncpipeline.transport.Message;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** One pipeline run on plain stand-in stages: wiring, replay, and the grid in ordering and deadlock errors. */
class PipelineRunTest {

    /** Passes its input on; counts updates. */
    private static final class PassThrough implements StageComputation {
        int updates;

        @Override
        public INDArray[] forward(Message input, int slot, int iteration, int epoch) {
            return new INDArray[] {input.tensors()[0]};
        }

        @Override
        public int slots() {
            return 4;
        }

        @Override
        public INDArray[] backward(Message input, INDArray[] outputGradients, int slot) {
            return new INDArray[] {input.tensors()[0]};
        }

        @Override
        public INDArray[] lastOutputMasks() {
            return null;
        }

        @Override
        public double lastScore() {
            return 0;
        }

        @Override
        public void update(int iteration, int epoch, int examples) {
            updates++;
        }

        @Override
        public INDArray params() {
            return Nd4j.zeros(1, 1);
        }
    }

    private static MicroBatchSource source(int n) {
        int[] next = {0};
        return () -> next[0] < n
                ? new Message(next[0]++, 0, 1, new INDArray[] {Nd4j.zeros(1, 1)}, null, null, null)
                : Message.END;
    }

    /** A schedule whose stage k runs the given compact actions, then async 1F1B's stream from micro-batch 100. */
    private static PipelineSchedule scripted(String... perStage) {
        return new PipelineSchedule() {
            @Override
            public String name() {
                return "scripted";
            }

            @Override
            public int microBatchesPerUpdate() {
                return 1;
            }

            @Override
            public Iterator<Action> stream(int stage, int stages) {
                List<Action> list = new ArrayList<>();
                for (String a : perStage[stage].split(" ")) {
                    list.add(Action.parse(a));
                }
                return list.iterator();
            }
        };
    }

    private static RunSettings settings(PipelineSchedule s, boolean replay) {
        return new RunSettings(s, 6, new int[] {0, 0}, true, 1, replay, 0, 0, 0);
    }

    private static PipelineRun run(PipelineSchedule s, boolean replay, List<PassThrough> stages) {
        return new PipelineRun(List.copyOf(stages), settings(s, replay), new InJvmTransport());
    }

    private static final UpdateObserver NONE = (step, iteration, epoch, score, mb) -> { };

    @Test
    void replayAndThreadsBothRunTheWholeStream() throws InterruptedException {
        for (boolean replay : new boolean[] {true, false}) {
            List<PassThrough> stages = List.of(new PassThrough(), new PassThrough());
            PipelineRun.Result r = run(Schedules.async1F1B(), replay, stages).run(source(7), NONE, 0);
            assertEquals(2, r.stages().size());
            for (int k = 0; k < 2; k++) {
                assertEquals(7, stages.get(k).updates, "stage " + k + ", replay " + replay);
                assertEquals(7, r.stages().get(k).updates());
            }
        }
    }

    @Test
    void aReplayDeadlockPrintsTheGrid() {
        // stage 0 wants a gradient before it has sent anything; stage 1 waits for an activation
        PipelineSchedule stuck = scripted("0F0 0B1 0B0 0U0", "1F0 1F1 1B0 1U0");
        List<PassThrough> stages = List.of(new PassThrough(), new PassThrough());
        RunFailedException e = assertThrows(RunFailedException.class, () -> run(stuck, true, stages).run(source(2), NONE, 0));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        String m = e.getMessage();
        assertTrue(m.contains("replay deadlocked: no stage can make progress"), m);
        assertTrue(m.contains("scripted on 2 stages, executed so far:"), m);
        assertTrue(m.contains("S0 |F0"), m);
        assertTrue(m.contains("stage 1: next 1F1 waits for 0F1"), m);
    }

    @Test
    void anOrderingErrorInThreadsPrintsTheGrid() {
        // stage 0 forwards 0 then 1, but stage 1 expects micro-batch 1 first
        PipelineSchedule crossed = scripted("0F0 0F1 0B0 0U0 0B1 0U1", "1F1 1B1 1U0 1F0 1B0 1U1");
        List<PassThrough> stages = List.of(new PassThrough(), new PassThrough());
        RunFailedException e = assertThrows(RunFailedException.class, () -> run(crossed, false, stages).run(source(2), NONE, 0));
        assertInstanceOf(ScheduleOrderException.class, e.getCause());
        assertEquals(1, e.stage());
        String m = e.getMessage();
        assertTrue(m.startsWith("stage 1 failed at micro-batch 1: "), m);
        assertTrue(m.contains("expected micro-batch 1 for its forward but received 0"), m);
        assertTrue(m.contains("scripted on 2 stages, executed so far:"), m);
    }

    @Test
    void theReplayCostClockIsWallOrCpuAndAnythingElseIsRefusedByName() {
        String before = System.getProperty(PipelineRun.REPLAY_COSTS_PROPERTY);
        try {
            System.clearProperty(PipelineRun.REPLAY_COSTS_PROPERTY);
            org.junit.jupiter.api.Assertions.assertFalse(PipelineRun.replayCpuTimeCosts(), "wall by default");
            System.setProperty(PipelineRun.REPLAY_COSTS_PROPERTY, "cpu");
            org.junit.jupiter.api.Assertions.assertTrue(PipelineRun.replayCpuTimeCosts());
            System.setProperty(PipelineRun.REPLAY_COSTS_PROPERTY, "gpu");
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    PipelineRun::replayCpuTimeCosts);
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'gpu'"), e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(PipelineRun.REPLAY_COSTS_PROPERTY);
            } else {
                System.setProperty(PipelineRun.REPLAY_COSTS_PROPERTY, before);
            }
        }
    }
}
