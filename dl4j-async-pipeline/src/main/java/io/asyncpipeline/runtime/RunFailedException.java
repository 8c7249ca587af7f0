package io.asyncpipeline.runtime;

/**
 * A run stopped because a stage failed, the training iterator failed, or the caller was interrupted. When
 * it is thrown every stage thread has stopped. {@link #getCause()} is the original exception.
 */
public final class RunFailedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int stage;
    private final int microBatch;

    public RunFailedException(int stage, int microBatch, String message, Throwable cause) {
        super(message, cause);
        this.stage = stage;
        this.microBatch = microBatch;
    }

    /** The failing stage, or -1 when the run was stopped from outside (interrupt) or deadlocked. */
    public int stage() {
        return stage;
    }

    /** The micro-batch the stage was working on, or -1 if none. */
    public int microBatch() {
        return microBatch;
    }
}
