package io.asyncpipeline.updater;

import java.util.Objects;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * PipeMare-style learning-rate correction for a stage with delay τ (method.md §5):
 * {@code η_k(t) = η(t) / τ^ρ(t)} with {@code ρ(t) = max(0, 1 - t / T_c)}, so the correction fades out
 * after {@code T_c} iterations. For τ ≤ 1 it is the base rate.
 */
public final class PipeMareSchedule implements ISchedule {

    private static final long serialVersionUID = 1L;

    private final double baseRate;
    private final ISchedule baseSchedule;
    private final int delay;
    private final int annealIterations;

    /**
     * @param baseRate         η, used when {@code baseSchedule} is null
     * @param baseSchedule     η(t), or null
     * @param delay            the stage's delay τ ≥ 0
     * @param annealIterations T_c ≥ 1
     */
    @JsonCreator
    public PipeMareSchedule(@JsonProperty("baseRate") double baseRate,
                            @JsonProperty("baseSchedule") ISchedule baseSchedule,
                            @JsonProperty("delay") int delay,
                            @JsonProperty("annealIterations") int annealIterations) {
        if (baseSchedule == null) {
            Checks.positive("learningRate", baseRate);
        }
        if (delay < 0) {
            throw new IllegalArgumentException("delay must be >= 0, got " + delay);
        }
        if (annealIterations < 1) {
            throw new IllegalArgumentException("annealIterations (T_c) must be >= 1, got " + annealIterations);
        }
        this.baseRate = baseRate;
        this.baseSchedule = baseSchedule;
        this.delay = delay;
        this.annealIterations = annealIterations;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        double base = baseSchedule != null ? baseSchedule.valueAt(iteration, epoch) : baseRate;
        if (delay <= 1) {
            return base;
        }
        double rho = Math.max(0.0, 1.0 - iteration / (double) annealIterations);
        return base / Math.pow(delay, rho);
    }

    @Override
    public ISchedule clone() {
        return new PipeMareSchedule(baseRate, baseSchedule == null ? null : baseSchedule.clone(), delay, annealIterations);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PipeMareSchedule)) {
            return false;
        }
        PipeMareSchedule p = (PipeMareSchedule) o;
        return Double.compare(baseRate, p.baseRate) == 0 && Objects.equals(baseSchedule, p.baseSchedule)
                && delay == p.delay && annealIterations == p.annealIterations;
    }

    @Override
    public int hashCode() {
        return Objects.hash(baseRate, baseSchedule, delay, annealIterations);
    }

    @Override
    public String toString() {
        return "PipeMareSchedule(base=" + (baseSchedule != null ? baseSchedule : baseRate) + ", τ=" + delay
                + ", T_c=" + annealIterations + ")";
    }
}
