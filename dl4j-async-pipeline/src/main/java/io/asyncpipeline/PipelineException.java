package io.asyncpipeline;

/**
 * A pipeline stage failed (or the run was interrupted). Names the stage and the micro-batch it was
 * working on; {@link #getCause()} is the original exception from the stage thread. When this is
 * thrown, every stage thread has stopped, and the network holds each stage's last completed update.
 */
public final class PipelineException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int stage;
    private final int microBatch;

    public PipelineException(int stage, int microBatch, String message, Throwable cause) {
        super(message, cause);
        this.stage = stage;
        this.microBatch = microBatch;
    }

    /** The failing stage, or -1 when the run was stopped from outside (interrupt). */
    public int stage() {
        return stage;
    }

    /** The micro-batch the stage was working on, or -1 if none. */
    public int microBatch() {
        return microBatch;
    }
}
