/**
 * Asynchronous pipeline-parallel training for DL4J and SameDiff models. This package is the public API only:
 * {@link io.asyncpipeline.AsyncPipelineWrapper} and its {@code Builder}, the shared options
 * ({@link io.asyncpipeline.PipelineBuilder}), {@link io.asyncpipeline.Schedule}, the validated
 * {@link io.asyncpipeline.PipelineSettings}, the chosen {@link io.asyncpipeline.PipelineCuts}, and the exceptions.
 *
 * <h2>Architecture</h2>
 * <pre>
 *  user's MultiLayerNetwork | ComputationGraph | SameDiff
 *          │
 *  io.asyncpipeline            facade: Builder(model) … build(); fit(iterator); cuts(); metrics()
 *          │  PipelineOptions (plain data)
 *          ▼
 *  model.{multilayer,graph,samediff}   one ModelSetup per model type: checks options, chooses the cuts,
 *  model.dl4j, model                   builds the stages (StageComputation) on views of the user's parameters
 *          │  PipelineModel + RunSettings
 *          ▼
 *  runtime      PipelineTrainer: epochs, counters, optimizer state in/out, loss checks, metrics of a fit;
 *               PipelineRun: one pass, P stage workers on threads (or a replay), wired by a Transport
 *          │
 *          ▼
 *  stage        StageWorker k interprets its action stream: forward, backward, update; weight stash
 *
 *   source ─► [stage 0] ══fwd══► [stage 1] ══fwd══► … ══fwd══► [stage P-1] ─► loss
 *                      ◄══bwd══           ◄══bwd══   …  ◄══bwd══
 *          │            each ══ is a Channel of one cut; Messages are plain data
 *          ▼
 *  transport    Transport, Channel, Message (micro-batch id, tensors, labels, masks; END; HALT), in-JVM
 *               bounded channels, a serialising transport, MessageCodec, DeviceCopy
 *  schedule     pure Java: one lazy generator per schedule (PipelineSchedule) → per-stage action streams;
 *               finite plans by truncation; validator, timing simulator, stage × time grid, plan statistics
 *  metrics      per-stage and per-run metrics; the opt-in timeline of every stage's spans (Chrome trace, text)
 *  partition    the pure min-max contiguous partition solver
 *  updater      DiscountedNadam, DelayCorrectedNesterov and per-stage settings (used by model and users)
 *  transformer  the bundled SameDiff decoder-only transformer (a user-level model)
 * </pre>
 * Dependencies point down only (facade → model → runtime → stage → transport, schedule, metrics); the
 * {@code ArchitectureTest} enforces it. Where things go: a new schedule is a {@code PipelineSchedule} in
 * {@code schedule} plus a {@link io.asyncpipeline.Schedule} constant; a new model type is a {@code ModelSetup}
 * and a {@code PipelineModel} in {@code model.<type>}; a new transport (for example between processes) is a
 * {@code Transport} in {@code transport}, passed to {@link io.asyncpipeline.PipelineBuilder#transport}.
 */
package io.asyncpipeline;
