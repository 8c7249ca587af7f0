package io.asyncpipeline.transport;

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

        private final HaltableQueue<byte[]> queue;

        ByteChannel(int capacity, HaltSignal halt) {
            this.queue = new HaltableQueue<>(capacity, halt);
        }

        @Override
        public void send(Message message) throws InterruptedException {
            queue.put(MessageCodec.encode(message));
        }

        @Override
        public Message receive() throws InterruptedException {
            return MessageCodec.decode(queue.take());
        }

        @Override
        public int size() {
            return queue.size();
        }
    }
}
