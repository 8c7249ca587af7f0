package io.asyncpipeline.updater;

import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Per-stage updater settings for the no-stashing variant (method.md §5): delay-aware momentum
 * {@code γ_k = γ_0 + τ_k (0.99 - γ_0) / P} and the PipeMare learning-rate correction.
 */
public final class StageUpdaters {

    private StageUpdaters() {
    }

    /** {@code γ_k = γ_0 + τ_k (0.99 - γ_0) / P}. */
    public static double delayAwareMomentum(double gamma0, int delay, int stages) {
        return gamma0 + delay * (0.99 - gamma0) / stages;
    }

    /**
     * A copy of {@code u} with its momentum (β1 for Adam-type updaters) set to {@code momentum}.
     *
     * @throws IllegalArgumentException for an updater without a momentum term
     */
    public static IUpdater withMomentum(IUpdater u, double momentum) {
        Checks.unitInterval("momentum", momentum);
        if (u instanceof DelayCorrectedNesterov d) {
            return d.toBuilder().momentum(momentum).build();
        }
        if (u instanceof DiscountedNadam d) {
            return d.toBuilder().beta1(momentum).build();
        }
        IUpdater c = u.clone();
        if (c instanceof Nesterovs n) {
            n.setMomentum(momentum);
            n.setMomentumISchedule(null);
        } else if (c instanceof Adam a) {
            a.setBeta1(momentum);
        } else if (c instanceof Nadam a) {
            a.setBeta1(momentum);
        } else if (c instanceof AMSGrad a) {
            a.setBeta1(momentum);
        } else {
            throw new IllegalArgumentException("delay-aware momentum needs an updater with a momentum term "
                    + "(DelayCorrectedNesterov, DiscountedNadam, Nesterovs, Adam, Nadam, AMSGrad), got "
                    + u.getClass().getSimpleName());
        }
        return c;
    }

    /** A copy of {@code u} whose learning rate is divided by {@code delay^ρ(t)} (see {@link PipeMareSchedule}). */
    public static IUpdater withPipeMare(IUpdater u, int delay, int annealIterations) {
        if (!u.hasLearningRate()) {
            throw new IllegalArgumentException("PipeMare learning-rate correction needs an updater with a learning rate, got "
                    + u.getClass().getSimpleName());
        }
        IUpdater c = u.clone();
        c.setLrAndSchedule(Double.NaN, new PipeMareSchedule(Double.NaN, new RateOf(u.clone()), delay, annealIterations));
        return c;
    }

    /** The learning rate (or schedule) of an updater, as a schedule. */
    private static final class RateOf implements ISchedule {
        private static final long serialVersionUID = 1L;
        private final IUpdater updater;

        RateOf(IUpdater updater) {
            this.updater = updater;
        }

        @Override
        public double valueAt(int iteration, int epoch) {
            return updater.getLearningRate(iteration, epoch);
        }

        @Override
        public ISchedule clone() {
            return new RateOf(updater.clone());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RateOf r && r.updater.equals(updater);
        }

        @Override
        public int hashCode() {
            return updater.hashCode();
        }
    }
}
