package io.asyncpipeline.updater;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Learning rate with a linear warm-up, then a cosine decay to a floor: the shape of the paper's runs
 * (method.md §4: warm-up, then cosine decay to 0.1×). For iteration {@code i} (counting from 0):
 *
 * <pre>
 *   i &lt; warmup:              peak · (i + 1) / warmup
 *   warmup ≤ i:              peak · (floor + (1 − floor) · ½ (1 + cos(π · min(1, (i − warmup) / (total − warmup)))))
 * </pre>
 *
 * so the rate reaches {@code peak} at the last warm-up iteration and {@code floor · peak} at {@code total},
 * and stays there. Immutable; serialises with DL4J/SameDiff configurations (JSON).
 */
public final class WarmupCosineSchedule implements ISchedule {

    private final double peak;
    private final int warmup;
    private final int total;
    private final double floor;

    /**
     * @param peak   rate at the end of the warm-up (finite, &gt; 0)
     * @param warmup warm-up iterations (≥ 0; 0 starts at the peak)
     * @param total  iteration at which the decay ends (&gt; warmup)
     * @param floor  final rate as a fraction of the peak, in [0, 1]
     */
    @JsonCreator
    public WarmupCosineSchedule(@JsonProperty("peak") double peak, @JsonProperty("warmup") int warmup,
                                @JsonProperty("total") int total, @JsonProperty("floor") double floor) {
        if (!(peak > 0) || Double.isInfinite(peak)) {
            throw new IllegalArgumentException("WarmupCosineSchedule: peak must be a finite rate > 0, got " + peak);
        }
        if (warmup < 0 || total <= warmup) {
            throw new IllegalArgumentException("WarmupCosineSchedule: need 0 <= warmup < total, got warmup " + warmup
                    + ", total " + total);
        }
        if (!(floor >= 0 && floor <= 1)) {
            throw new IllegalArgumentException("WarmupCosineSchedule: floor is a fraction of the peak in [0, 1], got "
                    + floor);
        }
        this.peak = peak;
        this.warmup = warmup;
        this.total = total;
        this.floor = floor;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration < warmup) {
            return peak * (iteration + 1) / warmup;
        }
        double progress = Math.min(1.0, (iteration - warmup) / (double) (total - warmup));
        return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }

    @Override
    public ISchedule clone() {
        return this;                                        // immutable
    }

    @JsonProperty("peak")
    public double peak() {
        return peak;
    }

    @JsonProperty("warmup")
    public int warmup() {
        return warmup;
    }

    @JsonProperty("total")
    public int total() {
        return total;
    }

    @JsonProperty("floor")
    public double floor() {
        return floor;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WarmupCosineSchedule s && Double.compare(peak, s.peak) == 0 && warmup == s.warmup
                && total == s.total && Double.compare(floor, s.floor) == 0;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(peak, warmup, total, floor);
    }

    @Override
    public String toString() {
        return "WarmupCosineSchedule(peak=" + peak + ", warmup=" + warmup + ", total=" + total + ", floor=" + floor + ")";
    }
}
