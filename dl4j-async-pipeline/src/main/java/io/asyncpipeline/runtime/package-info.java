/**
 * Runs a pipeline. {@link io.asyncpipeline.runtime.PipelineTrainer} does the bookkeeping of a {@code fit}: one
 * {@code PipelineRun} per epoch, the user's model's iteration and epoch counters and listener events, optimizer
 * state copied into the stages before and back after, the loss check, the metrics. {@code PipelineRun} opens the
 * transport's channels for every cut, starts P {@link io.asyncpipeline.stage.StageWorker}s (threads, or steps them
 * in one thread for a replay), joins them, and turns the first failure into a {@link
 * io.asyncpipeline.runtime.RunFailedException}; ordering and deadlock errors carry the stage × time grid of what
 * each stage had executed. {@link io.asyncpipeline.runtime.PipelineModel} is the contract a model adapter
 * fulfils; {@link io.asyncpipeline.runtime.RunSettings} the validated options of a run. The runtime knows no
 * model type.
 */
package io.asyncpipeline.runtime;
