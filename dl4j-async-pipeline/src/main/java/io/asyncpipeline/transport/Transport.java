package io.asyncpipeline.transport;

/**
 * The seam between neighbouring stages: creates, for every cut of a pipeline run, the channel that carries
 * activations forward and the one that carries gradients back. A stage talks to its neighbours only
 * through these channels, and the channels carry only {@link Message}s (plain data). The in-JVM default
 * is {@link InJvmTransport}; a transport between processes is one more implementation.
 */
public interface Transport {

    /**
     * Opens the two channels of cut {@code cut} (between stage {@code cut} and stage {@code cut + 1}) for
     * one run.
     *
     * @param capacity the most messages one channel must hold without blocking the sender; the
     *                 schedule's window
     * @param halt     the run's halt signal: blocked calls must give up with {@link HaltedException} once it
     *                 is raised
     */
    Link open(int cut, int capacity, HaltSignal halt);

    /**
     * Releases what {@link #open} made for one run, once the run has ended (normally or not): no stage uses
     * {@code link} any more. The in-JVM transports hold nothing; a network transport closes its streams.
     */
    default void close(Link link) {
    }

    /** The channels of one cut. */
    record Link(Channel forward, Channel backward) {
    }
}
