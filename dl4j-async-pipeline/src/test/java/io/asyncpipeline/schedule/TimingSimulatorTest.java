package io.asyncpipeline.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TimingSimulatorTest {

    private static SimulationResult unit(StagePlan plan) {
        return TimingSimulator.simulate(plan, OpCosts.uniform(plan.stages(), 1, 1, 0));
    }

    @Test
    void gpipeUtilisationIsMOverMPlusPMinusOne() {
        for (int p : new int[] {1, 2, 3, 4, 8}) {
            for (int m : new int[] {1, 2, 4, 8, 16}) {
                SimulationResult r = unit(Schedules.gpipe(p, m, 1));
                assertEquals(2.0 * (m + p - 1), r.makespan(), 0.0, "P=" + p + " M=" + m);
                assertEquals((double) m / (m + p - 1), r.meanUtilisation(), 1e-12);
                assertEquals(SimulationResult.gpipeBubble(p, m), r.bubbleFraction(), 1e-12);
                for (int k = 0; k < p; k++) {
                    assertEquals(2.0 * m, r.busyTime(k), 0.0);
                    assertEquals((double) m / (m + p - 1), r.utilisation(k), 1e-12);
                }
            }
        }
    }

    @Test
    void gpipeBubbleFormula() {
        assertEquals(3.0 / 7.0, SimulationResult.gpipeBubble(4, 4), 1e-15);
        assertEquals(0.0, SimulationResult.gpipeBubble(1, 5), 0.0);
        assertThrows(IllegalArgumentException.class, () -> SimulationResult.gpipeBubble(0, 5));
    }

    @Test
    void asyncUtilisationApproachesOne() {
        double small = unit(Schedules.async1F1B(4, 10)).meanUtilisation();
        double large = unit(Schedules.async1F1B(4, 200)).meanUtilisation();
        assertTrue(large >= 0.95 && large < 1.0, "utilisation " + large);
        assertEquals(406.0, unit(Schedules.async1F1B(4, 200)).makespan(), 0.0);
        assertTrue(small < large, small + " vs " + large);
    }

    @Test
    void utilisationTable() {
        System.out.println(" P | async 1F1B (N=1000) | GPipe sim (M=8) | GPipe M/(M+P-1)");
        for (int p : new int[] {8, 12, 16, 20, 24}) {
            double async = unit(Schedules.async1F1B(p, 1000)).meanUtilisation();
            double gpipe = unit(Schedules.gpipe(p, 8, 1)).meanUtilisation();
            double formula = 1.0 - SimulationResult.gpipeBubble(p, 8);
            System.out.printf("%2d | %19.4f | %15.4f | %15.4f%n", p, async, gpipe, formula);
            assertEquals(formula, gpipe, 1e-12);
            // unit costs: each stage is busy 2N; warm-up plus drain add 2(P-1) ticks of makespan
            assertEquals(2000.0 / (2000 + 2 * (p - 1)), async, 1e-12);
            assertTrue(async > 0.95 && async > gpipe, "P=" + p + " async=" + async);
        }
    }

    @Test
    void asyncObservedDelayIsMinOfMicroBatchAndTau() {
        int p = 5;
        int n = 12;
        SimulationResult r = unit(Schedules.async1F1B(p, n));
        for (int k = 0; k < p; k++) {
            int tau = Schedules.delay(k, p);
            for (int m = 0; m < n; m++) {
                int expected = m >= tau ? tau : m;
                assertEquals(expected, r.observedDelay(k, m), "stage " + k + " micro-batch " + m);
            }
            assertEquals(n, r.observedDelays(k).size());
        }
        assertEquals(Map.of(0, 0, 1, 1, 2, 2, 3, 2, 4, 2), unit(Schedules.async1F1B(3, 5)).observedDelays(0));
    }

    @Test
    void synchronousSchedulesHaveZeroObservedDelay() {
        SimulationResult g = unit(Schedules.gpipe(4, 3, 3));
        SimulationResult f = unit(Schedules.oneFOneB(4, 3, 3));
        for (int k = 0; k < 4; k++) {
            for (int m = 0; m < 9; m++) {
                assertEquals(0, g.observedDelay(k, m));
                assertEquals(0, f.observedDelay(k, m));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> g.observedDelay(0, 9));
    }

    @Test
    void latencyDelaysCrossStageDependencies() {
        StagePlan plan = Schedules.gpipe(2, 1, 1);
        SimulationResult r = TimingSimulator.simulate(plan, OpCosts.uniform(2, 1, 1, 0).withLatency(0.5));
        assertEquals(1.5, r.startTime(Action.forward(1, 0)), 0.0);
        assertEquals(3.5, r.endTime(Action.backward(1, 0)), 0.0);
        assertEquals(4.0, r.startTime(Action.backward(0, 0)), 0.0);
        assertEquals(5.0, r.makespan(), 0.0);
        assertEquals(2.0 / 5.0, r.utilisation(0), 1e-15);
    }

    @Test
    void heterogeneousCostsHandComputed() {
        OpCosts costs = OpCosts.of(new double[] {1, 2}, new double[] {1, 2}, new double[] {0.5, 0.5},
                new double[] {0});
        SimulationResult r = TimingSimulator.simulate(Schedules.gpipe(2, 2, 1), costs);
        assertEquals(7.0, r.startTime(Action.backward(0, 0)), 0.0);
        assertEquals(9.0, r.startTime(Action.backward(0, 1)), 0.0);
        assertEquals(9.0, r.startTime(Action.update(1, 0)), 0.0);
        assertEquals(10.5, r.makespan(), 0.0);
        assertEquals(4.5, r.busyTime(0), 0.0);
        assertEquals(8.5, r.busyTime(1), 0.0);
        assertEquals(13.0 / 21.0, r.meanUtilisation(), 1e-15);
        assertEquals(8.0 / 21.0, r.bubbleFraction(), 1e-15);
    }

    @Test
    void deadlockReportsFinishedStages() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> unit(StagePlan.parse("0F0\n1B0 1F0")));
        assertEquals("Plan deadlocks after 1 of 3 actions.\nExecuted so far:\nt  |0\nS0 |F0\nS1 |.\n"
                + "Blocked:\n  stage 0: finished\n  stage 1: next 1B0 waits for 1F0", e.getMessage());
    }

    @Test
    void rejectsMismatchedInputs() {
        StagePlan plan = Schedules.gpipe(3, 2, 1);
        assertThrows(IllegalArgumentException.class,
                () -> TimingSimulator.simulate(plan, OpCosts.uniform(2, 1, 1, 0)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> unit(StagePlan.parse("0F0 1B0")));
        assertTrue(e.getMessage().contains("1B0 is listed on stage 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> unit(plan).startTime(Action.forward(0, 7)));
    }

    @Test
    void opCostsValidation() {
        assertThrows(IllegalArgumentException.class, () -> OpCosts.uniform(2, -1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> OpCosts.uniform(2, 1, Double.NaN, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpCosts.of(new double[2], new double[2], new double[2], new double[2]));
        assertTrue(e.getMessage().contains("latency must have length 1 but had 2"), e.getMessage());
        assertEquals(2.0, OpCosts.uniform(3, 1, 2, 0).cost(Action.backward(2, 5)), 0.0);
    }
}
