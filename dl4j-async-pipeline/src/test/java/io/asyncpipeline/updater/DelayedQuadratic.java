package io.asyncpipeline.updater;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The convex test problem of method.md §3: {@code f(x) = ½ Σ λ_i x_i²} (so {@code f* = 0}, β = max λ) with
 * eigenvalues spread log-uniformly over [1e-3, 1], minimised from {@code x_0 = 1} with a gradient that is
 * {@code τ} steps stale: step {@code t} uses {@code ∇f(x_{max(0, t-1-τ)})}.
 */
final class DelayedQuadratic {

    static final int DIMENSION = 20;
    static final double[] EIGENVALUES = logSpaced(1e-3, 1.0, DIMENSION);
    static final double BETA = 1.0;

    /** Outcome of one run: the largest {@code t · (f(x_t) - f*)} seen, and the final gap. */
    record Result(double maxScaledGap, double finalGap, boolean finite) {
        /** Bounded in the theorem's sense: finite, and below {@code ||x_0 - x*||² / η}. */
        boolean bounded(double eta) {
            return finite && maxScaledGap <= DIMENSION / eta;
        }

        /** Diverged: the final gap is not finite or exceeds the starting gap. */
        boolean diverged() {
            return !finite || finalGap > initialGap();
        }
    }

    private DelayedQuadratic() {
    }

    static double initialGap() {
        return f(ones());
    }

    /** Runs {@code steps} steps of the given DL4J updater (parameters are updated as {@code x -= update}). */
    static Result runUpdater(IUpdater cfg, int tau, int steps) {
        INDArray state = Nd4j.zeros(DataType.DOUBLE, cfg.stateSize(DIMENSION));
        GradientUpdater<?> u = cfg.instantiate(state, true);
        return run(tau, steps, (grad, it) -> {
            INDArray g = Nd4j.createFromArray(grad);
            u.applyUpdater(g, it, 0);
            return g.toDoubleVector();
        });
    }

    /** Plain delayed gradient descent {@code x -= η g}, the baseline reported beside the method. */
    static Result runGradientDescent(double eta, int tau, int steps) {
        return run(tau, steps, (grad, it) -> {
            double[] step = new double[grad.length];
            for (int i = 0; i < grad.length; i++) {
                step[i] = eta * grad[i];
            }
            return step;
        });
    }

    interface Step {
        double[] update(double[] staleGradient, int iteration);
    }

    private static Result run(int tau, int steps, Step step) {
        double[][] history = new double[tau + 1][];
        double[] x = ones();
        double maxScaled = 0;
        double gap = f(x);
        for (int it = 0; it < steps; it++) {
            history[it % (tau + 1)] = x.clone();
            double[] stale = history[Math.max(0, it - tau) % (tau + 1)];
            double[] update = step.update(gradient(stale), it);
            for (int i = 0; i < DIMENSION; i++) {
                x[i] -= update[i];
            }
            gap = f(x);
            if (!Double.isFinite(gap) || gap > 1e30) {
                return new Result(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, false);
            }
            maxScaled = Math.max(maxScaled, (it + 1) * gap);
        }
        return new Result(maxScaled, gap, true);
    }

    static double f(double[] x) {
        double s = 0;
        for (int i = 0; i < DIMENSION; i++) {
            s += 0.5 * EIGENVALUES[i] * x[i] * x[i];
        }
        return s;
    }

    private static double[] gradient(double[] x) {
        double[] g = new double[DIMENSION];
        for (int i = 0; i < DIMENSION; i++) {
            g[i] = EIGENVALUES[i] * x[i];
        }
        return g;
    }

    private static double[] ones() {
        double[] x = new double[DIMENSION];
        Arrays.fill(x, 1.0);
        return x;
    }

    private static double[] logSpaced(double lo, double hi, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = lo * Math.pow(hi / lo, i / (n - 1.0));
        }
        return out;
    }
}
