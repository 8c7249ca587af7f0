/**
 * The two ND4J updaters that correct stale gradients, {@link io.asyncpipeline.updater.DiscountedNadam} and
 * {@link io.asyncpipeline.updater.DelayCorrectedNesterov} (configs; the math is in their {@code *Updater}
 * classes), their schedules, and the per-stage settings of method.md §5. Class names are written into saved
 * models: they do not change.
 */
package io.asyncpipeline.updater;
