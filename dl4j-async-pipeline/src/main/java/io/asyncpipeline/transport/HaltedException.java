package io.asyncpipeline.transport;

/** Thrown out of a blocked channel operation when the pipeline has been halted by another stage. */
public final class HaltedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public HaltedException() {
        super("pipeline halted", null, false, false);
    }
}
