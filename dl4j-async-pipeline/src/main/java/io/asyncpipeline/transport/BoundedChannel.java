package io.asyncpipeline.transport;

/** An in-JVM {@link Channel} that passes message objects through a bounded {@link HaltableQueue}. */
public final class BoundedChannel implements Channel {

    private final HaltableQueue<Message> queue;

    public BoundedChannel(int capacity, HaltSignal halt) {
        this.queue = new HaltableQueue<>(capacity, halt);
    }

    @Override
    public void send(Message message) throws InterruptedException {
        queue.put(message);
    }

    @Override
    public Message receive() throws InterruptedException {
        return queue.take();
    }

    @Override
    public int size() {
        return queue.size();
    }
}
