package io.asyncpipeline.schedule;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Sizes read off a finite plan, walking each stage's list in its own order, so that the runtime
 * sizes its buffers from the schedule instead of re-deriving formulas. Typical use at build time:
 * {@code PlanStats.inFlight(schedule.analysisPlan(P), k)}.
 *
 * <p>Expected values: in-flight micro-batches {@code P-k} for asynchronous 1F1B, {@code M} for GPipe,
 * {@code min(P-k, M)} for synchronous 1F1B; delay {@code τ_k = P-1-k} for asynchronous 1F1B and 0 for
 * the synchronous schedules.
 */
public final class PlanStats {

    private PlanStats() {
    }

    /**
     * @param plan  a plan in which every backward follows its forward on the same stage
     * @param stage stage index
     * @return the most micro-batches on {@code stage} whose forward has run and backward has not
     * @throws IllegalArgumentException if a backward has no earlier forward or a forward repeats an
     *                                  in-flight micro-batch
     */
    public static int inFlight(StagePlan plan, int stage) {
        Map<Integer, Integer> open = new HashMap<>();
        int peak = 0;
        List<Action> actions = plan.actions(stage);
        for (int i = 0; i < actions.size(); i++) {
            Action a = actions.get(i);
            if (a.type() == ActionType.FORWARD && open.put(a.index(), i) != null) {
                throw new IllegalArgumentException("stage " + stage + " position " + i + ": forward " + a
                        + " repeats a micro-batch still in flight; validate the plan first");
            }
            if (a.type() == ActionType.BACKWARD && open.remove(a.index()) == null) {
                throw noForward(stage, i, a);
            }
            peak = Math.max(peak, open.size());
        }
        return peak;
    }

    /**
     * @param plan  a plan in which every backward follows its forward on the same stage
     * @param stage stage index
     * @return the most updates {@code stage} runs between a micro-batch's forward and its backward
     *         (0 if the stage has no backward)
     * @throws IllegalArgumentException if a backward has no earlier forward
     */
    public static int maxDelay(StagePlan plan, int stage) {
        int max = 0;
        for (int d : delays(plan, stage).values()) {
            max = Math.max(max, d);
        }
        return max;
    }

    /**
     * @return for every backward of {@code stage}, by micro-batch: the number of updates the stage ran
     *         between that micro-batch's forward and its backward (unmodifiable, ordered)
     * @throws IllegalArgumentException if a backward has no earlier forward
     */
    static Map<Integer, Integer> delays(StagePlan plan, int stage) {
        Map<Integer, Integer> updatesAtForward = new HashMap<>();
        Map<Integer, Integer> delays = new TreeMap<>();
        int updates = 0;
        List<Action> actions = plan.actions(stage);
        for (int i = 0; i < actions.size(); i++) {
            Action a = actions.get(i);
            switch (a.type()) {
                case FORWARD -> updatesAtForward.put(a.index(), updates);
                case BACKWARD -> {
                    Integer atForward = updatesAtForward.get(a.index());
                    if (atForward == null) {
                        throw noForward(stage, i, a);
                    }
                    delays.put(a.index(), updates - atForward);
                }
                case UPDATE -> updates++;
            }
        }
        return Collections.unmodifiableMap(delays);
    }

    private static IllegalArgumentException noForward(int stage, int position, Action backward) {
        return new IllegalArgumentException("stage " + stage + " position " + position + ": backward " + backward
                + " has no earlier forward; validate the plan first");
    }
}
