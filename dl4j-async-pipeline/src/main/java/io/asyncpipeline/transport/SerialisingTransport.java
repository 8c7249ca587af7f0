package io.asyncpipeline.transport;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An in-JVM transport that copies every message through a byte array with {@link MessageCodec}, as a
 * transport between processes must: nothing but bytes crosses a cut, and the receiver gets new arrays. It
 * exists to show that the runtime depends on the {@link Transport} seam only (training over it gives the
 * same bits as over {@link InJvmTransport}), and to check a run's messages survive encoding.
 */
public final class SerialisingTransport implements Transport {

    @Override
    public Link open(int cut, int capacity, HaltSignal halt) {
        return new Link(new ByteChannel(capacity, halt), new ByteChannel(capacity, halt));
    }

    @Override
    public String toString() {
        return "serialising in-JVM";
    }

    private static final class ByteChannel implements Channel {

        private final BlockingQueue<byte[]> queue;
        private final HaltSignal halt;

        ByteChannel(int capacity, HaltSignal halt) {
            if (capacity < 1) {
                throw new IllegalArgumentException("channel capacity must be >= 1, got " + capacity);
            }
            this.queue = new LinkedBlockingQueue<>(capacity);
            this.halt = halt;
        }

        @Override
        public void send(Message message) throws InterruptedException {
            byte[] bytes = MessageCodec.encode(message);
            while (!queue.offer(bytes, BoundedChannel.POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                halt.check();
            }
        }

        @Override
        public Message receive() throws InterruptedException {
            while (true) {
                byte[] b = queue.poll(BoundedChannel.POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (b != null) {
                    return MessageCodec.decode(b);
                }
                halt.check();
            }
        }

        @Override
        public int size() {
            return queue.size();
        }
    }
}
