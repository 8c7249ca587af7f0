package io.asyncpipeline.transport;

/**
 * A one-way hand-off between two neighbouring stages. Implementations are bounded; a blocked
 * {@link #send} or {@link #receive} returns early with {@link HaltedException} once the pipeline is
 * halted, so no stage thread can hang on a dead neighbour.
 *
 * @param <T> message type
 */
public interface Channel<T> {

    /** Blocks until there is room, then enqueues {@code message}. */
    void send(T message) throws InterruptedException;

    /** Blocks until a message arrives and returns it. */
    T receive() throws InterruptedException;

    /** Number of queued messages (for metrics and tests). */
    int size();
}
