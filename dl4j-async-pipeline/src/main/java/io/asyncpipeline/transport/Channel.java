package io.asyncpipeline.transport;

/**
 * A one-way hand-off of {@link Message}s between two neighbouring stages: activations forward or gradients
 * backward over one cut. Implementations are bounded; a blocked {@link #send} or {@link #receive} returns
 * early with {@link HaltedException} once the pipeline is halted, so no stage thread can hang on a dead
 * neighbour.
 */
public interface Channel {

    /** Blocks until there is room, then enqueues {@code message}. */
    void send(Message message) throws InterruptedException;

    /** Blocks until a message arrives and returns it. */
    Message receive() throws InterruptedException;

    /** Number of messages that have arrived and not been received yet (a replay asks before it receives). */
    int size();
}
