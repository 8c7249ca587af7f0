package io.asyncpipeline.arbiter;

import io.asyncpipeline.Schedule;
import org.deeplearning4j.arbiter.optimize.api.AbstractParameterSpace;
import org.deeplearning4j.arbiter.optimize.api.ParameterSpace;

import java.util.List;
import java.util.Objects;

/**
 * An Arbiter space of the pipeline's own settings ({@link PipelineConfig}): schedule, stages, weight stashing,
 * micro-batches, the delay-aware momentum's γ_0 and the PipeMare learning-rate horizon (method.md §5). Each is a
 * fixed value, a space (for example {@code new DiscreteParameterSpace<>(Schedule.ASYNC_1F1B, Schedule.GPIPE)},
 * {@code new IntegerParameterSpace(2, 8)}, {@code new BooleanSpace()}), or unset for the wrapper's default.
 * {@link Builder#build()} checks the values the spaces can take (stages at least 2, 0 &lt;= γ_0 &lt; 0.99, horizon at
 * least 1).
 */
public final class PipelineSpace extends AbstractParameterSpace<PipelineConfig> {

    private ParameterSpace<Schedule> schedule;
    private ParameterSpace<Integer> stages;
    private ParameterSpace<Boolean> weightStashing;
    private ParameterSpace<Integer> microBatches;
    private ParameterSpace<Double> delayAwareMomentum;
    private ParameterSpace<Integer> pipeMareLearningRate;

    /** For Arbiter's JSON. */
    private PipelineSpace() {
    }

    private PipelineSpace(Builder b) {
        this.schedule = b.schedule;
        this.stages = b.stages;
        this.weightStashing = b.weightStashing;
        this.microBatches = b.microBatches;
        this.delayAwareMomentum = b.delayAwareMomentum;
        this.pipeMareLearningRate = b.pipeMareLearningRate;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public PipelineConfig getValue(double[] values) {
        PipelineConfig.Builder b = PipelineConfig.builder();
        if (schedule != null) {
            b.schedule(schedule.getValue(values));
        }
        if (stages != null) {
            b.stages(stages.getValue(values));
        }
        if (weightStashing != null) {
            b.weightStashing(weightStashing.getValue(values));
        }
        if (microBatches != null) {
            b.microBatches(microBatches.getValue(values));
        }
        if (delayAwareMomentum != null) {
            b.delayAwareMomentum(delayAwareMomentum.getValue(values));
        }
        if (pipeMareLearningRate != null) {
            b.pipeMareLearningRate(pipeMareLearningRate.getValue(values));
        }
        return b.build();
    }

    @Override
    @SuppressWarnings("rawtypes")
    public List<ParameterSpace> collectLeaves() {
        return Spaces.leaves(schedule, stages, weightStashing, microBatches, delayAwareMomentum, pipeMareLearningRate);
    }

    @Override
    public int numParameters() {
        return Spaces.count(collectLeaves());
    }

    @Override
    public boolean isLeaf() {
        return false;
    }

    @Override
    public void setIndices(int... indices) {
        Spaces.assign("PipelineSpace", collectLeaves(), indices);
    }

    public ParameterSpace<Schedule> getSchedule() {
        return schedule;
    }

    public ParameterSpace<Integer> getStages() {
        return stages;
    }

    public ParameterSpace<Boolean> getWeightStashing() {
        return weightStashing;
    }

    public ParameterSpace<Integer> getMicroBatches() {
        return microBatches;
    }

    public ParameterSpace<Double> getDelayAwareMomentum() {
        return delayAwareMomentum;
    }

    public ParameterSpace<Integer> getPipeMareLearningRate() {
        return pipeMareLearningRate;
    }

    /** This space as Arbiter JSON. */
    public String toJson() {
        return Spaces.toJson(this);
    }

    /** Reads {@link #toJson()}. */
    public static PipelineSpace fromJson(String json) {
        return Spaces.fromJson(json, PipelineSpace.class).validated();
    }

    /** This space through its builder's checks (JSON bypasses them). */
    private PipelineSpace validated() {
        Builder b = builder();
        if (schedule != null) {
            b.schedule(schedule);
        }
        if (stages != null) {
            b.stages(stages);
        }
        if (weightStashing != null) {
            b.weightStashing(weightStashing);
        }
        if (microBatches != null) {
            b.microBatches(microBatches);
        }
        if (delayAwareMomentum != null) {
            b.delayAwareMomentum(delayAwareMomentum);
        }
        if (pipeMareLearningRate != null) {
            b.pipeMareLearningRate(pipeMareLearningRate);
        }
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PipelineSpace s && Objects.equals(schedule, s.schedule) && Objects.equals(stages, s.stages)
                && Objects.equals(weightStashing, s.weightStashing) && Objects.equals(microBatches, s.microBatches)
                && Objects.equals(delayAwareMomentum, s.delayAwareMomentum)
                && Objects.equals(pipeMareLearningRate, s.pipeMareLearningRate);
    }

    @Override
    public int hashCode() {
        return Objects.hash(schedule, stages, weightStashing, microBatches, delayAwareMomentum, pipeMareLearningRate);
    }

    @Override
    public String toString() {
        return "PipelineSpace(schedule=" + schedule + ", stages=" + stages + ", weightStashing=" + weightStashing
                + ", microBatches=" + microBatches + ", delayAwareMomentum=" + delayAwareMomentum
                + ", pipeMareLearningRate=" + pipeMareLearningRate + ")";
    }

    /** Each setter takes a fixed value or a space; an unset setting keeps the wrapper's default. */
    public static final class Builder {
        private ParameterSpace<Schedule> schedule;
        private ParameterSpace<Integer> stages;
        private ParameterSpace<Boolean> weightStashing;
        private ParameterSpace<Integer> microBatches;
        private ParameterSpace<Double> delayAwareMomentum;
        private ParameterSpace<Integer> pipeMareLearningRate;

        private Builder() {
        }

        public Builder schedule(Schedule v) {
            return schedule(Spaces.fixed(v));
        }

        public Builder schedule(ParameterSpace<Schedule> space) {
            this.schedule = Objects.requireNonNull(space, "schedule");
            return this;
        }

        public Builder stages(int v) {
            return stages(Spaces.fixed(v));
        }

        public Builder stages(ParameterSpace<Integer> space) {
            this.stages = Objects.requireNonNull(space, "stages");
            return this;
        }

        public Builder weightStashing(boolean v) {
            return weightStashing(Spaces.fixed(v));
        }

        public Builder weightStashing(ParameterSpace<Boolean> space) {
            this.weightStashing = Objects.requireNonNull(space, "weightStashing");
            return this;
        }

        public Builder microBatches(int v) {
            return microBatches(Spaces.fixed(v));
        }

        public Builder microBatches(ParameterSpace<Integer> space) {
            this.microBatches = Objects.requireNonNull(space, "microBatches");
            return this;
        }

        public Builder delayAwareMomentum(double gamma0) {
            return delayAwareMomentum(Spaces.fixed(gamma0));
        }

        public Builder delayAwareMomentum(ParameterSpace<Double> space) {
            this.delayAwareMomentum = Objects.requireNonNull(space, "delayAwareMomentum");
            return this;
        }

        public Builder pipeMareLearningRate(int annealIterations) {
            return pipeMareLearningRate(Spaces.fixed(annealIterations));
        }

        public Builder pipeMareLearningRate(ParameterSpace<Integer> space) {
            this.pipeMareLearningRate = Objects.requireNonNull(space, "pipeMareLearningRate");
            return this;
        }

        /** @throws IllegalArgumentException when a value the spaces can take is not a valid setting */
        public PipelineSpace build() {
            String o = "PipelineSpace";
            Spaces.check(o, "stages", stages, PipelineConfig::checkStages);
            Spaces.check(o, "microBatches", microBatches, PipelineConfig::checkMicroBatches);
            Spaces.check(o, "delayAwareMomentum", delayAwareMomentum, PipelineConfig::checkGamma0);
            Spaces.check(o, "pipeMareLearningRate", pipeMareLearningRate, PipelineConfig::checkHorizon);
            return new PipelineSpace(this);
        }
    }
}
