package io.asyncpipeline.metrics;

import java.util.List;

/**
 * Metrics of one {@code fit} call: per-stage busy and idle time, utilisation, observed delays and
 * stash memory, plus throughput, and the {@link #timeline()} if one was recorded. Utilisation of stage k =
 * busy time / wall time of the run.
 */
public final class PipelineMetrics {

    private final List<StageMetrics> stages;
    private final long wallNanos;
    private final long examples;
    private final int microBatches;
    private final PipelineTimeline timeline;

    /** Metrics of a fit that recorded no timeline. */
    public PipelineMetrics(List<StageMetrics> stages, long wallNanos, long examples, int microBatches) {
        this(stages, wallNanos, examples, microBatches, PipelineTimeline.notRecorded(stages.size()));
    }

    public PipelineMetrics(List<StageMetrics> stages, long wallNanos, long examples, int microBatches,
                           PipelineTimeline timeline) {
        if (timeline.stages() != stages.size()) {
            throw new IllegalArgumentException("a timeline of " + timeline.stages() + " stages for metrics of "
                    + stages.size());
        }
        this.stages = List.copyOf(stages);
        this.wallNanos = wallNanos;
        this.examples = examples;
        this.microBatches = microBatches;
        this.timeline = timeline;
    }

    public List<StageMetrics> stages() {
        return stages;
    }

    public StageMetrics stage(int k) {
        return stages.get(k);
    }

    public long wallNanos() {
        return wallNanos;
    }

    public long examples() {
        return examples;
    }

    public int microBatches() {
        return microBatches;
    }

    /**
     * What every stage did over time: its forward, backward, update and idle spans, written as a Chrome trace
     * ({@link PipelineTimeline#writeChromeTrace}) or drawn as text ({@link PipelineTimeline#render}). Recorded only
     * when the wrapper was built with {@code recordTimeline(true)}; otherwise {@link PipelineTimeline#recorded()}
     * is false and its writers throw.
     */
    public PipelineTimeline timeline() {
        return timeline;
    }

    /** Busy / wall time of stage k, in [0, 1]. */
    public double utilisation(int k) {
        return wallNanos == 0 ? 0 : Math.min(1.0, stages.get(k).busyNanos() / (double) wallNanos);
    }

    /** Idle time of stage k in nanoseconds (wall time not spent computing: waiting, hand-offs). */
    public long idleNanos(int k) {
        return Math.max(0, wallNanos - stages.get(k).busyNanos());
    }

    public double meanUtilisation() {
        double s = 0;
        for (int k = 0; k < stages.size(); k++) {
            s += utilisation(k);
        }
        return stages.isEmpty() ? 0 : s / stages.size();
    }

    /** Training examples per second. */
    public double throughput() {
        return wallNanos == 0 ? 0 : examples / (wallNanos / 1e9);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(String.format("pipeline: %d micro-batches, %d examples in %.3f s (%.1f examples/s), "
                + "mean utilisation %.1f%%%n", microBatches, examples, wallNanos / 1e9, throughput(), 100 * meanUtilisation()));
        b.append(String.format("  stage  busy[s]  idle[s]  util   fwd  recompute  bwd  upd  delay(mode/max)  stash[MB]%n"));
        for (int k = 0; k < stages.size(); k++) {
            StageMetrics s = stages.get(k);
            b.append(String.format("  %5d  %7.3f  %7.3f  %4.1f%%  %4d  %9d  %3d  %3d  %6d/%-6d  %9.2f%n", k,
                    s.busyNanos() / 1e9, idleNanos(k) / 1e9, 100 * utilisation(k), s.forwards(), s.recomputes(),
                    s.backwards(), s.updates(), s.modalDelay(), s.maxDelay(), s.peakStashBytes() / 1e6));
        }
        return b.toString();
    }
}
