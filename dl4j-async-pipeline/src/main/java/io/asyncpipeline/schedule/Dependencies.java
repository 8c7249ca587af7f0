package io.asyncpipeline.schedule;

import java.util.List;

/** Data dependencies of actions, shared by the simulator and the validator. */
final class Dependencies {

    private Dependencies() {
    }

    /**
     * @param action an action of a plan with {@code stages} stages
     * @param stages number of stages
     * @return actions that must complete before {@code action} may start
     */
    static List<Action> of(Action action, int stages) {
        int k = action.stage();
        int m = action.index();
        return switch (action.type()) {
            case FORWARD -> k > 0 ? List.of(Action.forward(k - 1, m)) : List.of();
            case BACKWARD -> k < stages - 1
                    ? List.of(Action.forward(k, m), Action.backward(k + 1, m))
                    : List.of(Action.forward(k, m));
            case UPDATE -> List.of();
        };
    }

    /** @return transfer latency between the stage of {@code dep} and that of {@code action} */
    static double latency(Action dep, Action action, OpCosts costs) {
        if (dep.stage() == action.stage()) {
            return 0.0;
        }
        return costs.latency(Math.min(dep.stage(), action.stage()));
    }
}
