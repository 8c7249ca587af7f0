package io.asyncpipeline.transport.grpc;

import io.asyncpipeline.transport.Channel;
import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.Message;
import io.asyncpipeline.transport.MessageCodec;
import io.asyncpipeline.transport.Transport;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Stage-to-stage channels over gRPC-java bidirectional streams: one stream per cut and direction (activations
 * forward, gradients back), each message the {@link MessageCodec} bytes (a small header, then each tensor's raw
 * bytes), with no generated code: the method descriptor carries byte arrays.
 *
 * <p><b>Flow control.</b> The receiving end asks gRPC for messages itself ({@code disableAutoRequest}): one per
 * message a stage has taken, starting with the run's channel capacity (the schedule's window), so at most that many
 * messages wait at the receiver, and HTTP/2 flow control holds the sender back beyond that. A sender waits while its
 * stream is not ready ({@code isReady}, woken by the on-ready handler). Messages up to {@link #MAX_MESSAGE_BYTES}
 * are accepted (gRPC's default limit, 4 MiB, is raised deliberately: a boundary tensor is often larger).
 *
 * <p><b>Failures.</b> Every blocked send or receive wakes every 20 ms to look at the run's {@link HaltSignal}, so a
 * stage never hangs on a dead neighbour; a stream that fails makes the next receive or send on it throw
 * {@link LinkFailedException} naming the cut, the direction and gRPC's status. Bytes that are not a message fail
 * the receiving stage with the codec's {@code MalformedMessageException}.
 *
 * <p>This class runs both ends in one JVM, over loopback ({@link #loopback()}): the pipeline then trains exactly as
 * over the in-JVM transport, every message crossing a real gRPC stream. Single-threaded replay needs the in-JVM
 * transport (it steps the stages in one thread and must see a message the moment it is sent).
 */
public final class GrpcTransport implements Transport, AutoCloseable {

    /** The largest message a receiver accepts. */
    public static final int MAX_MESSAGE_BYTES = Integer.MAX_VALUE;
    static final long POLL_MILLIS = 20;

    static final MethodDescriptor<byte[], byte[]> LINK = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("asyncpipeline.Stage", "Link"))
            .setRequestMarshaller(Bytes.INSTANCE).setResponseMarshaller(Bytes.INSTANCE).build();

    private final Server server;
    private final ManagedChannel channel;
    /** The receiving ends of the open links, by the name their stream's first message carries. */
    private final Map<String, Inbound> routes;
    private final AtomicLong opened = new AtomicLong();

    private GrpcTransport(Server server, ManagedChannel channel, Map<String, Inbound> routes) {
        this.server = server;
        this.channel = channel;
        this.routes = routes;
    }

    /** A transport whose server and client are both in this JVM, on a free loopback port. Close it when done. */
    public static GrpcTransport loopback() {
        Map<String, Inbound> routes = new ConcurrentHashMap<>();
        Server server;
        try {
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                    .addService(ServerServiceDefinition.builder("asyncpipeline.Stage")
                            .addMethod(LINK, ServerCalls.asyncBidiStreamingCall(response -> accept(routes, response)))
                            .build())
                    .build().start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the gRPC server on 127.0.0.1", e);
        }
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE_BYTES).build();
        return new GrpcTransport(server, channel, routes);
    }

    /** The port the loopback server listens on. */
    public int port() {
        return server.getPort();
    }

    @Override
    public Link open(int cut, int capacity, HaltSignal halt) {
        if (capacity == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("singleThreadedReplay steps every stage in one thread and needs the"
                    + " in-JVM transport; the gRPC transport is for stage threads or processes");
        }
        long n = opened.incrementAndGet();
        return new Link(channel(n + "/" + cut + "/forward", capacity, halt),
                channel(n + "/" + cut + "/backward", capacity, halt));
    }

    private GrpcChannel channel(String key, int capacity, HaltSignal halt) {
        Inbound in = new Inbound(key, capacity, halt);
        routes.put(key, in);
        Outbound out = new Outbound(key, halt);
        out.start(channel);
        return new GrpcChannel(key, out, in);
    }

    @Override
    public void close(Link link) {
        for (Channel c : new Channel[] {link.forward(), link.backward()}) {
            if (c instanceof GrpcChannel g) {
                g.out.finish();
                routes.remove(g.key);
            }
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
        server.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "gRPC over 127.0.0.1:" + server.getPort();
    }

    /**
     * The server side of one stream: its first message names the link (UTF-8 key); every later one is queued for the
     * link's receiving stage.
     */
    private static StreamObserver<byte[]> accept(Map<String, Inbound> routes, StreamObserver<byte[]> response) {
        ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) response;
        call.disableAutoRequest();
        call.request(1);                         // the link's name
        return new StreamObserver<>() {
            private Inbound in;

            @Override
            public void onNext(byte[] bytes) {
                if (in == null) {
                    String key = new String(bytes, StandardCharsets.UTF_8);
                    in = routes.get(key);
                    if (in == null) {
                        call.onError(Status.NOT_FOUND.withDescription("no open link " + key).asRuntimeException());
                        return;
                    }
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
        private final int capacity;
        private final HaltSignal halt;
        private final LinkedBlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
        private volatile ServerCallStreamObserver<byte[]> call;
        private volatile Status failure;

        Inbound(String key, int capacity, HaltSignal halt) {
            this.key = key;
            this.capacity = capacity;
            this.halt = halt;
        }

        void attach(ServerCallStreamObserver<byte[]> c) {
            this.call = c;
            c.request(capacity);
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
                    ServerCallStreamObserver<byte[]> c = call;
                    if (c != null) {
                        c.request(1);
                    }
                    return b;
                }
                halt.check();
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

        void start(ManagedChannel channel) {
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

    /** One direction of one cut: sends on its client stream, receives from its server-side queue. */
    static final class GrpcChannel implements Channel {
        final String key;
        final Outbound out;
        final Inbound in;

        GrpcChannel(String key, Outbound out, Inbound in) {
            this.key = key;
            this.out = out;
            this.in = in;
        }

        @Override
        public void send(Message message) throws InterruptedException {
            out.send(MessageCodec.encode(message));
        }

        @Override
        public Message receive() throws InterruptedException {
            return MessageCodec.decode(in.take());
        }

        @Override
        public int size() {
            return in.size();
        }
    }

    /** byte[] as it is: the codec does the rest. */
    enum Bytes implements MethodDescriptor.Marshaller<byte[]> {
        INSTANCE;

        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read a message", e);
            }
        }
    }
}
