package io.asyncpipeline.arbiter;

import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.metrics.StageMetrics;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;

/**
 * The pipeline metrics of one candidate's training run, stored with its Arbiter result
 * ({@code OptimizationResult.getModelSpecificResults()}) and in its {@link Trial}.
 *
 * @param steps             batches trained (the step budget, or fewer when the data ran out)
 * @param examples          training examples
 * @param trainSeconds      wall time of the pipeline's fit
 * @param examplesPerSecond training throughput
 * @param utilisation       per stage, busy time over wall time
 * @param modalDelay        per stage, the most common delay τ_k its backwards saw
 * @param maxDelay          per stage, the largest delay
 * @param partition         layers (or vertices, or ops' stage cuts) per stage
 */
public record RunSummary(long steps, long examples, double trainSeconds, double examplesPerSecond,
                         double[] utilisation, int[] modalDelay, int[] maxDelay, int[] partition)
        implements Serializable {

    public RunSummary {
        utilisation = utilisation.clone();
        modalDelay = modalDelay.clone();
        maxDelay = maxDelay.clone();
        partition = partition.clone();
    }

    static RunSummary of(long steps, PipelineMetrics m, int[] partition) {
        int p = m.stages().size();
        double[] u = new double[p];
        int[] mode = new int[p];
        int[] max = new int[p];
        for (int k = 0; k < p; k++) {
            StageMetrics s = m.stage(k);
            u[k] = m.utilisation(k);
            mode[k] = s.modalDelay();
            max[k] = s.maxDelay();
        }
        return new RunSummary(steps, m.examples(), m.wallNanos() / 1e9, m.throughput(), u, mode, max, partition);
    }

    /** Mean stage utilisation. */
    public double meanUtilisation() {
        return Arrays.stream(utilisation).average().orElse(0);
    }

    @Override
    public double[] utilisation() {
        return utilisation.clone();
    }

    @Override
    public int[] modalDelay() {
        return modalDelay.clone();
    }

    @Override
    public int[] maxDelay() {
        return maxDelay.clone();
    }

    @Override
    public int[] partition() {
        return partition.clone();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d steps, %d examples in %.1f s (%.1f examples/s), mean utilisation %.1f%%,"
                        + " delays %s, partition %s", steps, examples, trainSeconds, examplesPerSecond,
                100 * meanUtilisation(), Arrays.toString(modalDelay), Arrays.toString(partition));
    }
}
