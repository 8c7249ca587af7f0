package io.asyncpipeline.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class SchedulesTest {

    @Test
    void goldenAsync1F1B() {
        assertEquals(TestResources.golden("async1f1b_P3_N5.txt"), Schedules.async1F1B(3, 5).toCompactString());
    }

    @Test
    void goldenGpipe() {
        assertEquals(TestResources.golden("gpipe_P2_M3_J2.txt"), Schedules.gpipe(2, 3, 2).toCompactString());
    }

    @Test
    void goldenOneFOneB() {
        assertEquals(TestResources.golden("onefoneb_P3_M4_J1.txt"), Schedules.oneFOneB(3, 4, 1).toCompactString());
    }

    @Test
    void smallHandDerivedCases() {
        assertEquals("0F0 0B0 0U0 0F1 0B1 0U1 0F2 0B2 0U2", Schedules.async1F1B(1, 3).toCompactString());
        // warm-up clipped to N = 2 on stage 0 (tau = 3) and stage 1 (tau = 2)
        assertEquals("0F0 0F1 0B0 0U0 0B1 0U1", Schedules.async1F1B(4, 2).actions(0).stream()
                .map(Action::toString).reduce((a, b) -> a + " " + b).orElseThrow());
        // stages 0 and 1 warm up with all M = 2 forwards; stage 2 warms up with one
        assertEquals("0F0 0F1 0B0 0B1 0U0\n1F0 1F1 1B0 1B1 1U0\n2F0 2F1 2B0 2B1 2U0\n3F0 3B0 3F1 3B1 3U0",
                Schedules.oneFOneB(4, 2, 1).toCompactString());
    }

    @Test
    void delayIsStagesMinusOneMinusStage() {
        assertEquals(3, Schedules.delay(0, 4));
        assertEquals(1, Schedules.delay(2, 4));
        assertEquals(0, Schedules.delay(3, 4));
        assertEquals(0, Schedules.delay(0, 1));
        assertMessage(() -> Schedules.delay(4, 4), "stage must be in 0..3 but was 4");
        assertMessage(() -> Schedules.delay(-1, 4), "but was -1");
    }

    @Test
    void asyncVersionProperty() {
        for (int p : new int[] {1, 2, 3, 5, 8}) {
            for (int n : new int[] {1, 2, 4, 7, 20}) {
                StagePlan plan = Schedules.async1F1B(p, n);
                for (int k = 0; k < p; k++) {
                    checkVersions(plan.actions(k), Schedules.delay(k, p), n);
                }
            }
        }
    }

    private static void checkVersions(List<Action> actions, int tau, int n) {
        int updates = 0;
        int forwards = 0;
        int backwards = 0;
        for (int i = 0; i < actions.size(); i++) {
            Action a = actions.get(i);
            switch (a.type()) {
                case FORWARD -> {
                    assertEquals(Math.max(0, a.index() - tau), updates, "version of " + a);
                    forwards++;
                }
                case BACKWARD -> {
                    assertEquals(a.index(), updates, "version at " + a);
                    assertEquals(Action.update(a.stage(), a.index()), actions.get(i + 1), "update after " + a);
                    backwards++;
                }
                case UPDATE -> updates++;
            }
        }
        assertEquals(n, forwards);
        assertEquals(n, backwards);
        assertEquals(n, updates);
    }

    @Test
    void extraInFlightPerCutMultipliesTheDelayAndTheWindowAndStaysValid() {
        for (int e : new int[] {1, 2, 5}) {
            PipelineSchedule s = Schedules.async1F1B(e);
            assertEquals(e, s.extraInFlightPerCut());
            for (int p : new int[] {1, 2, 3, 5}) {
                StagePlan analysis = s.analysisPlan(p);
                PlanValidator.validate(analysis);
                for (int k = 0; k < p; k++) {
                    int tau = (1 + e) * (p - 1 - k);
                    assertEquals(tau, s.delay(k, p));
                    assertEquals(tau, PlanStats.maxDelay(analysis, k), "e=" + e + " P=" + p + " stage " + k);
                    assertEquals(tau + 1, PlanStats.inFlight(analysis, k), "e=" + e + " P=" + p + " stage " + k);
                }
                for (int n : new int[] {1, 3, 20}) {
                    StagePlan plan = s.plan(p, n);
                    PlanValidator.validate(plan);
                    for (int k = 0; k < p; k++) {
                        checkVersions(plan.actions(k), s.delay(k, p), n);
                    }
                }
            }
        }
        assertEquals(Schedules.async1F1B(4, 10).toCompactString(), Schedules.async1F1B(0).plan(4, 10).toCompactString());
        assertEquals("async 1F1B (+2 in flight per cut)", Schedules.async1F1B(2).name());
        assertEquals(2, Schedules.named("ASYNC_1F1B", 4, 2).extraInFlightPerCut());
        assertMessage(() -> Schedules.async1F1B(-1), "extraInFlight must be 0..64 micro-batches per cut, got -1");
        assertMessage(() -> Schedules.async1F1B(65), "got 65");
        assertMessage(() -> Schedules.named("GPIPE", 4, 1), "extraInFlight(1) needs the ASYNC_1F1B schedule, not GPIPE");
        assertEquals(3, Schedules.named("GPIPE", 4, 0).delay(0, 4), "synchronous: the warm-up depth, as before");
    }

    @Test
    void oneFOneBKeepsAtMostStagesMinusKInFlight() {
        int p = 6;
        int m = 9;
        StagePlan plan = Schedules.oneFOneB(p, m, 2);
        for (int k = 0; k < p; k++) {
            int inFlight = 0;
            int peak = 0;
            for (Action a : plan.actions(k)) {
                inFlight += a.type() == ActionType.FORWARD ? 1 : a.type() == ActionType.BACKWARD ? -1 : 0;
                peak = Math.max(peak, inFlight);
            }
            assertEquals(Math.min(p - k, m), peak, "stage " + k);
            assertEquals(0, inFlight);
        }
    }

    @Test
    void sizes() {
        assertEquals(4 * 3 * 10, Schedules.async1F1B(4, 10).size());
        assertEquals(3 * (2 * 4 * 5 + 5), Schedules.gpipe(3, 4, 5).size());
        assertEquals(3 * (2 * 4 * 5 + 5), Schedules.oneFOneB(3, 4, 5).size());
        assertEquals(Action.update(2, 4), last(Schedules.gpipe(3, 4, 5).actions(2)));
        assertEquals(Action.update(1, 9), last(Schedules.async1F1B(4, 10).actions(1)));
    }

    private static Action last(List<Action> list) {
        return list.get(list.size() - 1);
    }

    @Test
    void argumentValidationNamesParameterAndValue() {
        assertMessage(() -> Schedules.async1F1B(0, 5), "stages must be >= 1 but was 0");
        assertMessage(() -> Schedules.async1F1B(2, -3), "microBatches must be >= 1 but was -3");
        assertMessage(() -> Schedules.gpipe(2, 0, 1), "microBatchesPerMiniBatch must be >= 1 but was 0");
        assertMessage(() -> Schedules.oneFOneB(2, 2, 0), "miniBatches must be >= 1 but was 0");
        assertMessage(() -> Schedules.gpipe(-1, 2, 2), "stages must be >= 1 but was -1");
        assertMessage(() -> Schedules.oneFOneB(2, 100_000, 100_000), "overflows int");
    }

    private static void assertMessage(Executable call, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
