package io.asyncpipeline.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTest {

    private static StageMetrics stage(int k, long fwd, long bwd, long upd, int... delays) {
        StageMetrics m = new StageMetrics(k);
        m.addForward(fwd);
        for (int d : delays) {
            m.addBackward(bwd, d);
        }
        m.addUpdate(upd);
        return m;
    }

    @Test
    void stageMetricsCountTimesOpsAndDelays() {
        StageMetrics m = stage(1, 100, 200, 30, 2, 2, 1);
        m.addRecompute(50);
        m.peakStashBytes(10);
        m.peakStashBytes(4);
        assertEquals(100 + 50 + 3 * 200 + 30, m.busyNanos());
        assertEquals(1, m.forwards());
        assertEquals(1, m.recomputes());
        assertEquals(3, m.backwards());
        assertEquals(1, m.updates());
        assertEquals(10, m.peakStashBytes(), "the peak, not the last value");
        assertEquals(Map.of(1, 1, 2, 2), m.delayCounts());
        assertEquals(2, m.modalDelay());
        assertEquals(2, m.maxDelay());
        assertThrows(UnsupportedOperationException.class, () -> m.delayCounts().put(9, 9));
    }

    @Test
    void plusAddsTwoEpochsOfOneStage() {
        StageMetrics a = stage(0, 10, 20, 3, 1, 1);
        a.peakStashBytes(7);
        StageMetrics b = stage(0, 5, 6, 1, 1, 0, 0, 0);
        b.peakStashBytes(3);
        StageMetrics s = a.plus(b);
        assertEquals(a.busyNanos() + b.busyNanos(), s.busyNanos());
        assertEquals(6, s.backwards());
        assertEquals(2, s.updates());
        assertEquals(7, s.peakStashBytes());
        assertEquals(Map.of(0, 3, 1, 3), s.delayCounts());
        assertEquals(0, s.modalDelay(), "ties go to the smaller delay");
        assertEquals(2, a.backwards(), "plus leaves its operands alone");
    }

    @Test
    void pipelineMetricsDeriveUtilisationIdleAndThroughput() {
        StageMetrics busy = stage(0, 600, 200, 200, 0);
        StageMetrics half = stage(1, 300, 100, 100, 0);
        PipelineMetrics p = new PipelineMetrics(List.of(busy, half), 1000, 50, 5);
        assertEquals(1.0, p.utilisation(0), 1e-12);
        assertEquals(0.5, p.utilisation(1), 1e-12);
        assertEquals(0.75, p.meanUtilisation(), 1e-12);
        assertEquals(500, p.idleNanos(1));
        assertEquals(50 / 1e-6, p.throughput(), 1e-3);
        assertTrue(p.toString().contains("mean utilisation 75.0%"), p.toString());
        PipelineMetrics empty = new PipelineMetrics(List.of(), 0, 0, 0);
        assertEquals(0, empty.throughput());
        assertEquals(0, empty.meanUtilisation());
    }
}
