package io.asyncpipeline.metrics;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one stage did during a run: busy time per op type, op counts, the weight delay each backward
 * saw (updates between its forward and its backward), and peak stash memory. Written by the stage's
 * own thread only; read after the run.
 */
public final class StageMetrics {

    private final int stage;
    private long forwardNanos;
    private long recomputeNanos;
    private long backwardNanos;
    private long updateNanos;
    private int forwards;
    private int recomputes;
    private int backwards;
    private int updates;
    private long peakStashBytes;
    private final TreeMap<Integer, Integer> delayCounts = new TreeMap<>();

    public StageMetrics(int stage) {
        this.stage = stage;
    }

    public void addForward(long nanos) {
        forwardNanos += nanos;
        forwards++;
    }

    public void addRecompute(long nanos) {
        recomputeNanos += nanos;
        recomputes++;
    }

    public void addBackward(long nanos, int observedDelay) {
        backwardNanos += nanos;
        backwards++;
        delayCounts.merge(observedDelay, 1, Integer::sum);
    }

    public void addUpdate(long nanos) {
        updateNanos += nanos;
        updates++;
    }

    public void peakStashBytes(long bytes) {
        peakStashBytes = Math.max(peakStashBytes, bytes);
    }

    /**
     * The metrics of a stage that ran elsewhere (a stage process), from the values its own {@code StageMetrics}
     * reported.
     */
    public static StageMetrics of(int stage, long forwardNanos, long recomputeNanos, long backwardNanos, long updateNanos,
                                  int forwards, int recomputes, int backwards, int updates, long peakStashBytes,
                                  Map<Integer, Integer> delayCounts) {
        StageMetrics s = new StageMetrics(stage);
        s.forwardNanos = forwardNanos;
        s.recomputeNanos = recomputeNanos;
        s.backwardNanos = backwardNanos;
        s.updateNanos = updateNanos;
        s.forwards = forwards;
        s.recomputes = recomputes;
        s.backwards = backwards;
        s.updates = updates;
        s.peakStashBytes = peakStashBytes;
        s.delayCounts.putAll(delayCounts);
        return s;
    }

    /** Sum of two runs of the same stage (e.g. two epochs). */
    public StageMetrics plus(StageMetrics o) {
        StageMetrics s = new StageMetrics(stage);
        s.forwardNanos = forwardNanos + o.forwardNanos;
        s.recomputeNanos = recomputeNanos + o.recomputeNanos;
        s.backwardNanos = backwardNanos + o.backwardNanos;
        s.updateNanos = updateNanos + o.updateNanos;
        s.forwards = forwards + o.forwards;
        s.recomputes = recomputes + o.recomputes;
        s.backwards = backwards + o.backwards;
        s.updates = updates + o.updates;
        s.peakStashBytes = Math.max(peakStashBytes, o.peakStashBytes);
        s.delayCounts.putAll(delayCounts);
        o.delayCounts.forEach((d, c) -> s.delayCounts.merge(d, c, Integer::sum));
        return s;
    }

    public int stage() {
        return stage;
    }

    /** Time spent computing (forward, recompute, backward, update), in nanoseconds. */
    public long busyNanos() {
        return forwardNanos + recomputeNanos + backwardNanos + updateNanos;
    }

    public long forwardNanos() {
        return forwardNanos;
    }

    public long recomputeNanos() {
        return recomputeNanos;
    }

    public long backwardNanos() {
        return backwardNanos;
    }

    public long updateNanos() {
        return updateNanos;
    }

    public int forwards() {
        return forwards;
    }

    public int recomputes() {
        return recomputes;
    }

    public int backwards() {
        return backwards;
    }

    public int updates() {
        return updates;
    }

    public long peakStashBytes() {
        return peakStashBytes;
    }

    /** Observed delay → number of backwards that saw it. */
    public Map<Integer, Integer> delayCounts() {
        return Collections.unmodifiableMap(delayCounts);
    }

    /** The most common observed delay (the steady-state τ_k of asynchronous 1F1B), or 0 if none. */
    public int modalDelay() {
        int best = 0;
        int count = -1;
        for (Map.Entry<Integer, Integer> e : delayCounts.entrySet()) {
            if (e.getValue() > count) {
                best = e.getKey();
                count = e.getValue();
            }
        }
        return best;
    }

    public int maxDelay() {
        return delayCounts.isEmpty() ? 0 : delayCounts.lastKey();
    }
}
