package io.asyncpipeline.updater;

import org.nd4j.linalg.schedule.ISchedule;

/**
 * The momentum schedule of the convergence theory, {@code γ_t = max(0, (t - 2) / t)} with step
 * {@code t = iteration + 1} (so {@code γ_1 = γ_2 = 0}, {@code γ_3 = 1/3}, … → 1).
 *
 * <p>Used with {@link DelayCorrectedNesterov.Builder#theoryMomentum()}; with the default discount the
 * gradient weight is then {@code δ_t = 1 - γ_t = 2/t} for {@code t >= 2}.
 */
public final class TheoryMomentumSchedule implements ISchedule {

    private static final long serialVersionUID = 1L;

    @Override
    public double valueAt(int iteration, int epoch) {
        double t = iteration + 1.0;
        return t <= 2.0 ? 0.0 : (t - 2.0) / t;
    }

    @Override
    public ISchedule clone() {
        return new TheoryMomentumSchedule();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TheoryMomentumSchedule;
    }

    @Override
    public int hashCode() {
        return TheoryMomentumSchedule.class.hashCode();
    }

    @Override
    public String toString() {
        return "TheoryMomentumSchedule(γ_t = (t-2)/t)";
    }
}
