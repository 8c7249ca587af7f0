package io.asyncpipeline.schedule;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Immutable pipeline plan: for every stage {@code k} the ordered list of actions it executes.
 *
 * <p>The compact string form has one line per stage, actions separated by single spaces and lines
 * joined by {@code \n}, e.g. {@code "0F0 0B0 0U0\n1F0 1B0 1U0"}. A stage without actions is an empty
 * line. The plan does not check that actions carry their stage; use {@link PlanValidator} for that.
 */
public final class StagePlan {

    private final List<List<Action>> perStage;

    private StagePlan(List<List<Action>> perStage) {
        this.perStage = perStage;
    }

    /**
     * Creates a plan from per-stage action lists (copied defensively).
     *
     * @param perStage one list per stage; at least one stage
     * @return the plan
     * @throws IllegalArgumentException if there are no stages or a list/action is null
     */
    public static StagePlan of(List<? extends List<Action>> perStage) {
        Objects.requireNonNull(perStage, "perStage");
        if (perStage.isEmpty()) {
            throw new IllegalArgumentException("A plan needs at least one stage but the list was empty");
        }
        List<List<Action>> copy = new ArrayList<>(perStage.size());
        for (int k = 0; k < perStage.size(); k++) {
            List<Action> actions = perStage.get(k);
            if (actions == null || actions.stream().anyMatch(Objects::isNull)) {
                throw new IllegalArgumentException("Stage " + k + " has a null action list or null action");
            }
            copy.add(List.copyOf(actions));
        }
        return new StagePlan(List.copyOf(copy));
    }

    /**
     * Parses the compact form (see class doc).
     *
     * @param text compact plan text
     * @return the plan
     * @throws IllegalArgumentException naming the line and token that could not be parsed
     */
    public static StagePlan parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("Cannot parse plan from null text");
        }
        String[] lines = text.split("\n", -1);
        List<List<Action>> stages = new ArrayList<>(lines.length);
        for (int k = 0; k < lines.length; k++) {
            stages.add(parseLine(lines[k], k));
        }
        return of(stages);
    }

    private static List<Action> parseLine(String line, int lineNo) {
        List<Action> actions = new ArrayList<>();
        if (line.isEmpty()) {
            return actions;
        }
        for (String token : line.split(" ", -1)) {
            try {
                actions.add(Action.parse(token));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Plan line " + lineNo + " ('" + line + "'): "
                        + e.getMessage(), e);
            }
        }
        return actions;
    }

    /**
     * The stage interpreter's truncation rule, written once: the actions one stage executes when its
     * (infinite) stream meets a data stream of {@code microBatches} micro-batches. Forwards with an
     * index {@code >= microBatches} are dropped (they find no input); the list ends just before the
     * first backward with an index {@code >= microBatches}.
     *
     * @param stream       one stage's actions, e.g. {@link PipelineSchedule#stream}; consumed
     * @param microBatches stream length {@code N >= 0}
     * @return the executed actions in order (unmodifiable)
     * @throws IllegalArgumentException if {@code N < 0} or the stream ends before such a backward
     */
    public static List<Action> truncate(Iterator<Action> stream, int microBatches) {
        if (microBatches < 0) {
            throw new IllegalArgumentException("microBatches must be >= 0 but was " + microBatches
                    + "; pass the length of the data stream");
        }
        Objects.requireNonNull(stream, "stream");
        List<Action> out = new ArrayList<>();
        for (Action a = nextExecuted(stream, microBatches); a != null; a = nextExecuted(stream, microBatches)) {
            out.add(a);
        }
        return List.copyOf(out);
    }

    /**
     * One step of the rule of {@link #truncate}: takes actions from {@code stream} until one that the
     * stage executes.
     *
     * @param streamEnd stream length, {@code Integer.MAX_VALUE} while it is not known
     * @return that action, or {@code null} at the first backward with an index {@code >= streamEnd}
     */
    static Action nextExecuted(Iterator<Action> stream, int streamEnd) {
        while (true) {
            if (!stream.hasNext()) {
                throw new IllegalArgumentException("stream ended before a backward of micro-batch >= " + streamEnd
                        + "; a stage stream must be infinite");
            }
            Action a = stream.next();
            boolean pastEnd = a.index() >= streamEnd;
            if (pastEnd && a.type() == ActionType.BACKWARD) {
                return null;
            }
            if (!pastEnd || a.type() != ActionType.FORWARD) {
                return a;
            }
        }
    }

    /** @return number of stages {@code P} */
    public int stages() {
        return perStage.size();
    }

    /**
     * @param stage stage index {@code 0..stages()-1}
     * @return the stage's actions in execution order (unmodifiable)
     */
    public List<Action> actions(int stage) {
        if (stage < 0 || stage >= perStage.size()) {
            throw new IndexOutOfBoundsException("stage " + stage + " not in 0.." + (perStage.size() - 1));
        }
        return perStage.get(stage);
    }

    /** @return total number of actions over all stages */
    public int size() {
        return perStage.stream().mapToInt(List::size).sum();
    }

    /** @return compact multi-line form, parseable by {@link #parse(String)} */
    public String toCompactString() {
        return perStage.stream()
                .map(list -> list.stream().map(Action::toString).collect(Collectors.joining(" ")))
                .collect(Collectors.joining("\n"));
    }

    @Override
    public String toString() {
        return toCompactString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StagePlan other && perStage.equals(other.perStage);
    }

    @Override
    public int hashCode() {
        return perStage.hashCode();
    }
}
