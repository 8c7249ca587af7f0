package io.asyncpipeline.transport.grpc;

import io.asyncpipeline.transport.Channel;
import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.Message;
import io.asyncpipeline.transport.MessageCodec;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The two ends of stage-to-stage links over gRPC bidirectional streams, for a server that accepts links
 * ({@link #service()}) and the clients that open them. A link is one direction of one cut: the sending end opens a
 * stream to the receiving end's server, and its first message names the link (a key both ends agree on); every later
 * message is one {@link MessageCodec} frame. Either end may come first: a stream that arrives before its receiving
 * end is opened waits, unread, until it is.
 *
 * <p><b>Flow control.</b> The receiving end asks gRPC for messages itself ({@code disableAutoRequest}): one per
 * message its stage has taken, starting with the run's channel capacity (the schedule's window), so at most that many
 * messages wait at the receiver, and HTTP/2 flow control holds the sender back beyond that. A sender waits while its
 * stream is not ready ({@code isReady}, woken by the on-ready handler).
 *
 * <p><b>Failures.</b> Every blocked send or receive wakes every 20 ms to look at the run's {@link HaltSignal}, so a
 * stage never hangs on a dead neighbour; a stream that fails makes the next receive or send on it throw
 * {@link LinkFailedException} naming the link and gRPC's status. Bytes that are not a message fail the receiving
 * stage with the codec's {@code MalformedMessageException}.
 */
public final class LinkRouter {

    static final long POLL_MILLIS = 20;

    static final MethodDescriptor<byte[], byte[]> LINK = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("asyncpipeline.Stage", "Link"))
            .setRequestMarshaller(ByteMarshaller.INSTANCE).setResponseMarshaller(ByteMarshaller.INSTANCE).build();

    /** The receiving ends, opened or only arrived, by the key their stream's first message carries. */
    private final Map<String, Inbound> routes = new ConcurrentHashMap<>();
    private final java.util.function.Predicate<String> accepts;

    /** A router that accepts every link. */
    public LinkRouter() {
        this(key -> true);
    }

    /**
     * A router that refuses a stream whose link key {@code accepts} rejects (a link of another job) with
     * {@code NOT_FOUND}, naming the key.
     */
    public LinkRouter(java.util.function.Predicate<String> accepts) {
        this.accepts = accepts;
    }

    /** The service that accepts the streams of links whose receiving end is in this process. */
    public ServerServiceDefinition service() {
        return ServerServiceDefinition.builder("asyncpipeline.Stage")
                .addMethod(LINK, ServerCalls.asyncBidiStreamingCall(this::accept))
                .build();
    }

    /**
     * The receiving end of link {@code key}: a channel that only receives. At most {@code capacity} messages wait in
     * it; blocked receives give up with {@code HaltedException} once {@code halt} is raised.
     */
    public Channel receiver(String key, int capacity, HaltSignal halt) {
        Inbound in = routes.computeIfAbsent(key, Inbound::new);
        in.open(capacity, halt);
        return new LinkChannel(key, null, in);
    }

    /** The sending end of link {@code key}, a stream to the server behind {@code channel}: a channel that only sends. */
    public static Channel sender(io.grpc.Channel channel, String key, HaltSignal halt) {
        Outbound out = new Outbound(key, halt);
        out.start(channel);
        return new LinkChannel(key, out, null);
    }

    /** Both ends of link {@code key} in this process, the stream going through {@code channel} to this router's server. */
    Channel both(ManagedChannel channel, String key, int capacity, HaltSignal halt) {
        Inbound in = routes.computeIfAbsent(key, Inbound::new);
        in.open(capacity, halt);
        Outbound out = new Outbound(key, halt);
        out.start(channel);
        return new LinkChannel(key, out, in);
    }

    /** Ends a channel made here after its run: a sender completes its stream, a receiver forgets its key. */
    public void release(Channel c) {
        if (c instanceof LinkChannel l) {
            if (l.out != null) {
                l.out.finish();
            }
            if (l.in != null) {
                routes.remove(l.key, l.in);
            }
        }
    }

    /** Ends the sending half of a channel from {@link #sender}: completes its stream. */
    public static void finish(Channel c) {
        if (c instanceof LinkChannel l && l.out != null) {
            l.out.finish();
        }
    }

    /** Links whose stream has arrived or whose receiving end is open, not yet released (for tests). */
    int pending() {
        return routes.size();
    }

    private StreamObserver<byte[]> accept(StreamObserver<byte[]> response) {
        ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) response;
        call.disableAutoRequest();
        call.request(1);                         // the link's name
        return new StreamObserver<>() {
            private Inbound in;

            private boolean refused;

            @Override
            public void onNext(byte[] bytes) {
                if (refused) {
                    return;
                }
                if (in == null) {
                    String key = new String(bytes, StandardCharsets.UTF_8);
                    if (!accepts.test(key)) {
                        refused = true;
                        call.onError(Status.NOT_FOUND.withDescription("link " + key + " belongs to no job running here")
                                .asRuntimeException());
                        return;
                    }
                    in = routes.computeIfAbsent(key, Inbound::new);
                    in.attach(call);
                    return;
                }
                in.arrived(bytes);
            }

            @Override
            public void onError(Throwable t) {
                if (in != null) {
                    in.failed(Status.fromThrowable(t));
                }
            }

            @Override
            public void onCompleted() {
                if (in != null) {
                    in.completed();
                }
                call.onCompleted();
            }
        };
    }

    /** A link's receiving end: the bytes that arrived, handed out one at a time, each take asking for one more. */
    static final class Inbound {
        private static final byte[] CLOSED = new byte[0];

        private final String key;
        private final LinkedBlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
        private ServerCallStreamObserver<byte[]> call;
        private int capacity = -1;
        private volatile HaltSignal halt;
        private volatile Status failure;

        Inbound(String key) {
            this.key = key;
        }

        /** The receiving stage is ready: messages may flow, up to {@code capacity} waiting. */
        synchronized void open(int capacity, HaltSignal halt) {
            this.halt = halt;
            this.capacity = capacity;
            if (call != null) {
                call.request(capacity);
            }
        }

        /** The sender's stream arrived. */
        synchronized void attach(ServerCallStreamObserver<byte[]> c) {
            this.call = c;
            if (capacity >= 0) {
                c.request(capacity);
            }
        }

        void arrived(byte[] bytes) {
            queue.add(bytes);
        }

        void failed(Status s) {
            failure = s;
            queue.add(CLOSED);
        }

        void completed() {
            queue.add(CLOSED);
        }

        byte[] take() throws InterruptedException {
            while (true) {
                byte[] b = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (b == CLOSED) {
                    queue.add(CLOSED);          // every later take sees it too
                    throw new LinkFailedException(key, failure == null ? "the sender closed the stream"
                            : "the stream failed: " + failure);
                }
                if (b != null) {
                    ServerCallStreamObserver<byte[]> c;
                    synchronized (this) {
                        c = call;
                    }
                    if (c != null) {
                        c.request(1);
                    }
                    return b;
                }
                HaltSignal h = halt;
                if (h != null) {
                    h.check();
                }
            }
        }

        int size() {
            return (int) queue.stream().filter(b -> b != CLOSED).count();
        }
    }

    /** A link's sending end: a client stream that sends when gRPC says it is ready. */
    static final class Outbound implements ClientResponseObserver<byte[], byte[]> {
        private final String key;
        private final HaltSignal halt;
        private final Object ready = new Object();
        private volatile ClientCallStreamObserver<byte[]> stream;
        private volatile Status failure;
        private volatile boolean finished;

        Outbound(String key, HaltSignal halt) {
            this.key = key;
            this.halt = halt;
        }

        void start(io.grpc.Channel channel) {
            StreamObserver<byte[]> s = ClientCalls.asyncBidiStreamingCall(channel.newCall(LINK, CallOptions.DEFAULT), this);
            s.onNext(key.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<byte[]> s) {
            this.stream = s;
            s.setOnReadyHandler(() -> {
                synchronized (ready) {
                    ready.notifyAll();
                }
            });
        }

        void send(byte[] bytes) throws InterruptedException {
            ClientCallStreamObserver<byte[]> s = stream;
            while (true) {
                if (failure != null) {
                    throw new LinkFailedException(key, "the stream failed: " + failure);
                }
                halt.check();
                if (s.isReady()) {
                    break;
                }
                synchronized (ready) {
                    ready.wait(POLL_MILLIS);
                }
            }
            s.onNext(bytes);
        }

        void finish() {
            if (finished) {
                return;
            }
            finished = true;
            try {
                if (failure == null) {
                    stream.onCompleted();
                } else {
                    stream.cancel("the run ended", null);
                }
            } catch (RuntimeException ignored) {
                // the stream is already closed
            }
        }

        @Override
        public void onNext(byte[] value) {
        }

        @Override
        public void onError(Throwable t) {
            failure = Status.fromThrowable(t);
            synchronized (ready) {
                ready.notifyAll();
            }
        }

        @Override
        public void onCompleted() {
        }
    }

    /** One direction of one link: sends on its client stream and/or receives from its server-side queue. */
    static final class LinkChannel implements Channel {
        final String key;
        final Outbound out;
        final Inbound in;

        LinkChannel(String key, Outbound out, Inbound in) {
            this.key = key;
            this.out = out;
            this.in = in;
        }

        @Override
        public void send(Message message) throws InterruptedException {
            if (out == null) {
                throw new IllegalStateException("link " + key + " only receives here");
            }
            out.send(MessageCodec.encode(message));
        }

        /**
         * Each tensor's data type and rank in the first data message (type null for a missing tensor): every later one
         * must match. Kept apart from the tensors, so no message outlives its use.
         */
        private org.nd4j.linalg.api.buffer.DataType[] types;
        private int[] ranks;

        @Override
        public Message receive() throws InterruptedException {
            if (in == null) {
                throw new IllegalStateException("link " + key + " only sends here");
            }
            Message m = MessageCodec.decode(in.take());
            if (m.kind() == Message.Kind.DATA) {
                org.nd4j.linalg.api.ndarray.INDArray[] t = m.tensors();
                int n = t == null ? 0 : t.length;
                if (types == null) {
                    types = new org.nd4j.linalg.api.buffer.DataType[n];
                    ranks = new int[n];
                    for (int i = 0; i < n; i++) {
                        types[i] = t[i] == null ? null : t[i].dataType();
                        ranks[i] = t[i] == null ? -1 : t[i].rank();
                    }
                } else if (!matches(t, n)) {
                    StringBuilder before = new StringBuilder("[");
                    for (int i = 0; i < types.length; i++) {
                        before.append(i == 0 ? "" : ", ").append(types[i] == null ? "null" : types[i] + " rank " + ranks[i]);
                    }
                    throw new io.asyncpipeline.transport.MalformedMessageException("link " + key + ": micro-batch "
                            + m.microBatch() + " carries tensors " + layout(t) + ", the link carried " + before + "] before");
                }
            }
            return m;
        }

        private boolean matches(org.nd4j.linalg.api.ndarray.INDArray[] t, int n) {
            if (n != types.length) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                boolean ok = t[i] == null ? types[i] == null : t[i].dataType() == types[i] && t[i].rank() == ranks[i];
                if (!ok) {
                    return false;
                }
            }
            return true;
        }

        private static String layout(org.nd4j.linalg.api.ndarray.INDArray[] t) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; t != null && i < t.length; i++) {
                b.append(i == 0 ? "" : ", ").append(t[i] == null ? "null" : t[i].dataType() + " rank " + t[i].rank());
            }
            return b.append("]").toString();
        }

        @Override
        public int size() {
            return in == null ? 0 : in.size();
        }
    }

}
