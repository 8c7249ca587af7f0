package io.asyncpipeline.transport;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded in-JVM queue whose blocking calls wake up every {@value #POLL_MILLIS} ms to look at the run's
 * {@link HaltSignal}, so no stage blocks on a dead neighbour. What the in-JVM channels are built on.
 *
 * @param <T> what it holds
 */
final class HaltableQueue<T> {

    static final long POLL_MILLIS = 20;

    private final BlockingQueue<T> queue;
    private final HaltSignal halt;

    HaltableQueue(int capacity, HaltSignal halt) {
        if (capacity < 1) {
            throw new IllegalArgumentException("channel capacity must be >= 1, got " + capacity);
        }
        this.queue = new LinkedBlockingQueue<>(capacity);
        this.halt = halt;
    }

    /** Blocks until there is room, then enqueues {@code item}. */
    void put(T item) throws InterruptedException {
        while (!queue.offer(item, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
            halt.check();
        }
    }

    /** Blocks until an item arrives and returns it. */
    T take() throws InterruptedException {
        while (true) {
            T item = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
            if (item != null) {
                return item;
            }
            halt.check();
        }
    }

    int size() {
        return queue.size();
    }
}
