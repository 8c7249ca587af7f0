package io.asyncpipeline.arbiter;

import io.asyncpipeline.updater.DiscountedNadam;
import org.deeplearning4j.arbiter.conf.updater.BaseUpdaterSpace;
import org.deeplearning4j.arbiter.optimize.api.ParameterSpace;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.List;
import java.util.Objects;

/**
 * An Arbiter updater space of {@link DiscountedNadam} (method.md §4), for {@code MultiLayerSpace.Builder.updater},
 * {@code ComputationGraphSpace.Builder.updater} or {@link PipelineCandidateSpace}. Every hyperparameter is a fixed
 * value or a {@link ParameterSpace}; one left unset takes the updater's own default (η 1e-3, β1 0.99, β2 0.999,
 * ε 1e-8, ψ 0.004), never the learning rate as Arbiter's {@code NadamSpace} does.
 *
 * <pre>{@code
 * ParameterSpace<IUpdater> u = DiscountedNadamSpace.builder()
 *         .learningRate(new ContinuousParameterSpace(new LogUniformDistribution(1e-4, 1e-2)))
 *         .beta1(new ContinuousParameterSpace(0.9, 0.995))          // the momentum
 *         .momentumDecay(new DiscreteParameterSpace<>(0.004, 0.04)) // the discount's warm-up ψ
 *         .build();
 * }</pre>
 *
 * {@link Builder#build()} checks the values the spaces can take (a fixed value, or a range read at 21 points including its
 * ends) against the updater's own rules, so {@code beta1(1.0)} or a range reaching 1 fails before the search starts.
 */
public final class DiscountedNadamSpace extends BaseUpdaterSpace {

    private static final long serialVersionUID = 1L;

    private ParameterSpace<Double> learningRate;
    private ParameterSpace<ISchedule> learningRateSchedule;
    private ParameterSpace<Double> beta1;
    private ParameterSpace<Double> beta2;
    private ParameterSpace<Double> epsilon;
    private ParameterSpace<Double> momentumDecay;

    /** For Arbiter's JSON. */
    private DiscountedNadamSpace() {
    }

    private DiscountedNadamSpace(Builder b) {
        this.learningRate = b.learningRate;
        this.learningRateSchedule = b.learningRateSchedule;
        this.beta1 = b.beta1;
        this.beta2 = b.beta2;
        this.epsilon = b.epsilon;
        this.momentumDecay = b.momentumDecay;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public IUpdater getValue(double[] values) {
        DiscountedNadam.Builder b = DiscountedNadam.builder();
        if (learningRateSchedule != null) {
            b.learningRateSchedule(learningRateSchedule.getValue(values));
        } else if (learningRate != null) {
            b.learningRate(learningRate.getValue(values));
        }
        if (beta1 != null) {
            b.beta1(beta1.getValue(values));
        }
        if (beta2 != null) {
            b.beta2(beta2.getValue(values));
        }
        if (epsilon != null) {
            b.epsilon(epsilon.getValue(values));
        }
        if (momentumDecay != null) {
            b.momentumDecay(momentumDecay.getValue(values));
        }
        return b.build();
    }

    /** The learning-rate space, or null (the default 1e-3, or the schedule). */
    public ParameterSpace<Double> getLearningRate() {
        return learningRate;
    }

    public ParameterSpace<ISchedule> getLearningRateSchedule() {
        return learningRateSchedule;
    }

    /** The momentum β1's space, or null (0.99). */
    public ParameterSpace<Double> getBeta1() {
        return beta1;
    }

    public ParameterSpace<Double> getBeta2() {
        return beta2;
    }

    public ParameterSpace<Double> getEpsilon() {
        return epsilon;
    }

    /** The momentum decay ψ's space, or null (0.004). */
    public ParameterSpace<Double> getMomentumDecay() {
        return momentumDecay;
    }

    @Override
    @SuppressWarnings("rawtypes")
    public List<ParameterSpace> collectLeaves() {
        return Spaces.leaves(learningRate, learningRateSchedule, beta1, beta2, epsilon, momentumDecay);
    }

    @Override
    public int numParameters() {
        return Spaces.count(collectLeaves());
    }

    @Override
    public void setIndices(int... indices) {
        Spaces.assign("DiscountedNadamSpace", collectLeaves(), indices);
    }

    /** This space as Arbiter JSON (the form {@code MultiLayerSpace.toJson} embeds). */
    public String toJson() {
        return Spaces.toJson(this);
    }

    /** Reads {@link #toJson()}. */
    public static DiscountedNadamSpace fromJson(String json) {
        return Spaces.fromJson(json, DiscountedNadamSpace.class).validated();
    }

    /** This space through its builder's checks (JSON bypasses them). */
    private DiscountedNadamSpace validated() {
        Builder b = builder();
        if (learningRate != null) {
            b.learningRate(learningRate);
        }
        if (learningRateSchedule != null) {
            b.learningRateSchedule(learningRateSchedule);
        }
        if (beta1 != null) {
            b.beta1(beta1);
        }
        if (beta2 != null) {
            b.beta2(beta2);
        }
        if (epsilon != null) {
            b.epsilon(epsilon);
        }
        if (momentumDecay != null) {
            b.momentumDecay(momentumDecay);
        }
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DiscountedNadamSpace s && Objects.equals(learningRate, s.learningRate)
                && Objects.equals(learningRateSchedule, s.learningRateSchedule) && Objects.equals(beta1, s.beta1)
                && Objects.equals(beta2, s.beta2) && Objects.equals(epsilon, s.epsilon)
                && Objects.equals(momentumDecay, s.momentumDecay);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, learningRateSchedule, beta1, beta2, epsilon, momentumDecay);
    }

    @Override
    public String toString() {
        return "DiscountedNadamSpace(learningRate=" + (learningRateSchedule != null ? learningRateSchedule : learningRate)
                + ", beta1=" + beta1 + ", beta2=" + beta2 + ", epsilon=" + epsilon + ", momentumDecay=" + momentumDecay
                + ")";
    }

    /** Each setter takes a fixed value or a space; an unset hyperparameter keeps the updater's default. */
    public static final class Builder {
        private ParameterSpace<Double> learningRate;
        private ParameterSpace<ISchedule> learningRateSchedule;
        private ParameterSpace<Double> beta1;
        private ParameterSpace<Double> beta2;
        private ParameterSpace<Double> epsilon;
        private ParameterSpace<Double> momentumDecay;

        private Builder() {
        }

        public Builder learningRate(double v) {
            return learningRate(Spaces.fixed(v));
        }

        /** The learning rate η; not together with {@link #learningRateSchedule}. */
        public Builder learningRate(ParameterSpace<Double> space) {
            this.learningRate = Objects.requireNonNull(space, "learningRate");
            return this;
        }

        public Builder learningRateSchedule(ISchedule v) {
            return learningRateSchedule(Spaces.fixed(v));
        }

        /** A learning-rate schedule (for example Arbiter's {@code ExponentialScheduleSpace}). */
        public Builder learningRateSchedule(ParameterSpace<ISchedule> space) {
            this.learningRateSchedule = Objects.requireNonNull(space, "learningRateSchedule");
            return this;
        }

        public Builder beta1(double v) {
            return beta1(Spaces.fixed(v));
        }

        /** The momentum β1, in [0, 1). */
        public Builder beta1(ParameterSpace<Double> space) {
            this.beta1 = Objects.requireNonNull(space, "beta1");
            return this;
        }

        public Builder beta2(double v) {
            return beta2(Spaces.fixed(v));
        }

        public Builder beta2(ParameterSpace<Double> space) {
            this.beta2 = Objects.requireNonNull(space, "beta2");
            return this;
        }

        public Builder epsilon(double v) {
            return epsilon(Spaces.fixed(v));
        }

        public Builder epsilon(ParameterSpace<Double> space) {
            this.epsilon = Objects.requireNonNull(space, "epsilon");
            return this;
        }

        public Builder momentumDecay(double v) {
            return momentumDecay(Spaces.fixed(v));
        }

        /** The momentum decay ψ >= 0 of μ_t's warm-up, which sets how fast the discount 1 - μ_t reaches 1 - β1. */
        public Builder momentumDecay(ParameterSpace<Double> space) {
            this.momentumDecay = Objects.requireNonNull(space, "momentumDecay");
            return this;
        }

        /**
         * @throws IllegalArgumentException when both a learning rate and a schedule are set, or when a value the
         *                                  spaces can take is one the updater rejects
         */
        public DiscountedNadamSpace build() {
            if (learningRate != null && learningRateSchedule != null) {
                throw new IllegalArgumentException("DiscountedNadamSpace: set learningRate or learningRateSchedule, not both");
            }
            String o = "DiscountedNadamSpace";
            Spaces.check(o, "learningRate", learningRate, v -> DiscountedNadam.builder().learningRate(v).build());
            Spaces.check(o, "beta1", beta1, v -> DiscountedNadam.builder().beta1(v).build());
            Spaces.check(o, "beta2", beta2, v -> DiscountedNadam.builder().beta2(v).build());
            Spaces.check(o, "epsilon", epsilon, v -> DiscountedNadam.builder().epsilon(v).build());
            Spaces.check(o, "momentumDecay", momentumDecay, v -> DiscountedNadam.builder().momentumDecay(v).build());
            return new DiscountedNadamSpace(this);
        }
    }
}
