package io.asyncpipeline.schedule;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * One stage's actions for a data stream of unknown length: the infinite version of a
 * {@link Schedules} plan. A stage interpreter walks it and learns the stream's end N when a
 * forward finds no input; from then on it skips forwards and stops at the first backward with an
 * index ≥ N. The executed prefix then equals the stage's list in the finite plan for N micro-batches
 * (see {@code ActionStreamTest}).
 */
public final class ActionStream implements Iterator<Action> {

    private final List<Action> period;
    private final int microBatchShift;
    private final int stepShift;
    private final List<Action> prologue;
    private int cycle;
    private int position;

    private ActionStream(List<Action> prologue, List<Action> period, int microBatchShift, int stepShift) {
        this.prologue = prologue;
        this.period = period;
        this.microBatchShift = microBatchShift;
        this.stepShift = stepShift;
    }

    /**
     * Asynchronous 1F1B for stage {@code k}: {@code τ_k} warm-up forwards, then forever
     * {@code F(m+τ_k) B(m) U(m)}.
     */
    public static ActionStream async1F1B(int stage, int stages) {
        int tau = Schedules.delay(stage, stages);
        List<Action> warmUp = new java.util.ArrayList<>();
        for (int m = 0; m < tau; m++) {
            warmUp.add(Action.forward(stage, m));
        }
        List<Action> steady = List.of(Action.forward(stage, tau), Action.backward(stage, 0), Action.update(stage, 0));
        return new ActionStream(warmUp, steady, 1, 1);
    }

    /** GPipe for stage {@code k}: the one-mini-batch plan repeated, shifted by M micro-batches and one step. */
    public static ActionStream gpipe(int stage, int stages, int microBatchesPerMiniBatch) {
        return repeated(Schedules.gpipe(stages, microBatchesPerMiniBatch, 1).actions(stage), microBatchesPerMiniBatch);
    }

    /** Synchronous 1F1B (PipeDream-flush) for stage {@code k}, one mini-batch plan repeated. */
    public static ActionStream oneFOneB(int stage, int stages, int microBatchesPerMiniBatch) {
        return repeated(Schedules.oneFOneB(stages, microBatchesPerMiniBatch, 1).actions(stage), microBatchesPerMiniBatch);
    }

    private static ActionStream repeated(List<Action> oneMiniBatch, int microBatches) {
        return new ActionStream(List.of(), oneMiniBatch, microBatches, 1);
    }

    @Override
    public boolean hasNext() {
        return true;
    }

    @Override
    public Action next() {
        if (position < prologue.size()) {
            return prologue.get(position++);
        }
        int inPeriod = position - prologue.size();
        Action a = period.get(inPeriod);
        Action shifted = new Action(a.stage(), a.type(),
                a.index() + cycle * (a.type() == ActionType.UPDATE ? stepShift : microBatchShift));
        position++;
        if (position - prologue.size() == period.size()) {
            position = prologue.size();
            cycle++;
            if (cycle < 0) {
                throw new NoSuchElementException("action stream exhausted the int range");
            }
        }
        return shifted;
    }
}
