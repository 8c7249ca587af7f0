package io.asyncpipeline.updater;

/** Argument checks shared by the updater builders; every message names the field and the value. */
final class Checks {

    private Checks() {
    }

    /** Requires {@code 0 <= value < 1}. */
    static double unitInterval(String field, double value) {
        if (!(value >= 0.0 && value < 1.0)) {
            throw new IllegalArgumentException(field + " must be in [0, 1), got " + value
                    + (value >= 1.0 ? " (a value of 1 or more never forgets old gradients and diverges)" : ""));
        }
        return value;
    }

    /** Requires {@code value > 0} and finite. */
    static double positive(String field, double value) {
        if (!(value > 0.0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(field + " must be a finite number > 0, got " + value);
        }
        return value;
    }

    /** Requires {@code value >= 0} and finite. */
    static double nonNegative(String field, double value) {
        if (!(value >= 0.0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(field + " must be a finite number >= 0, got " + value);
        }
        return value;
    }

    /** Requires {@code 0 < value <= 1}. */
    static double discount(String field, double value) {
        if (!(value > 0.0 && value <= 1.0)) {
            throw new IllegalArgumentException(field + " must be in (0, 1], got " + value
                    + " (1 is plain Nesterov; leave it unset to use 1 - momentum)");
        }
        return value;
    }

    /** A schedule's value at one step, checked like a constant of the same field. */
    static double scheduled(String field, double value, int iteration, boolean unit) {
        boolean ok = unit ? value >= 0.0 && value < 1.0 : value > 0.0 && !Double.isInfinite(value);
        if (!ok) {
            throw new IllegalStateException(field + " schedule returned " + value + " at iteration " + iteration
                    + "; it must stay " + (unit ? "in [0, 1)" : "finite and > 0"));
        }
        return value;
    }
}
