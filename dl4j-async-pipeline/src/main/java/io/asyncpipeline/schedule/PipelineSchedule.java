package io.asyncpipeline.schedule;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A pipeline schedule, written once as a lazy generator: for every stage an infinite stream of
 * actions for a data stream of unknown length. The stage interpreter walks that stream; every finite
 * plan is derived from it by the interpreter's truncation rule ({@link StagePlan#truncate}), so the
 * validator, the simulator, the grid printer and {@link PlanStats} all see what the stages run.
 *
 * <p>Contract of every stream: each micro-batch {@code 0, 1, 2, ...} is forwarded once and backwarded
 * once, forwards in increasing order and backwards in increasing order, and the backward of a
 * micro-batch comes after its forward. The truncation rule and {@link StreamProgress} rely on it.
 *
 * <p>Instances come from {@link Schedules#async1F1B()}, {@link Schedules#gpipe(int)} and
 * {@link Schedules#oneFOneB(int)}. They are immutable and thread-safe; each call to
 * {@link #stream} returns a fresh iterator.
 */
public interface PipelineSchedule {

    /** @return a short human-readable name, e.g. {@code "GPipe (M=4)"} */
    String name();

    /** @return micro-batches per optimizer update: 1 for asynchronous 1F1B, M for the synchronous ones */
    int microBatchesPerUpdate();

    /**
     * Stage {@code k}'s delay in this schedule: for asynchronous 1F1B the updates between a micro-batch's forward and
     * its backward, {@code τ_k = (1 + e)(P - 1 - k)} with {@code e} the extra micro-batches in flight per cut; for the
     * synchronous schedules {@code P - 1 - k}, their warm-up depth (they make no update in between). The §5 settings
     * (delay-aware momentum, PipeMare) take their τ_k from here.
     */
    default int delay(int stage, int stages) {
        return Schedules.delay(stage, stages);
    }

    /** Extra micro-batches each cut keeps in flight beyond the schedule's own (asynchronous 1F1B only); 0 by default. */
    default int extraInFlightPerCut() {
        return 0;
    }

    /**
     * The actions of one stage for a data stream of unknown length.
     *
     * @param stage  stage index {@code 0..stages-1}
     * @param stages number of stages {@code P >= 1}
     * @return a fresh infinite iterator ({@code hasNext()} is always true); it throws
     *         {@link java.util.NoSuchElementException} only when indices would leave the int range
     * @throws IllegalArgumentException if {@code stages < 1} or {@code stage} is out of range
     */
    Iterator<Action> stream(int stage, int stages);

    /**
     * The finite plan that the interpreter executes on a data stream of {@code microBatches}
     * micro-batches: every stage's stream truncated by {@link StagePlan#truncate}. For a synchronous
     * schedule with a count that is not a multiple of M the last mini-batch is partial: its backwards
     * run but its update does not, exactly as in the interpreter.
     *
     * @param stages       number of stages {@code P >= 1}
     * @param microBatches stream length {@code N >= 1}
     * @return the plan
     */
    default StagePlan plan(int stages, int microBatches) {
        Schedules.requirePositive("stages", stages, "use at least one pipeline stage");
        Schedules.requirePositive("microBatches", microBatches, "train on at least one micro-batch");
        List<List<Action>> perStage = new ArrayList<>(stages);
        for (int k = 0; k < stages; k++) {
            perStage.add(StagePlan.truncate(stream(k, stages), microBatches));
        }
        return StagePlan.of(perStage);
    }

    /**
     * A plan long enough to reach steady state on every stage: {@code 2(τ_0+1+M)} updates' worth, i.e.
     * {@code 2(τ_0+1+M)·M} micro-batches with {@code M = microBatchesPerUpdate()} and {@code τ_0 = delay(0, P)}
     * ({@code 2(P+M)·M} for every schedule but asynchronous 1F1B with extra micro-batches in flight). Meant for build-time
     * checks: {@link PlanValidator#validate}, {@link PlanStats#inFlight} and {@link PlanStats#maxDelay}.
     *
     * @param stages number of stages {@code P >= 1}
     * @return the plan
     * @throws IllegalArgumentException if {@code stages < 1} or the count overflows int
     */
    default StagePlan analysisPlan(int stages) {
        Schedules.requirePositive("stages", stages, "use at least one pipeline stage");
        long m = microBatchesPerUpdate();
        long microBatches = 2 * (delay(0, stages) + 1L + m) * m;
        if (microBatches > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("analysis plan of " + name() + " on " + stages + " stages needs "
                    + microBatches + " micro-batches, which overflows int; use fewer stages or micro-batches");
        }
        return plan(stages, (int) microBatches);
    }
}
