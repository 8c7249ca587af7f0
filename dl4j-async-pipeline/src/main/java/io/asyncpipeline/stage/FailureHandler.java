package io.asyncpipeline.stage;

import io.asyncpipeline.transport.HaltSignal;

/**
 * The one place stage errors go: keeps the first failure (stage, micro-batch, cause) and raises the
 * halt signal so every other stage stops at its next blocking point.
 */
public final class FailureHandler {

    /**
     * A recorded stage failure; {@code fromSource} when the first stage was reading the micro-batch from the
     * user's iterator (the iterator, not the model, failed).
     */
    public record Failure(int stage, int microBatch, Throwable cause, boolean fromSource) {
    }

    private final HaltSignal halt;
    private volatile Failure first;

    public FailureHandler(HaltSignal halt) {
        this.halt = halt;
    }

    /** Records a failure (only the first is kept) and halts the pipeline. */
    public void fail(int stage, int microBatch, Throwable cause) {
        fail(stage, microBatch, cause, false);
    }

    /** Records a failure (only the first is kept) and halts the pipeline. */
    public synchronized void fail(int stage, int microBatch, Throwable cause, boolean fromSource) {
        if (first == null) {
            first = new Failure(stage, microBatch, cause, fromSource);
        }
        halt.halt();
    }

    /** The first failure, or null. */
    public Failure failure() {
        return first;
    }
}
