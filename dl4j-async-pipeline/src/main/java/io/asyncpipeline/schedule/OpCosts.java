package io.asyncpipeline.schedule;

import java.util.Arrays;

/**
 * Per-stage durations of forward, backward and update actions plus per-cut transfer latency,
 * in any consistent time unit (e.g. seconds). Cut {@code b} sits between stages {@code b} and
 * {@code b+1}. Immutable.
 */
public final class OpCosts {

    private final double[] forward;
    private final double[] backward;
    private final double[] update;
    private final double[] latency;

    private OpCosts(double[] forward, double[] backward, double[] update, double[] latency) {
        this.forward = forward;
        this.backward = backward;
        this.update = update;
        this.latency = latency;
    }

    /**
     * Creates costs from per-stage arrays (copied).
     *
     * @param forward  forward duration per stage, length {@code P}
     * @param backward backward duration per stage, length {@code P}
     * @param update   update duration per stage, length {@code P}
     * @param latency  transfer latency per cut, length {@code P-1}
     * @return the costs
     * @throws IllegalArgumentException on length mismatch or negative/non-finite values
     */
    public static OpCosts of(double[] forward, double[] backward, double[] update, double[] latency) {
        int p = forward.length;
        if (p < 1) {
            throw new IllegalArgumentException("forward must have one entry per stage but was empty");
        }
        checkArray("forward", forward, p);
        checkArray("backward", backward, p);
        checkArray("update", update, p);
        checkArray("latency", latency, p - 1);
        return new OpCosts(forward.clone(), backward.clone(), update.clone(), latency.clone());
    }

    /**
     * Same costs on every stage and no transfer latency.
     *
     * @param stages   number of stages {@code P >= 1}
     * @param forward  forward duration
     * @param backward backward duration
     * @param update   update duration
     * @return the costs
     */
    public static OpCosts uniform(int stages, double forward, double backward, double update) {
        Schedules.requirePositive("stages", stages, "use at least one pipeline stage");
        return of(filled(stages, forward), filled(stages, backward), filled(stages, update),
                new double[stages - 1]);
    }

    /**
     * @param perCut latency added to every cross-stage dependency
     * @return a copy of these costs with that latency on every cut
     */
    public OpCosts withLatency(double perCut) {
        return of(forward, backward, update, filled(latency.length, perCut));
    }

    /** @return number of stages */
    public int stages() {
        return forward.length;
    }

    /** @return forward duration of {@code stage} */
    public double forward(int stage) {
        return forward[stage];
    }

    /** @return backward duration of {@code stage} */
    public double backward(int stage) {
        return backward[stage];
    }

    /** @return update duration of {@code stage} */
    public double update(int stage) {
        return update[stage];
    }

    /** @return latency across cut {@code b} (between stages {@code b} and {@code b+1}) */
    public double latency(int cut) {
        return latency[cut];
    }

    /** @return duration of {@code action} on its stage */
    public double cost(Action action) {
        return switch (action.type()) {
            case FORWARD -> forward[action.stage()];
            case BACKWARD -> backward[action.stage()];
            case UPDATE -> update[action.stage()];
        };
    }

    private static double[] filled(int n, double value) {
        double[] a = new double[n];
        Arrays.fill(a, value);
        return a;
    }

    private static void checkArray(String name, double[] values, int expectedLength) {
        if (values.length != expectedLength) {
            throw new IllegalArgumentException(name + " must have length " + expectedLength + " but had "
                    + values.length + "; give one value per " + (name.equals("latency") ? "cut" : "stage"));
        }
        for (int i = 0; i < values.length; i++) {
            if (!(values[i] >= 0) || Double.isInfinite(values[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] must be finite and >= 0 but was "
                        + values[i]);
            }
        }
    }
}
