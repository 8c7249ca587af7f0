package io.asyncpipeline.examples;

import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.schedule.OpCosts;

/** The op costs a fit measured, for the schedule simulator. */
final class MeasuredCosts {

    private MeasuredCosts() {
    }

    /**
     * Each stage's mean forward, backward (with any recompute) and update time in nanoseconds, and no transfer
     * latency.
     */
    static OpCosts of(PipelineMetrics m) {
        int p = m.stages().size();
        double[] f = new double[p];
        double[] b = new double[p];
        double[] u = new double[p];
        for (int k = 0; k < p; k++) {
            StageMetrics s = m.stage(k);
            f[k] = s.forwardNanos() / (double) Math.max(1, s.forwards());
            b[k] = (s.backwardNanos() + s.recomputeNanos()) / (double) Math.max(1, s.backwards());
            u[k] = s.updateNanos() / (double) Math.max(1, s.updates());
        }
        return OpCosts.of(f, b, u, new double[p - 1]);
    }
}
