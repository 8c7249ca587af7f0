package io.asyncpipeline.schedule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Checks that a {@link StagePlan} is well formed and deadlock-free:
 * <ul>
 *   <li>every action listed on stage {@code k} carries stage {@code k};</li>
 *   <li>every micro-batch that appears anywhere is forwarded exactly once and backwarded exactly once
 *       on every stage, and the backward comes after the forward in the stage's list;</li>
 *   <li>update steps on each stage are strictly increasing;</li>
 *   <li>executing the lists under the data dependencies (unlimited buffers) never deadlocks.</li>
 * </ul>
 */
public final class PlanValidator {

    private static final int MAX_REPORTED = 20;

    private PlanValidator() {
    }

    /**
     * Validates {@code plan}.
     *
     * @param plan the plan
     * @throws IllegalArgumentException listing the structural problems, if any
     * @throws IllegalStateException    if the plan deadlocks; the message contains the grid of what ran
     *                                  and the blocked next action of every stage
     */
    public static void validate(StagePlan plan) {
        List<String> problems = structuralProblems(plan);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Invalid plan (" + problems.size() + " problem(s)):\n  "
                    + String.join("\n  ", problems));
        }
        TimingSimulator.simulate(plan, OpCosts.uniform(plan.stages(), 1, 1, 0));
    }

    /**
     * @param plan the plan
     * @return human-readable structural problems (at most 20 plus a summary line); empty if none
     */
    public static List<String> structuralProblems(StagePlan plan) {
        List<String> problems = new ArrayList<>();
        TreeSet<Integer> microBatches = allMicroBatches(plan);
        for (int k = 0; k < plan.stages(); k++) {
            checkStageTags(plan, k, problems);
            checkForwardBackward(plan, k, microBatches, problems);
            checkUpdates(plan, k, problems);
        }
        if (problems.size() > MAX_REPORTED) {
            int extra = problems.size() - MAX_REPORTED;
            problems = new ArrayList<>(problems.subList(0, MAX_REPORTED));
            problems.add("... and " + extra + " more");
        }
        return problems;
    }

    private static TreeSet<Integer> allMicroBatches(StagePlan plan) {
        TreeSet<Integer> set = new TreeSet<>();
        for (int k = 0; k < plan.stages(); k++) {
            for (Action a : plan.actions(k)) {
                if (a.type() != ActionType.UPDATE) {
                    set.add(a.index());
                }
            }
        }
        return set;
    }

    private static void checkStageTags(StagePlan plan, int k, List<String> problems) {
        List<Action> actions = plan.actions(k);
        for (int i = 0; i < actions.size(); i++) {
            if (actions.get(i).stage() != k) {
                problems.add("stage " + k + " position " + i + ": action " + actions.get(i)
                        + " carries stage " + actions.get(i).stage());
            }
        }
    }

    private static void checkForwardBackward(StagePlan plan, int k, TreeSet<Integer> microBatches,
                                             List<String> problems) {
        Map<Integer, List<Integer>> forwards = positions(plan.actions(k), ActionType.FORWARD);
        Map<Integer, List<Integer>> backwards = positions(plan.actions(k), ActionType.BACKWARD);
        for (int m : microBatches) {
            List<Integer> f = forwards.getOrDefault(m, List.of());
            List<Integer> b = backwards.getOrDefault(m, List.of());
            checkCount(k, m, "FORWARD", f.size(), problems);
            checkCount(k, m, "BACKWARD", b.size(), problems);
            if (f.size() == 1 && b.size() == 1 && b.get(0) < f.get(0)) {
                problems.add("stage " + k + ": backward " + k + "B" + m + " at position " + b.get(0)
                        + " precedes its forward " + k + "F" + m + " at position " + f.get(0));
            }
        }
    }

    private static void checkCount(int k, int m, String what, int count, List<String> problems) {
        if (count != 1) {
            problems.add("stage " + k + ": micro-batch " + m + " has " + count + " " + what
                    + " action(s), expected exactly 1");
        }
    }

    private static Map<Integer, List<Integer>> positions(List<Action> actions, ActionType type) {
        Map<Integer, List<Integer>> map = new HashMap<>();
        for (int i = 0; i < actions.size(); i++) {
            Action a = actions.get(i);
            if (a.type() == type) {
                map.computeIfAbsent(a.index(), x -> new ArrayList<>()).add(i);
            }
        }
        return map;
    }

    private static void checkUpdates(StagePlan plan, int k, List<String> problems) {
        int last = -1;
        for (Action a : plan.actions(k)) {
            if (a.type() == ActionType.UPDATE) {
                if (a.index() <= last) {
                    problems.add("stage " + k + ": update " + a + " does not follow step " + last
                            + " in increasing order");
                }
                last = a.index();
            }
        }
    }
}
