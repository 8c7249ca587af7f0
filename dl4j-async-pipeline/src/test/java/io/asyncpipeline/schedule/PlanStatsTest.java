package io.asyncpipeline.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PlanStatsTest {

    private static int[] inFlight(StagePlan plan) {
        int[] out = new int[plan.stages()];
        for (int k = 0; k < out.length; k++) {
            out[k] = PlanStats.inFlight(plan, k);
        }
        return out;
    }

    private static int[] maxDelay(StagePlan plan) {
        int[] out = new int[plan.stages()];
        for (int k = 0; k < out.length; k++) {
            out[k] = PlanStats.maxDelay(plan, k);
        }
        return out;
    }

    @Test
    void asyncKeepsPMinusKInFlightAndDelaysByTau() {
        StagePlan one = Schedules.async1F1B().analysisPlan(1);
        assertArrayEquals(new int[] {1}, inFlight(one));
        assertArrayEquals(new int[] {0}, maxDelay(one));
        StagePlan four = Schedules.async1F1B().analysisPlan(4);
        assertArrayEquals(new int[] {4, 3, 2, 1}, inFlight(four));
        assertArrayEquals(new int[] {3, 2, 1, 0}, maxDelay(four));
    }

    @Test
    void gpipeKeepsTheWholeMiniBatchInFlightWithoutDelay() {
        assertArrayEquals(new int[] {1}, inFlight(Schedules.gpipe(1).analysisPlan(1)));
        assertArrayEquals(new int[] {2, 2, 2}, inFlight(Schedules.gpipe(2).analysisPlan(3)));
        assertArrayEquals(new int[] {5, 5}, inFlight(Schedules.gpipe(5).analysisPlan(2)));
        assertArrayEquals(new int[] {0, 0, 0}, maxDelay(Schedules.gpipe(2).analysisPlan(3)));
        assertArrayEquals(new int[] {0, 0}, maxDelay(Schedules.gpipe(5).analysisPlan(2)));
    }

    @Test
    void syncOneFOneBKeepsMinOfPMinusKAndMInFlightWithoutDelay() {
        assertArrayEquals(new int[] {1}, inFlight(Schedules.oneFOneB(1).analysisPlan(1)));
        assertArrayEquals(new int[] {2, 2, 2, 1}, inFlight(Schedules.oneFOneB(2).analysisPlan(4)));
        assertArrayEquals(new int[] {2, 1}, inFlight(Schedules.oneFOneB(5).analysisPlan(2)));
        assertArrayEquals(new int[] {3, 2, 1}, inFlight(Schedules.oneFOneB(3).analysisPlan(3)));
        assertArrayEquals(new int[] {0, 0, 0, 0}, maxDelay(Schedules.oneFOneB(2).analysisPlan(4)));
        assertArrayEquals(new int[] {0, 0}, maxDelay(Schedules.oneFOneB(5).analysisPlan(2)));
    }

    @Test
    void analysisPlanCoversTwoTimesPPlusMRoundsAndValidates() {
        // async, P = 2: 2(2+1) = 6 micro-batches, 3 actions each on 2 stages
        assertEquals(36, Schedules.async1F1B().analysisPlan(2).size());
        // GPipe M = 2, P = 3: 2(3+2) = 10 mini-batches of 2, i.e. 20 F + 20 B + 10 U per stage
        assertEquals(150, Schedules.gpipe(2).analysisPlan(3).size());
        assertEquals(Action.update(0, 9), Schedules.oneFOneB(2).analysisPlan(3).actions(0).get(49));
        for (PipelineSchedule s : new PipelineSchedule[] {Schedules.async1F1B(), Schedules.gpipe(3),
                Schedules.oneFOneB(3)}) {
            for (int p = 1; p <= 6; p++) {
                PlanValidator.validate(s.analysisPlan(p));
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Schedules.gpipe(40_000).analysisPlan(1));
        assertTrue(e.getMessage().contains("overflows int"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Schedules.async1F1B().analysisPlan(0));
    }

    @Test
    void handWrittenPlanIsReadInStageOrder() {
        // F0 F1 open two; U0 U1 run while both are open; B0 sees 2 updates since F0, B2 sees 1 since F2
        StagePlan plan = StagePlan.parse("0F0 0F1 0U0 0U1 0B0 0F2 0B1 0U2 0B2\n1F0 1B0 1F1 1B1");
        assertEquals(2, PlanStats.inFlight(plan, 0));
        assertEquals(2, PlanStats.maxDelay(plan, 0));
        assertEquals(Map.of(0, 2, 1, 2, 2, 1), PlanStats.delays(plan, 0));
        assertEquals(1, PlanStats.inFlight(plan, 1));
        assertEquals(0, PlanStats.maxDelay(plan, 1));
        assertEquals(0, PlanStats.inFlight(StagePlan.parse("0U0"), 0));
    }

    @Test
    void rejectsBackwardWithoutForwardAndRepeatedForward() {
        StagePlan backwardFirst = StagePlan.parse("0B0 0F0");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanStats.inFlight(backwardFirst, 0));
        assertEquals("stage 0 position 0: backward 0B0 has no earlier forward; validate the plan first",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PlanStats.maxDelay(backwardFirst, 0));
        assertThrows(IllegalArgumentException.class, () -> PlanStats.inFlight(StagePlan.parse("0F1 0F1"), 0));
        assertThrows(IndexOutOfBoundsException.class, () -> PlanStats.inFlight(backwardFirst, 1));
    }
}
