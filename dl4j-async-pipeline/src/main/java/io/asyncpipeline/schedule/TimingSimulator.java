package io.asyncpipeline.schedule;

/**
 * Event-driven timing of a {@link StagePlan}. Every stage executes its list strictly in order; an
 * action starts as soon as its stage is free and all its data dependencies have finished (plus the
 * latency of the cut for cross-stage dependencies). Buffers between stages are unlimited.
 *
 * <p>Because each start time depends only on already-known end times, stages are advanced greedily
 * until no stage can make progress; the result equals that of a global event queue.
 */
public final class TimingSimulator {

    private TimingSimulator() {
    }

    /**
     * Simulates {@code plan} with the given costs.
     *
     * @param plan  plan whose actions carry their own stage index
     * @param costs costs with {@code costs.stages() == plan.stages()}
     * @return the timeline and derived statistics
     * @throws IllegalArgumentException if stage counts or action stage tags do not match
     * @throws IllegalStateException    if the plan deadlocks; the message shows the grid of what ran
     *                                  and the blocked next action of every stage
     */
    public static SimulationResult simulate(StagePlan plan, OpCosts costs) {
        Timeline t = run(plan, costs);
        if (!t.complete()) {
            throw new IllegalStateException(deadlockReport(t));
        }
        return new SimulationResult(t);
    }

    /** Runs as far as possible; the returned timeline is incomplete on deadlock. */
    static Timeline run(StagePlan plan, OpCosts costs) {
        checkShape(plan, costs);
        Timeline t = new Timeline(plan);
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int k = 0; k < plan.stages(); k++) {
                progress |= advance(t, k, costs);
            }
        }
        return t;
    }

    private static boolean advance(Timeline t, int k, OpCosts costs) {
        boolean moved = false;
        for (Action a = t.next(k); a != null; a = t.next(k)) {
            double ready = readyTime(t, a, costs);
            if (Double.isNaN(ready)) {
                break;
            }
            double s = Math.max(t.freeAt(k), ready);
            t.record(k, s, s + costs.cost(a));
            moved = true;
        }
        return moved;
    }

    /** @return earliest start allowed by dependencies, or NaN if some dependency has not run */
    private static double readyTime(Timeline t, Action a, OpCosts costs) {
        double ready = 0.0;
        for (Action dep : Dependencies.of(a, t.plan.stages())) {
            Double e = t.endOf(dep);
            if (e == null) {
                return Double.NaN;
            }
            ready = Math.max(ready, e + Dependencies.latency(dep, a, costs));
        }
        return ready;
    }

    private static void checkShape(StagePlan plan, OpCosts costs) {
        if (costs.stages() != plan.stages()) {
            throw new IllegalArgumentException("costs are for " + costs.stages() + " stages but the plan has "
                    + plan.stages() + "; build OpCosts with one entry per plan stage");
        }
        for (int k = 0; k < plan.stages(); k++) {
            for (Action a : plan.actions(k)) {
                if (a.stage() != k) {
                    throw new IllegalArgumentException("action " + a + " is listed on stage " + k
                            + " but carries stage " + a.stage());
                }
            }
        }
    }

    /** @return human-readable deadlock description: grid of what ran plus each stage's blocked action */
    static String deadlockReport(Timeline t) {
        StringBuilder sb = new StringBuilder();
        sb.append("Plan deadlocks after ").append(t.completed()).append(" of ").append(t.plan.size())
                .append(" actions.\nExecuted so far:\n").append(GridFormatter.format(t)).append("\nBlocked:");
        for (int k = 0; k < t.plan.stages(); k++) {
            sb.append("\n  stage ").append(k).append(": ").append(blockedDescription(t, k));
        }
        return sb.toString();
    }

    private static String blockedDescription(Timeline t, int k) {
        return Dependencies.describeNext(t.next(k), t.plan.stages(), dep -> t.endOf(dep) != null);
    }
}
