package io.asyncpipeline.schedule;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Infinite stream of one stage's actions, produced lazily one round at a time (a round is one
 * update's worth of work: a micro-batch step for asynchronous 1F1B, a mini-batch for the synchronous
 * schedules).
 */
final class RoundStream implements Iterator<Action> {

    /** Appends the actions of one round of one stage. */
    interface Round {
        /**
         * @param round round number {@code r >= 0}
         * @param out   receives the round's actions in execution order (at least one)
         */
        void append(int round, Emitter out);
    }

    /** Collects a round's actions and checks that indices stay in the int range. */
    static final class Emitter {
        private final int stage;
        private final ArrayDeque<Action> buffer = new ArrayDeque<>();

        private Emitter(int stage) {
            this.stage = stage;
        }

        void forward(long microBatch) {
            buffer.add(Action.forward(stage, checked(microBatch)));
        }

        void backward(long microBatch) {
            buffer.add(Action.backward(stage, checked(microBatch)));
        }

        void update(long step) {
            buffer.add(Action.update(stage, checked(step)));
        }

        private static int checked(long index) {
            if (index > Integer.MAX_VALUE) {
                throw new NoSuchElementException("action stream exhausted the int range of indices");
            }
            return (int) index;
        }
    }

    private final Round round;
    private final Emitter emitter;
    private int next;

    RoundStream(int stage, Round round) {
        this.round = round;
        this.emitter = new Emitter(stage);
    }

    @Override
    public boolean hasNext() {
        return true;
    }

    @Override
    public Action next() {
        while (emitter.buffer.isEmpty()) {
            if (next < 0) {
                throw new NoSuchElementException("action stream exhausted the int range of rounds");
            }
            round.append(next++, emitter);
        }
        return emitter.buffer.poll();
    }
}
