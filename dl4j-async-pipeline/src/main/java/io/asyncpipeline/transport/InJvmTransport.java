package io.asyncpipeline.transport;

/** Stages in one JVM: every channel is a {@link BoundedChannel} that passes message objects by reference. */
public final class InJvmTransport implements Transport {

    @Override
    public Link open(int cut, int capacity, HaltSignal halt) {
        return new Link(new BoundedChannel(capacity, halt), new BoundedChannel(capacity, halt));
    }

    @Override
    public String toString() {
        return "in-JVM";
    }
}
