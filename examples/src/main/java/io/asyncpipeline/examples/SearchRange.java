package io.asyncpipeline.examples;

import org.deeplearning4j.arbiter.optimize.api.ParameterSpace;
import org.deeplearning4j.arbiter.optimize.distribution.LogUniformDistribution;
import org.deeplearning4j.arbiter.optimize.parameter.FixedValue;
import org.deeplearning4j.arbiter.optimize.parameter.continuous.ContinuousParameterSpace;
import picocli.CommandLine.Model.CommandSpec;

/** A {@code MIN:MAX} option of a search as an Arbiter space, with a usage error naming the option when it is wrong. */
final class SearchRange {

    private SearchRange() {
    }

    /**
     * {@code value} as a space: log-uniform ({@code log}) or uniform between MIN and MAX; a single number is a fixed
     * value where {@code allowFixed}, else a usage error.
     */
    static ParameterSpace<Double> parse(CommandSpec spec, String option, String value, boolean log, boolean allowFixed) {
        String[] p = value.split(":");
        try {
            if (p.length == 1 && allowFixed) {
                return new FixedValue<>(Double.parseDouble(p[0]));
            }
            if (p.length != 2) {
                throw new NumberFormatException("expected MIN:MAX");
            }
            double lo = Double.parseDouble(p[0]);
            double hi = Double.parseDouble(p[1]);
            if (!(lo < hi) || (log && !(lo > 0))) {
                throw new NumberFormatException("need " + (log ? "0 < " : "") + "MIN < MAX");
            }
            return log ? new ContinuousParameterSpace(new LogUniformDistribution(lo, hi)) : new ContinuousParameterSpace(lo, hi);
        } catch (NumberFormatException e) {
            throw Cli.invalid(spec, option + " " + value + ": " + e.getMessage());
        }
    }
}
