package io.asyncpipeline.schedule;

import java.util.HashMap;
import java.util.Map;

/** Mutable start/end times of the actions of a plan that have been scheduled so far. */
final class Timeline {

    final StagePlan plan;
    final double[][] start;
    final double[][] end;
    final int[] done;
    private final Map<Action, Double> endByAction = new HashMap<>();

    Timeline(StagePlan plan) {
        this.plan = plan;
        int p = plan.stages();
        this.start = new double[p][];
        this.end = new double[p][];
        this.done = new int[p];
        for (int k = 0; k < p; k++) {
            start[k] = new double[plan.actions(k).size()];
            end[k] = new double[plan.actions(k).size()];
        }
    }

    /** Records the next action of {@code stage}. */
    void record(int stage, double startTime, double endTime) {
        int pos = done[stage]++;
        start[stage][pos] = startTime;
        end[stage][pos] = endTime;
        endByAction.put(plan.actions(stage).get(pos), endTime);
    }

    /** @return end time of {@code action}, or {@code null} if it has not run */
    Double endOf(Action action) {
        return endByAction.get(action);
    }

    /** @return the next action of {@code stage}, or {@code null} if it has finished its list */
    Action next(int stage) {
        return done[stage] < plan.actions(stage).size() ? plan.actions(stage).get(done[stage]) : null;
    }

    /** @return time at which {@code stage} becomes free */
    double freeAt(int stage) {
        return done[stage] == 0 ? 0.0 : end[stage][done[stage] - 1];
    }

    int completed() {
        int n = 0;
        for (int d : done) {
            n += d;
        }
        return n;
    }

    boolean complete() {
        return completed() == plan.size();
    }
}
