/**
 * The base shared by the MultiLayerNetwork and ComputationGraph adapters: {@link
 * io.asyncpipeline.model.dl4j.Dl4jStage} (a sub-model on a view of the user's parameters, its activation slots and
 * replicas, gradient accumulation, DL4J's own updater step, one workspace policy: {@link
 * io.asyncpipeline.model.dl4j.StageWorkspaces}) and {@link io.asyncpipeline.model.dl4j.Dl4jPipelineModel}
 * (optimizer state copied range by range, scores, counters, listener events, checkpoints), plus per-layer timing
 * ({@link io.asyncpipeline.model.dl4j.LayerProfiler}) and the setup checks both share.
 */
package io.asyncpipeline.model.dl4j;
