package io.asyncpipeline.arbiter;

import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.TheoryMomentumSchedule;
import org.deeplearning4j.arbiter.conf.updater.BaseUpdaterSpace;
import org.deeplearning4j.arbiter.optimize.api.ParameterSpace;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.List;
import java.util.Objects;

/**
 * An Arbiter updater space of {@link DelayCorrectedNesterov} (method.md §3), for {@code MultiLayerSpace.Builder.updater},
 * {@code ComputationGraphSpace.Builder.updater} or {@link PipelineCandidateSpace}. Every hyperparameter is a fixed
 * value or a {@link ParameterSpace}; one left unset takes the updater's own default: η 0.1, momentum γ 0.99, and the
 * discount tied to the momentum, δ_t = 1 - γ_t.
 *
 * <pre>{@code
 * ParameterSpace<IUpdater> u = DelayCorrectedNesterovSpace.builder()
 *         .learningRate(new ContinuousParameterSpace(new LogUniformDistribution(1e-3, 1e-1)))
 *         .momentum(new ContinuousParameterSpace(0.9, 0.99))
 *         .discount(new ContinuousParameterSpace(0.01, 0.5))
 *         .build();
 * }</pre>
 *
 * {@link Builder#build()} checks the values the spaces can take against the updater's rules (see
 * {@link DiscountedNadamSpace}).
 */
public final class DelayCorrectedNesterovSpace extends BaseUpdaterSpace {

    private static final long serialVersionUID = 1L;

    private ParameterSpace<Double> learningRate;
    private ParameterSpace<ISchedule> learningRateSchedule;
    private ParameterSpace<Double> momentum;
    private ParameterSpace<ISchedule> momentumSchedule;
    private ParameterSpace<Double> discount;

    /** For Arbiter's JSON. */
    private DelayCorrectedNesterovSpace() {
    }

    private DelayCorrectedNesterovSpace(Builder b) {
        this.learningRate = b.learningRate;
        this.learningRateSchedule = b.learningRateSchedule;
        this.momentum = b.momentum;
        this.momentumSchedule = b.momentumSchedule;
        this.discount = b.discount;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public IUpdater getValue(double[] values) {
        DelayCorrectedNesterov.Builder b = DelayCorrectedNesterov.builder();
        if (learningRateSchedule != null) {
            b.learningRateSchedule(learningRateSchedule.getValue(values));
        } else if (learningRate != null) {
            b.learningRate(learningRate.getValue(values));
        }
        if (momentumSchedule != null) {
            b.momentumSchedule(momentumSchedule.getValue(values));
        } else if (momentum != null) {
            b.momentum(momentum.getValue(values));
        }
        if (discount != null) {
            b.discount(discount.getValue(values));
        }
        return b.build();
    }

    /** The learning-rate space, or null (the default 0.1, or the schedule). */
    public ParameterSpace<Double> getLearningRate() {
        return learningRate;
    }

    public ParameterSpace<ISchedule> getLearningRateSchedule() {
        return learningRateSchedule;
    }

    /** The momentum γ's space, or null (0.99, or the momentum schedule). */
    public ParameterSpace<Double> getMomentum() {
        return momentum;
    }

    public ParameterSpace<ISchedule> getMomentumSchedule() {
        return momentumSchedule;
    }

    /** The discount δ's space, or null (δ_t = 1 - γ_t). */
    public ParameterSpace<Double> getDiscount() {
        return discount;
    }

    @Override
    @SuppressWarnings("rawtypes")
    public List<ParameterSpace> collectLeaves() {
        return Spaces.leaves(learningRate, learningRateSchedule, momentum, momentumSchedule, discount);
    }

    @Override
    public int numParameters() {
        return Spaces.count(collectLeaves());
    }

    @Override
    public void setIndices(int... indices) {
        Spaces.assign("DelayCorrectedNesterovSpace", collectLeaves(), indices);
    }

    /** This space as Arbiter JSON. */
    public String toJson() {
        return Spaces.toJson(this);
    }

    /** Reads {@link #toJson()}. */
    public static DelayCorrectedNesterovSpace fromJson(String json) {
        return Spaces.fromJson(json, DelayCorrectedNesterovSpace.class).validated();
    }

    /** This space through its builder's checks (JSON bypasses them). */
    private DelayCorrectedNesterovSpace validated() {
        Builder b = builder();
        if (learningRate != null) {
            b.learningRate(learningRate);
        }
        if (learningRateSchedule != null) {
            b.learningRateSchedule(learningRateSchedule);
        }
        if (momentum != null) {
            b.momentum(momentum);
        }
        if (momentumSchedule != null) {
            b.momentumSchedule(momentumSchedule);
        }
        if (discount != null) {
            b.discount(discount);
        }
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DelayCorrectedNesterovSpace s && Objects.equals(learningRate, s.learningRate)
                && Objects.equals(learningRateSchedule, s.learningRateSchedule) && Objects.equals(momentum, s.momentum)
                && Objects.equals(momentumSchedule, s.momentumSchedule) && Objects.equals(discount, s.discount);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, learningRateSchedule, momentum, momentumSchedule, discount);
    }

    @Override
    public String toString() {
        return "DelayCorrectedNesterovSpace(learningRate=" + (learningRateSchedule != null ? learningRateSchedule
                : learningRate) + ", momentum=" + (momentumSchedule != null ? momentumSchedule : momentum)
                + ", discount=" + (discount != null ? discount : "1 - momentum") + ")";
    }

    /** Each setter takes a fixed value or a space; an unset hyperparameter keeps the updater's default. */
    public static final class Builder {
        private ParameterSpace<Double> learningRate;
        private ParameterSpace<ISchedule> learningRateSchedule;
        private ParameterSpace<Double> momentum;
        private ParameterSpace<ISchedule> momentumSchedule;
        private ParameterSpace<Double> discount;

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

        public Builder learningRateSchedule(ParameterSpace<ISchedule> space) {
            this.learningRateSchedule = Objects.requireNonNull(space, "learningRateSchedule");
            return this;
        }

        public Builder momentum(double v) {
            return momentum(Spaces.fixed(v));
        }

        /** The momentum γ, in [0, 1); not together with {@link #momentumSchedule}. */
        public Builder momentum(ParameterSpace<Double> space) {
            this.momentum = Objects.requireNonNull(space, "momentum");
            return this;
        }

        public Builder momentumSchedule(ISchedule v) {
            return momentumSchedule(Spaces.fixed(v));
        }

        public Builder momentumSchedule(ParameterSpace<ISchedule> space) {
            this.momentumSchedule = Objects.requireNonNull(space, "momentumSchedule");
            return this;
        }

        /** The theory's momentum γ_t = (t-2)/t ({@link TheoryMomentumSchedule}). */
        public Builder theoryMomentum() {
            return momentumSchedule(new TheoryMomentumSchedule());
        }

        public Builder discount(double v) {
            return discount(Spaces.fixed(v));
        }

        /** The gradient discount δ, in (0, 1]; unset: δ_t = 1 - γ_t. */
        public Builder discount(ParameterSpace<Double> space) {
            this.discount = Objects.requireNonNull(space, "discount");
            return this;
        }

        /**
         * @throws IllegalArgumentException when a rate and a rate schedule (or a momentum and a momentum schedule) are
         *                                  both set, or when a value the spaces can take is one the updater rejects
         */
        public DelayCorrectedNesterovSpace build() {
            String o = "DelayCorrectedNesterovSpace";
            if (learningRate != null && learningRateSchedule != null) {
                throw new IllegalArgumentException(o + ": set learningRate or learningRateSchedule, not both");
            }
            if (momentum != null && momentumSchedule != null) {
                throw new IllegalArgumentException(o + ": set momentum or momentumSchedule, not both");
            }
            Spaces.check(o, "learningRate", learningRate, v -> DelayCorrectedNesterov.builder().learningRate(v).build());
            Spaces.check(o, "momentum", momentum, v -> DelayCorrectedNesterov.builder().momentum(v).build());
            Spaces.check(o, "discount", discount, v -> DelayCorrectedNesterov.builder().discount(v).build());
            return new DelayCorrectedNesterovSpace(this);
        }
    }
}
