/**
 * Pure-JDK description, validation and timing simulation of pipeline-parallel training schedules.
 *
 * <p>A model is cut into {@code P} consecutive stages; each stage executes its own ordered list of
 * {@link io.asyncpipeline.schedule.Action actions} (forward, backward, optimizer update). The
 * {@link io.asyncpipeline.schedule.Schedules} generators build such lists for asynchronous
 * PipeDream 1F1B, GPipe and synchronous 1F1B (PipeDream-flush);
 * {@link io.asyncpipeline.schedule.PlanValidator} checks them and
 * {@link io.asyncpipeline.schedule.TimingSimulator} computes an event-driven timeline.
 * Nothing in this package depends on ND4J or DL4J.
 */
package io.asyncpipeline.schedule;
