package io.asyncpipeline.transport;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An in-JVM {@link Channel} backed by a bounded {@link LinkedBlockingQueue}. Blocking calls wake up every
 * {@value #POLL_MILLIS} ms to look at the {@link HaltSignal}.
 */
public final class BoundedChannel implements Channel {

    static final long POLL_MILLIS = 20;

    private final BlockingQueue<Message> queue;
    private final HaltSignal halt;

    public BoundedChannel(int capacity, HaltSignal halt) {
        if (capacity < 1) {
            throw new IllegalArgumentException("channel capacity must be >= 1, got " + capacity);
        }
        this.queue = new LinkedBlockingQueue<>(capacity);
        this.halt = halt;
    }

    @Override
    public void send(Message message) throws InterruptedException {
        while (!queue.offer(message, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
            halt.check();
        }
    }

    @Override
    public Message receive() throws InterruptedException {
        while (true) {
            Message m = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
            if (m != null) {
                return m;
            }
            halt.check();
        }
    }

    @Override
    public int size() {
        return queue.size();
    }
}
