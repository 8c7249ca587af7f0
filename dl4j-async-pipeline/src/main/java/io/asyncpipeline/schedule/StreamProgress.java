package io.asyncpipeline.schedule;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How far each stage of a run has come through its stream, for run-time error messages: a grid of
 * what the stages have executed, and what each stage's next action waits for.
 *
 * <p>The state is given as the number of actions each stage has executed from
 * {@link PipelineSchedule#stream} (forwards it skipped after the stream end do not count) and, if
 * known, the stream end N. Nothing is stored per action: a stage has executed forward {@code m} iff
 * it has executed more than {@code m} forwards (the stream contract orders them), likewise for
 * backwards. The grid replays the executed prefixes with unit costs; past 64 micro-batches it
 * shows only the most recent ones.
 */
public final class StreamProgress {

    /** Micro-batches of history kept for the grid before the slowest stage's latest backward. */
    static final int HISTORY_MICRO_BATCHES = 64;
    private static final int LISTED_ACTIONS = 32;

    private final PipelineSchedule schedule;
    private final int stages;
    private final int[] executed;
    private final int streamEnd;
    private final int[] forwardsDone;
    private final int[] backwardsDone;
    private final Action[] next;

    private StreamProgress(PipelineSchedule schedule, int stages, int[] executed, int streamEnd) {
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        Schedules.requirePositive("stages", stages, "use at least one pipeline stage");
        if (executed.length != stages) {
            throw new IllegalArgumentException("executed must have one count per stage (" + stages
                    + ") but had " + executed.length);
        }
        if (streamEnd < 0) {
            throw new IllegalArgumentException("streamEnd must be >= 0 but was " + streamEnd);
        }
        for (int k = 0; k < stages; k++) {
            if (executed[k] < 0) {
                throw new IllegalArgumentException("executed[" + k + "] must be >= 0 but was " + executed[k]);
            }
        }
        this.stages = stages;
        this.executed = executed.clone();
        this.streamEnd = streamEnd;
        this.forwardsDone = new int[stages];
        this.backwardsDone = new int[stages];
        this.next = new Action[stages];
        for (int k = 0; k < stages; k++) {
            walk(k);
        }
    }

    /**
     * State of a run whose stream end is not known yet.
     *
     * @param schedule the generator the stages run
     * @param stages   number of stages {@code P}
     * @param executed per stage, the number of actions it has executed from its stream (copied)
     * @return the state
     * @throws IllegalArgumentException if the counts do not fit the stages or the streams
     */
    public static StreamProgress of(PipelineSchedule schedule, int stages, int[] executed) {
        return new StreamProgress(schedule, stages, executed, Integer.MAX_VALUE);
    }

    /**
     * State of a run whose stream has {@code streamEnd} micro-batches: forwards with an index
     * {@code >= streamEnd} are skipped, and a stage whose next action is a backward {@code >= streamEnd}
     * has finished.
     *
     * @see #of(PipelineSchedule, int, int[])
     */
    public static StreamProgress of(PipelineSchedule schedule, int stages, int[] executed, int streamEnd) {
        return new StreamProgress(schedule, stages, executed, streamEnd);
    }

    private void walk(int k) {
        Iterator<Action> s = schedule.stream(k, stages);
        for (int i = 0; i < executed[k]; i++) {
            Action a = StagePlan.nextExecuted(s, streamEnd);
            if (a == null) {
                throw new IllegalArgumentException("stage " + k + " finishes after " + i + " actions of "
                        + schedule.name() + " with stream end " + streamEnd + ", but executed says " + executed[k]);
            }
            count(k, a);
        }
        next[k] = StagePlan.nextExecuted(s, streamEnd);
    }

    private void count(int k, Action a) {
        if (a.type() == ActionType.UPDATE) {
            return;
        }
        int[] done = a.type() == ActionType.FORWARD ? forwardsDone : backwardsDone;
        if (a.index() != done[k]) {
            throw new IllegalStateException("stream of " + schedule.name() + " on stage " + k + " runs " + a
                    + " after " + done[k] + " " + a.type() + " actions; streams must run micro-batches 0, 1, 2, ..."
                    + " in order");
        }
        done[k]++;
    }

    /**
     * @param stage stage index
     * @return the stage's next action from its stream, or empty if it has finished
     */
    public Optional<Action> next(int stage) {
        return Optional.ofNullable(next[Objects.checkIndex(stage, stages)]);
    }

    /**
     * @param stage stage index
     * @return {@code "next 0B0 waits for 1B0"}, {@code "next 0F3 is ready"} (nothing in the schedule
     *         holds it back) or {@code "finished"}
     */
    public String waitsFor(int stage) {
        return Dependencies.describeNext(next[Objects.checkIndex(stage, stages)], stages, this::done);
    }

    private boolean done(Action a) {
        return switch (a.type()) {
            case FORWARD -> a.index() < forwardsDone[a.stage()];
            case BACKWARD -> a.index() < backwardsDone[a.stage()];
            case UPDATE -> false;
        };
    }

    /**
     * @return grid (see {@link GridFormatter}) of what the stages have executed, replayed with unit
     *         costs; at most 32 time units. If the counts are not a state a run can reach, the
     *         executed actions are listed per stage instead.
     */
    public String grid() {
        int from = Math.max(0, min(backwardsDone) - HISTORY_MICRO_BATCHES);
        StagePlan recent = recentActions(from);
        Timeline t = TimingSimulator.run(recent, OpCosts.uniform(stages, 1, 1, 0));
        String note = from == 0 ? "" : "(micro-batches below " + from + " omitted; time restarts at 0)\n";
        if (t.complete()) {
            return note + GridFormatter.format(t, GridFormatter.EXECUTED_COLUMNS);
        }
        return note + "(no grid: the executed actions do not replay under the schedule's dependencies, "
                + t.completed() + " of " + recent.size() + " placed)\n" + listing(recent);
    }

    /** The executed actions of every stage on micro-batches {@code >= from}, updates after the first one. */
    private StagePlan recentActions(int from) {
        List<List<Action>> perStage = new ArrayList<>(stages);
        for (int k = 0; k < stages; k++) {
            Iterator<Action> s = schedule.stream(k, stages);
            List<Action> kept = new ArrayList<>();
            for (int i = 0; i < executed[k]; i++) {
                Action a = StagePlan.nextExecuted(s, streamEnd);
                if (from == 0 || (a.type() == ActionType.UPDATE ? !kept.isEmpty() : a.index() >= from)) {
                    kept.add(a);
                }
            }
            perStage.add(kept);
        }
        return StagePlan.of(perStage);
    }

    private static String listing(StagePlan plan) {
        List<String> lines = new ArrayList<>();
        for (int k = 0; k < plan.stages(); k++) {
            List<Action> actions = plan.actions(k);
            int skip = Math.max(0, actions.size() - LISTED_ACTIONS);
            String shown = actions.subList(skip, actions.size()).stream().map(Action::toString)
                    .collect(Collectors.joining(" "));
            lines.add("  stage " + k + ": " + (skip > 0 ? "... " : "") + (shown.isEmpty() ? "(none)" : shown));
        }
        return String.join("\n", lines);
    }

    /**
     * @return the schedule's name and stage count, {@link #grid()} and {@link #waitsFor} of every
     *         stage, one block for an error message
     */
    public String report() {
        StringBuilder sb = new StringBuilder(schedule.name()).append(" on ").append(stages)
                .append(" stages, executed so far:\n").append(grid()).append("\nNext:");
        for (int k = 0; k < stages; k++) {
            sb.append("\n  stage ").append(k).append(": ").append(waitsFor(k));
        }
        return sb.toString();
    }

    private static int min(int[] values) {
        int m = Integer.MAX_VALUE;
        for (int v : values) {
            m = Math.min(m, v);
        }
        return m;
    }
}
