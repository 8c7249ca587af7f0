package io.asyncpipeline.runtime;

/** A deliberate architecture violation (a runtime class using the facade), for ArchitectureTest only. */
public final class UpwardUser {

    private UpwardUser() {
    }

    public static Object facade() {
        return io.asyncpipeline.Schedule.ASYNC_1F1B;
    }
}
