/**
 * One stage. A {@link io.asyncpipeline.stage.StageWorker} interprets its stage's action stream (from
 * {@link io.asyncpipeline.schedule.PipelineSchedule#stream}) against a
 * {@link io.asyncpipeline.stage.StageComputation} (the model-specific forward, backward and update of one
 * micro-batch), talking to its neighbours only through {@link io.asyncpipeline.transport.Channel}s. It keeps weight
 * versions for stashing ({@code WeightStash}, {@link io.asyncpipeline.stage.SlotWeights}), re-runs a forward when
 * a slot's layer state belongs to another micro-batch or weight version, seeds the random generator per
 * micro-batch, and sends every error to the one {@link io.asyncpipeline.stage.FailureHandler}, which halts the
 * pipeline.
 */
package io.asyncpipeline.stage;
