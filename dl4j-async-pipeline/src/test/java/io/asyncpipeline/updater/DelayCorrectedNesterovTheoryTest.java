package io.asyncpipeline.updater;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The convergence check of method.md §3: with a fixed gradient delay τ, delay-corrected Nesterov with
 * {@code γ_t = (t-2)/t} and {@code η = c / (β (τ+1))} keeps {@code t · (f(x_t) - f*)} bounded over 10^4 steps,
 * while undiscounted Nesterov (δ = 1) with the same γ_t and η diverges for τ ≥ 2.
 */
class DelayCorrectedNesterovTheoryTest {

    private static final int STEPS = 10_000;
    private static final int[] DELAYS = {0, 2, 8, 32};
    /** The c of method.md's independent check. */
    private static final double C = 0.25;

    static IUpdater corrected(double eta) {
        return DelayCorrectedNesterov.builder().learningRate(eta).theoryMomentum().build();
    }

    static IUpdater undiscounted(double eta) {
        return DelayCorrectedNesterov.builder().learningRate(eta).theoryMomentum().discount(1.0).build();
    }

    static double eta(double c, int tau) {
        return c / (DelayedQuadratic.BETA * (tau + 1));
    }

    @Test
    void correctedNesterovStaysBoundedAndUndiscountedDiverges() {
        StringBuilder table = new StringBuilder(
                "| τ | η = 1/(4β(τ+1)) | corrected: max t·(f−f*) | δ=1 Nesterov | delayed GD: max t·(f−f*) | largest c (corrected) |\n"
                        + "|---|---|---|---|---|---|\n");
        for (int tau : DELAYS) {
            double eta = eta(C, tau);
            DelayedQuadratic.Result ours = DelayedQuadratic.runUpdater(corrected(eta), tau, STEPS);
            DelayedQuadratic.Result plain = DelayedQuadratic.runUpdater(undiscounted(eta), tau, STEPS);
            DelayedQuadratic.Result gd = DelayedQuadratic.runGradientDescent(eta, tau, STEPS);
            assertTrue(ours.bounded(eta), "τ=" + tau + ": corrected Nesterov not bounded: " + ours);
            assertTrue(ours.finalGap() < DelayedQuadratic.initialGap() / 100, "τ=" + tau + " made progress: " + ours);
            if (tau >= 2) {
                assertTrue(plain.diverged(), "τ=" + tau + ": undiscounted Nesterov should diverge: " + plain);
            }
            double cMax = largestBoundedC(tau);
            assertTrue(cMax >= C, "τ=" + tau + ": c=1/4 works, so the largest c is at least that: " + cMax);
            table.append(String.format("| %d | %.5f | %.3g | %s | %.3g | %.3f |%n", tau, eta, ours.maxScaledGap(),
                    plain.diverged() ? "diverges" : String.format("%.3g", plain.maxScaledGap()),
                    gd.maxScaledGap(), cMax));
        }
        System.out.println("Theory check (method.md §3), " + STEPS + " steps, dimension " + DelayedQuadratic.DIMENSION
                + ", eigenvalues 1e-3..1:\n" + table);
    }

    @Test
    void stepOneOverBetaDivergesForDelaysOfTwoOrMore() {
        for (int tau : new int[] {2, 8}) {
            DelayedQuadratic.Result r = DelayedQuadratic.runUpdater(corrected(1.0 / DelayedQuadratic.BETA), tau, STEPS);
            assertFalse(r.bounded(1.0), "τ=" + tau + ", η=1/β should not stay bounded: " + r);
        }
    }

    /** Largest c on a log grid refined by bisection (to 2%) for which the corrected method stays bounded. */
    static double largestBoundedC(int tau) {
        double good = 0;
        double bad = Double.NaN;
        for (double c = 1.0 / 64; c <= 64; c *= 2) {
            if (DelayedQuadratic.runUpdater(corrected(eta(c, tau)), tau, STEPS).bounded(eta(c, tau))) {
                good = c;
            } else {
                bad = c;
                break;
            }
        }
        if (Double.isNaN(bad)) {
            return good;
        }
        while (bad / good > 1.02) {
            double mid = Math.sqrt(good * bad);
            if (DelayedQuadratic.runUpdater(corrected(eta(mid, tau)), tau, STEPS).bounded(eta(mid, tau))) {
                good = mid;
            } else {
                bad = mid;
            }
        }
        return good;
    }
}
