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
 * NAdam with a discounted fresh gradient, as used for asynchronous pipeline training (method.md §4).
 *
 * <p>This is PyTorch ≥ 2.0 NAdam, not DL4J's built-in {@code Nadam} (which has no μ schedule and no
 * second-moment bias correction). With step {@code t = iteration + 1}:
 * <pre>
 *   μ_t   = β1 (1 - 0.5 · 0.96^(t ψ))          Π_t = μ_1 μ_2 … μ_t
 *   m_t   = β1 m + (1 - β1) g                  v_t = β2 v + (1 - β2) g²
 *   x_t   = x - η [ (1-μ_t)/(1-Π_t) g + μ_{t+1}/(1-Π_t μ_{t+1}) m_t ] / (sqrt(v_t / (1-β2^t)) + ε)
 * </pre>
 * The small weight {@code (1-μ_t)} on the fresh, possibly stale, gradient is the discount that keeps
 * asynchronous training stable at {@code β1 = 0.99}. {@code Π_t} is not stored: it is derived from the
 * iteration count, which DL4J and SameDiff save with the model. Decoupled weight decay is the layer's
 * {@code WeightDecay} regularization.
 *
 * <pre>{@code
 * IUpdater u = DiscountedNadam.builder().learningRate(3e-4).beta1(0.99).build();
 * }</pre>
 *
 * <p>Configs are immutable except through {@link #setLrAndSchedule}, which the {@link IUpdater} contract
 * requires for DL4J's {@code setLearningRate}.
 */
public final class DiscountedNadam extends BaseRateUpdater {

    private static final long serialVersionUID = 1L;

    public static final double DEFAULT_LEARNING_RATE = 1e-3;
    public static final double DEFAULT_BETA1 = 0.99;
    public static final double DEFAULT_BETA2 = 0.999;
    public static final double DEFAULT_EPSILON = 1e-8;
    public static final double DEFAULT_MOMENTUM_DECAY = 0.004;

    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double momentumDecay;

    @JsonCreator
    private DiscountedNadam(@JsonProperty("learningRate") double learningRate,
                            @JsonProperty("learningRateSchedule") ISchedule learningRateSchedule,
                            @JsonProperty("beta1") double beta1,
                            @JsonProperty("beta2") double beta2,
                            @JsonProperty("epsilon") double epsilon,
                            @JsonProperty("momentumDecay") double momentumDecay) {
        super(learningRate, learningRateSchedule);
        this.beta1 = Checks.unitInterval("beta1", beta1);
        this.beta2 = Checks.unitInterval("beta2", beta2);
        this.epsilon = Checks.positive("epsilon", epsilon);
        this.momentumDecay = Checks.nonNegative("momentumDecay", momentumDecay);
    }

    /** A builder with the defaults: η 1e-3, β1 0.99, β2 0.999, ε 1e-8, ψ 0.004. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder().beta1(beta1).beta2(beta2).epsilon(epsilon).momentumDecay(momentumDecay);
        return getLearningRateSchedule() != null ? b.learningRateSchedule(getLearningRateSchedule())
                : b.learningRate(rawLearningRate());
    }

    public double getBeta1() {
        return beta1;
    }

    public double getBeta2() {
        return beta2;
    }

    public double getEpsilon() {
        return epsilon;
    }

    public double getMomentumDecay() {
        return momentumDecay;
    }



    /** {@code μ_t = β1 (1 - 0.5 · 0.96^(t ψ))} for step {@code t >= 1}. */
    public double mu(long t) {
        return beta1 * (1.0 - 0.5 * Math.pow(0.96, t * momentumDecay));
    }

    @Override
    public long stateSize(long numParams) {
        return 2 * numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        DiscountedNadamUpdater u = new DiscountedNadamUpdater(this);
        INDArray flat = viewArray.reshape(viewArray.length());
        u.setStateViewArray(flat, new long[] {flat.length() / 2}, flat.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        DiscountedNadamUpdater u = new DiscountedNadamUpdater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public DiscountedNadam clone() {
        return new DiscountedNadam(rawLearningRate(), clonedSchedule(),
                beta1, beta2, epsilon, momentumDecay);
    }




    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DiscountedNadam)) {
            return false;
        }
        DiscountedNadam d = (DiscountedNadam) o;
        return Objects.equals(effectiveLearningRate(), d.effectiveLearningRate())
                && Double.compare(beta1, d.beta1) == 0 && Double.compare(beta2, d.beta2) == 0
                && Double.compare(epsilon, d.epsilon) == 0 && Double.compare(momentumDecay, d.momentumDecay) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(effectiveLearningRate(), beta1, beta2, epsilon, momentumDecay);
    }


    @Override
    public String toString() {
        return "DiscountedNadam(learningRate=" + effectiveLearningRate()
                + ", beta1=" + beta1 + ", beta2=" + beta2 + ", epsilon=" + epsilon
                + ", momentumDecay=" + momentumDecay + ")";
    }

    /** Builds a validated, immutable {@link DiscountedNadam}. */
    public static final class Builder {
        private double learningRate = DEFAULT_LEARNING_RATE;
        private ISchedule learningRateSchedule;
        private double beta1 = DEFAULT_BETA1;
        private double beta2 = DEFAULT_BETA2;
        private double epsilon = DEFAULT_EPSILON;
        private double momentumDecay = DEFAULT_MOMENTUM_DECAY;

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

        /** First-moment decay β1 in [0, 1); 0.99 by default, as in the paper. */
        public Builder beta1(double beta1) {
            this.beta1 = beta1;
            return this;
        }

        /** Second-moment decay β2 in [0, 1). */
        public Builder beta2(double beta2) {
            this.beta2 = beta2;
            return this;
        }

        /** Denominator offset ε > 0. */
        public Builder epsilon(double epsilon) {
            this.epsilon = epsilon;
            return this;
        }

        /** Momentum decay ψ >= 0 of the μ_t warm-up; 0 gives the constant μ = β1/2. */
        public Builder momentumDecay(double momentumDecay) {
            this.momentumDecay = momentumDecay;
            return this;
        }

        /** Validates and builds; throws {@link IllegalArgumentException} naming a bad field and its value. */
        public DiscountedNadam build() {
            return new DiscountedNadam(learningRate, learningRateSchedule, beta1, beta2, epsilon, momentumDecay);
        }
    }
}
