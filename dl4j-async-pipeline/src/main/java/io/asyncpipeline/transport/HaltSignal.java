package io.asyncpipeline.transport;

/** A shared, one-way "stop now" flag that every channel of one pipeline run watches. */
public final class HaltSignal {

    private volatile boolean halted;

    /** Raises the signal; idempotent. */
    public void halt() {
        halted = true;
    }

    /** Throws {@link HaltedException} if the signal is raised. */
    public void check() {
        if (halted) {
            throw new HaltedException();
        }
    }
}
