package io.asyncpipeline.schedule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Outcome of {@link TimingSimulator#simulate}: start/end time of every action, per-stage busy time and
 * utilisation, bubble fraction, and the observed weight delay of every backward.
 *
 * <p>The observed delay of micro-batch {@code m} on stage {@code k} is the number of UPDATE actions
 * stage {@code k} executed between {@code F(k,m)} and {@code B(k,m)}.
 */
public final class SimulationResult {

    private final Timeline timeline;
    private final Map<Action, Integer> position = new HashMap<>();
    private final double makespan;
    private final double[] busy;
    private final List<Map<Integer, Integer>> delays;

    SimulationResult(Timeline timeline) {
        this.timeline = timeline;
        int p = timeline.plan.stages();
        this.busy = new double[p];
        double span = 0.0;
        for (int k = 0; k < p; k++) {
            List<Action> actions = timeline.plan.actions(k);
            for (int i = 0; i < actions.size(); i++) {
                position.put(actions.get(i), i);
                busy[k] += timeline.end[k][i] - timeline.start[k][i];
                span = Math.max(span, timeline.end[k][i]);
            }
        }
        this.makespan = span;
        this.delays = computeDelays(timeline.plan);
    }

    private static List<Map<Integer, Integer>> computeDelays(StagePlan plan) {
        List<Map<Integer, Integer>> perStage = new ArrayList<>(plan.stages());
        for (int k = 0; k < plan.stages(); k++) {
            perStage.add(PlanStats.delays(plan, k));
        }
        return List.copyOf(perStage);
    }

    /**
     * Idle fraction of GPipe with equal forward/backward costs and one mini-batch:
     * {@code (P-1)/(M+P-1)}.
     *
     * @param stages       {@code P >= 1}
     * @param microBatches {@code M >= 1}
     * @return the bubble fraction
     */
    public static double gpipeBubble(int stages, int microBatches) {
        Schedules.requirePositive("stages", stages, "use at least one pipeline stage");
        Schedules.requirePositive("microBatches", microBatches, "use at least one micro-batch");
        return (stages - 1.0) / (microBatches + stages - 1.0);
    }

    /** @return the simulated plan */
    public StagePlan plan() {
        return timeline.plan;
    }

    /** @return time at which the last action ends */
    public double makespan() {
        return makespan;
    }

    /** @return total duration of the actions of {@code stage} */
    public double busyTime(int stage) {
        return busy[stage];
    }

    /** @return {@code busyTime(stage) / makespan}, or 1 if the makespan is 0 */
    public double utilisation(int stage) {
        return makespan == 0.0 ? 1.0 : busy[stage] / makespan;
    }

    /** @return mean of the per-stage utilisations */
    public double meanUtilisation() {
        double sum = 0.0;
        for (int k = 0; k < busy.length; k++) {
            sum += utilisation(k);
        }
        return sum / busy.length;
    }

    /** @return {@code 1 - meanUtilisation()} */
    public double bubbleFraction() {
        return 1.0 - meanUtilisation();
    }

    /** @return start time of {@code action}; throws IllegalArgumentException if not in the plan */
    public double startTime(Action action) {
        return timeline.start[action.stage()][positionOf(action)];
    }

    /** @return end time of {@code action}; throws IllegalArgumentException if not in the plan */
    public double endTime(Action action) {
        return timeline.end[action.stage()][positionOf(action)];
    }

    /**
     * @param stage      stage index
     * @param microBatch micro-batch index
     * @return number of updates the stage ran between the forward and backward of {@code microBatch}
     */
    public int observedDelay(int stage, int microBatch) {
        Integer d = delays.get(stage).get(microBatch);
        if (d == null) {
            throw new IllegalArgumentException("stage " + stage + " has no backward of micro-batch " + microBatch);
        }
        return d;
    }

    /** @return observed delay per micro-batch of {@code stage}, ordered by micro-batch (unmodifiable) */
    public Map<Integer, Integer> observedDelays(int stage) {
        return delays.get(stage);
    }

    Timeline timeline() {
        return timeline;
    }

    private int positionOf(Action action) {
        Integer pos = position.get(action);
        if (pos == null) {
            throw new IllegalArgumentException("action " + action + " is not part of the simulated plan");
        }
        return pos;
    }
}
