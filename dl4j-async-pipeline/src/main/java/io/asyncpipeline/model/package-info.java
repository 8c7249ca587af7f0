/**
 * Model adapters: how a user's model becomes a pipeline. The facade hands a {@link
 * io.asyncpipeline.model.ModelSetup} the builder's options as plain data ({@link
 * io.asyncpipeline.model.PipelineOptions}); the setup checks them against its model, chooses the cuts, and builds
 * a {@link io.asyncpipeline.runtime.PipelineModel} whose stages are {@link io.asyncpipeline.stage.StageComputation}s
 * on views of the user's parameters. {@link io.asyncpipeline.model.CommonSetup} holds what every model type shares
 * (run settings, slots and stash copies read from the schedule's validated plan, per-stage updater settings).
 * One sub-package per model type: {@code multilayer}, {@code graph}, {@code samediff}; {@code dl4j} is the base the
 * MultiLayerNetwork and ComputationGraph adapters share.
 */
package io.asyncpipeline.model;
