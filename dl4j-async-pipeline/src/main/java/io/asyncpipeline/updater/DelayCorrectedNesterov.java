package io.asyncpipeline.updater;

import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Nesterov momentum with a discounted gradient, the delay correction of method.md §3.
 *
 * <p>Stored-parameter form (the parameter is the look-ahead point {@code x = w + d}, as in DL4J's
 * {@code Nesterovs}), with gradient {@code g} taken at a possibly stale {@code x_{t-τ}}:
 * <pre>
 *   v_{t+1} = γ_t v_t - η δ_t g
 *   x_{t+1} = x_t + (1 + γ_t) v_{t+1} - γ_t v_t
 *   δ_t     = 1 - γ_t   unless set explicitly;   δ = 1 is DL4J's plain Nesterovs, bit for bit
 * </pre>
 * Momentum γ is a constant (default 0.99) or an {@link ISchedule}; {@link Builder#theoryMomentum()} uses
 * {@code γ_t = (t-2)/t}. The discount follows a momentum schedule unless fixed with
 * {@link Builder#discount(double)}.
 *
 * <pre>{@code
 * IUpdater u = DelayCorrectedNesterov.builder().learningRate(0.05).momentum(0.99).build();
 * }</pre>
 */
public final class DelayCorrectedNesterov extends BaseRateUpdater {

    private static final long serialVersionUID = 1L;

    public static final double DEFAULT_LEARNING_RATE = 0.1;
    public static final double DEFAULT_MOMENTUM = 0.99;

    private final double momentum;
    private final ISchedule momentumSchedule;
    /** Fixed δ, or null to use 1 - γ_t. */
    private final Double discount;

    @JsonCreator
    private DelayCorrectedNesterov(@JsonProperty("learningRate") double learningRate,
                                   @JsonProperty("learningRateSchedule") ISchedule learningRateSchedule,
                                   @JsonProperty("momentum") double momentum,
                                   @JsonProperty("momentumSchedule") ISchedule momentumSchedule,
                                   @JsonProperty("discount") Double discount) {
        super(learningRate, learningRateSchedule);
        if (momentumSchedule == null) {
            Checks.unitInterval("momentum", momentum);
        }
        if (discount != null) {
            Checks.discount("discount", discount);
        }
        this.momentum = momentum;
        this.momentumSchedule = momentumSchedule;
        this.discount = discount;
    }

    /** A builder with the defaults: η 0.1, γ 0.99, δ = 1 - γ. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder().momentum(momentum);
        if (momentumSchedule != null) {
            b.momentumSchedule(momentumSchedule);
        }
        if (discount != null) {
            b.discount(discount);
        }
        return getLearningRateSchedule() != null ? b.learningRateSchedule(getLearningRateSchedule())
                : b.learningRate(rawLearningRate());
    }

    /** Momentum γ_t at this step (from the schedule, if any), checked to lie in [0, 1). */
    public double momentumAt(int iteration, int epoch) {
        if (momentumSchedule != null) {
            return Checks.scheduled("momentum", momentumSchedule.valueAt(iteration, epoch), iteration, true);
        }
        return momentum;
    }

    /** Gradient discount δ_t at this step: the fixed value, or {@code 1 - γ_t}. */
    public double discountAt(int iteration, int epoch) {
        return discount != null ? discount : 1.0 - momentumAt(iteration, epoch);
    }

    /** The fixed momentum; NaN when a momentum schedule is set. */
    public double getMomentum() {
        return momentumSchedule == null ? momentum : Double.NaN;
    }

    public ISchedule getMomentumSchedule() {
        return momentumSchedule;
    }

    /** The fixed discount, or null when it is tied to {@code 1 - γ_t}. */
    public Double getDiscount() {
        return discount;
    }



    @Override
    public long stateSize(long numParams) {
        return numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        DelayCorrectedNesterovUpdater u = new DelayCorrectedNesterovUpdater(this);
        INDArray flat = viewArray.reshape(viewArray.length());
        u.setStateViewArray(flat, flat.shape(), flat.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        DelayCorrectedNesterovUpdater u = new DelayCorrectedNesterovUpdater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public DelayCorrectedNesterov clone() {
        return new DelayCorrectedNesterov(rawLearningRate(), clonedSchedule(),
                momentum, momentumSchedule == null ? null : momentumSchedule.clone(), discount);
    }





    private Object effectiveMomentum() {
        return momentumSchedule != null ? momentumSchedule : (Object) momentum;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DelayCorrectedNesterov)) {
            return false;
        }
        DelayCorrectedNesterov d = (DelayCorrectedNesterov) o;
        return effectiveLearningRate().equals(d.effectiveLearningRate())
                && effectiveMomentum().equals(d.effectiveMomentum()) && Objects.equals(discount, d.discount);
    }

    @Override
    public int hashCode() {
        return Objects.hash(effectiveLearningRate(), effectiveMomentum(), discount);
    }

    @Override
    public String toString() {
        return "DelayCorrectedNesterov(learningRate=" + effectiveLearningRate() + ", momentum=" + effectiveMomentum()
                + ", discount=" + (discount != null ? discount : "1-momentum") + ")";
    }

    /** Builds a validated, immutable {@link DelayCorrectedNesterov}. */
    public static final class Builder {
        private double learningRate = DEFAULT_LEARNING_RATE;
        private ISchedule learningRateSchedule;
        private double momentum = DEFAULT_MOMENTUM;
        private ISchedule momentumSchedule;
        private Double discount;

        private Builder() {
        }

        /** Fixed learning rate η (> 0); clears a schedule set before. */
        public Builder learningRate(double learningRate) {
            this.learningRate = learningRate;
            this.learningRateSchedule = null;
            return this;
        }

        /** Learning-rate schedule, evaluated at (iteration, epoch); replaces the fixed rate. */
        public Builder learningRateSchedule(ISchedule schedule) {
            this.learningRateSchedule = Objects.requireNonNull(schedule, "learningRateSchedule");
            return this;
        }

        /** Fixed momentum γ in [0, 1); clears a momentum schedule set before. */
        public Builder momentum(double momentum) {
            this.momentum = momentum;
            this.momentumSchedule = null;
            return this;
        }

        /** Momentum schedule γ_t; its values must stay in [0, 1). */
        public Builder momentumSchedule(ISchedule schedule) {
            this.momentumSchedule = Objects.requireNonNull(schedule, "momentumSchedule");
            return this;
        }

        /** The theory's schedule {@code γ_t = (t-2)/t} ({@link TheoryMomentumSchedule}). */
        public Builder theoryMomentum() {
            return momentumSchedule(new TheoryMomentumSchedule());
        }

        /** Fixed gradient discount δ in (0, 1]; 1 is plain Nesterov. Unset: δ_t = 1 - γ_t. */
        public Builder discount(double discount) {
            this.discount = discount;
            return this;
        }

        /** Ties the discount to the momentum again: δ_t = 1 - γ_t. */
        public Builder discountFromMomentum() {
            this.discount = null;
            return this;
        }

        /** Validates and builds; throws {@link IllegalArgumentException} naming a bad field and its value. */
        public DelayCorrectedNesterov build() {
            return new DelayCorrectedNesterov(learningRate, learningRateSchedule, momentum, momentumSchedule, discount);
        }
    }
}
