/**
 * Pure-JDK pipeline-parallel training schedules: one encoding per schedule, and the tools built on it.
 * Nothing in this package depends on ND4J or DL4J.
 *
 * <p>A model is cut into {@code P} consecutive stages; each stage executes its own ordered list of
 * {@link io.asyncpipeline.schedule.Action actions} (forward, backward, optimizer update). Data flows
 * one way:
 *
 * <pre>
 *  Schedules.async1F1B() / gpipe(M) / oneFOneB(M)          each schedule written ONCE,
 *        | PipelineSchedule.stream(k, P)                   round by round from formulas
 *        v
 *  lazy infinite Iterator&lt;Action&gt; per stage ----------------&gt;  stage interpreter (stage.StageWorker)
 *        | StagePlan.truncate(stream, N)                    learns N when a forward finds no input,
 *        | (= PipelineSchedule.plan(P, N))                  then applies the same rule
 *        v
 *  finite StagePlan ---&gt; PlanValidator     well formed, deadlock-free
 *                   ---&gt; TimingSimulator   event-driven timeline ---&gt; GridFormatter (stage x time)
 *                   ---&gt; PlanStats         in-flight micro-batches, max delay per stage
 *
 *  executed counts of a run ---&gt; StreamProgress   grid of what ran + what each stage waits for
 * </pre>
 *
 * <p>The truncation rule (drop forwards with an index {@code >= N}, stop at the first backward with
 * an index {@code >= N}) is the interpreter's own, so every finite plan is exactly what the stages
 * execute on a stream of {@code N} micro-batches. The classic plans {@code Schedules.async1F1B(P, N)},
 * {@code gpipe(P, M, J)} and {@code oneFOneB(P, M, J)} are such truncations; at build time
 * {@link io.asyncpipeline.schedule.PipelineSchedule#analysisPlan} gives a steady-state plan to validate
 * and to size buffers from. At run time {@link io.asyncpipeline.schedule.StreamProgress} turns the
 * number of actions each stage has executed into a grid and a "waits for" line per stage for errors.
 */
package io.asyncpipeline.schedule;
