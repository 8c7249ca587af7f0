package io.asyncpipeline.arbiter;

import io.asyncpipeline.PipelineBuilder;
import io.asyncpipeline.Schedule;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import java.io.Serializable;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * The pipeline settings of one candidate, as {@link PipelineSpace} produces them: each is a value, or null to keep
 * the wrapper's default (ASYNC_1F1B, 2 stages or the candidate's cuts, weight stashing on, 4 micro-batches for
 * the synchronous schedules, no delay-aware momentum, no PipeMare correction). Immutable; written to and read from
 * JSON as part of {@link PipelineCandidate}.
 */
public final class PipelineConfig implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The wrapper's defaults. */
    public static final PipelineConfig DEFAULTS = builder().build();

    private Schedule schedule;
    private Integer stages;
    private Boolean weightStashing;
    private Integer microBatches;
    private Double delayAwareMomentum;
    private Integer pipeMareLearningRate;

    /** For JSON. */
    private PipelineConfig() {
    }

    private PipelineConfig(Builder b) {
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

    /** A builder holding these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.schedule = schedule;
        b.stages = stages;
        b.weightStashing = weightStashing;
        b.microBatches = microBatches;
        b.delayAwareMomentum = delayAwareMomentum;
        b.pipeMareLearningRate = pipeMareLearningRate;
        return b;
    }

    /** These settings without the stage count (for models cut at named variables). */
    PipelineConfig withoutStages() {
        Builder b = toBuilder();
        b.stages = null;
        return b.build();
    }

    /** Sets every non-null setting on {@code builder}; returns it. */
    public <B extends PipelineBuilder<B>> B applyTo(B builder) {
        if (schedule != null) {
            builder.schedule(schedule);
        }
        if (stages != null) {
            builder.stages(stages);
        }
        if (weightStashing != null) {
            builder.weightStashing(weightStashing);
        }
        if (microBatches != null) {
            builder.microBatches(microBatches);
        }
        if (delayAwareMomentum != null) {
            builder.delayAwareMomentum(delayAwareMomentum);
        }
        if (pipeMareLearningRate != null) {
            builder.pipeMareLearningRate(pipeMareLearningRate);
        }
        return builder;
    }

    /** Writes the set settings into {@code node} (the {@code pipeline} object of {@link PipelineCandidate#toJson()}). */
    void writeTo(ObjectNode node) {
        if (schedule != null) {
            node.put("schedule", schedule.name());
        }
        if (stages != null) {
            node.put("stages", stages);
        }
        if (weightStashing != null) {
            node.put("weightStashing", weightStashing);
        }
        if (microBatches != null) {
            node.put("microBatches", microBatches);
        }
        if (delayAwareMomentum != null) {
            node.put("delayAwareMomentum", delayAwareMomentum);
        }
        if (pipeMareLearningRate != null) {
            node.put("pipeMareLearningRate", pipeMareLearningRate);
        }
    }

    /** Reads {@link #writeTo} through the builder's checks; a missing node is the defaults. */
    static PipelineConfig readFrom(JsonNode node) {
        Builder b = builder();
        if (node.has("schedule")) {
            b.schedule(Schedule.valueOf(node.get("schedule").asText()));
        }
        if (node.has("stages")) {
            b.stages(node.get("stages").asInt());
        }
        if (node.has("weightStashing")) {
            b.weightStashing(node.get("weightStashing").asBoolean());
        }
        if (node.has("microBatches")) {
            b.microBatches(node.get("microBatches").asInt());
        }
        if (node.has("delayAwareMomentum")) {
            b.delayAwareMomentum(node.get("delayAwareMomentum").asDouble());
        }
        if (node.has("pipeMareLearningRate")) {
            b.pipeMareLearningRate(node.get("pipeMareLearningRate").asInt());
        }
        return b.build();
    }

    public Schedule schedule() {
        return schedule;
    }

    public Integer stages() {
        return stages;
    }

    public Boolean weightStashing() {
        return weightStashing;
    }

    public Integer microBatches() {
        return microBatches;
    }

    /** γ_0 of the delay-aware momentum (method.md §5), or null for none. */
    public Double delayAwareMomentum() {
        return delayAwareMomentum;
    }

    /** The annealing horizon (iterations) of the PipeMare learning-rate correction (method.md §5), or null for none. */
    public Integer pipeMareLearningRate() {
        return pipeMareLearningRate;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PipelineConfig c && schedule == c.schedule && Objects.equals(stages, c.stages)
                && Objects.equals(weightStashing, c.weightStashing) && Objects.equals(microBatches, c.microBatches)
                && Objects.equals(delayAwareMomentum, c.delayAwareMomentum)
                && Objects.equals(pipeMareLearningRate, c.pipeMareLearningRate);
    }

    @Override
    public int hashCode() {
        return Objects.hash(schedule, stages, weightStashing, microBatches, delayAwareMomentum, pipeMareLearningRate);
    }

    @Override
    public String toString() {
        StringJoiner j = new StringJoiner(", ", "PipelineConfig(", ")");
        if (schedule != null) {
            j.add("schedule=" + schedule);
        }
        if (stages != null) {
            j.add("stages=" + stages);
        }
        if (weightStashing != null) {
            j.add("weightStashing=" + weightStashing);
        }
        if (microBatches != null) {
            j.add("microBatches=" + microBatches);
        }
        if (delayAwareMomentum != null) {
            j.add("delayAwareMomentum=" + delayAwareMomentum);
        }
        if (pipeMareLearningRate != null) {
            j.add("pipeMareLearningRate=" + pipeMareLearningRate);
        }
        return j.toString();
    }

    /** Validates each setting as it is set; an unset one stays null (the wrapper's default). */
    public static final class Builder {
        private Schedule schedule;
        private Integer stages;
        private Boolean weightStashing;
        private Integer microBatches;
        private Double delayAwareMomentum;
        private Integer pipeMareLearningRate;

        private Builder() {
        }

        public Builder schedule(Schedule schedule) {
            this.schedule = Objects.requireNonNull(schedule, "schedule");
            return this;
        }

        /** At least 2. */
        public Builder stages(int stages) {
            this.stages = checkStages(stages);
            return this;
        }

        public Builder weightStashing(boolean weightStashing) {
            this.weightStashing = weightStashing;
            return this;
        }

        /** Micro-batches per mini-batch of the synchronous schedules, at least 1. */
        public Builder microBatches(int microBatches) {
            this.microBatches = checkMicroBatches(microBatches);
            return this;
        }

        /** γ_0 in [0, 0.99). */
        public Builder delayAwareMomentum(double gamma0) {
            this.delayAwareMomentum = checkGamma0(gamma0);
            return this;
        }

        /** The annealing horizon, at least 1 iteration. */
        public Builder pipeMareLearningRate(int annealIterations) {
            this.pipeMareLearningRate = checkHorizon(annealIterations);
            return this;
        }

        public PipelineConfig build() {
            return new PipelineConfig(this);
        }
    }

    static int checkStages(int stages) {
        if (stages < 2) {
            throw new IllegalArgumentException("stages must be at least 2, got " + stages);
        }
        return stages;
    }

    static int checkMicroBatches(int microBatches) {
        if (microBatches < 1) {
            throw new IllegalArgumentException("microBatches must be at least 1, got " + microBatches);
        }
        return microBatches;
    }

    static double checkGamma0(double gamma0) {
        if (!(gamma0 >= 0 && gamma0 < 0.99)) {
            throw new IllegalArgumentException("delayAwareMomentum(γ_0) needs 0 <= γ_0 < 0.99, got " + gamma0);
        }
        return gamma0;
    }

    static int checkHorizon(int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("pipeMareLearningRate(T_c) needs T_c >= 1, got " + iterations);
        }
        return iterations;
    }
}
