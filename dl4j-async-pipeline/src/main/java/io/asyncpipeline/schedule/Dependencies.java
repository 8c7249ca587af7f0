package io.asyncpipeline.schedule;

import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Collectors;

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

    /**
     * Describes what a stage's next action waits for, in the words of deadlock reports.
     *
     * @param next   the stage's next action, or {@code null} if the stage has finished
     * @param stages number of stages
     * @param done   whether an action has already run
     * @return {@code "finished"}, {@code "next 0B0 waits for 1B0"} or {@code "next 0F3 is ready"}
     */
    static String describeNext(Action next, int stages, Predicate<Action> done) {
        if (next == null) {
            return "finished";
        }
        String missing = of(next, stages).stream().filter(done.negate()).map(Action::toString)
                .collect(Collectors.joining(", "));
        return "next " + next + (missing.isEmpty() ? " is ready" : " waits for " + missing);
    }

    /** @return transfer latency between the stage of {@code dep} and that of {@code action} */
    static double latency(Action dep, Action action, OpCosts costs) {
        if (dep.stage() == action.stage()) {
            return 0.0;
        }
        return costs.latency(Math.min(dep.stage(), action.stage()));
    }
}
