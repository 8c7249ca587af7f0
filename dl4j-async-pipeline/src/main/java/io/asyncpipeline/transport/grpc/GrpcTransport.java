package io.asyncpipeline.transport.grpc;

import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.Transport;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Stage-to-stage channels over gRPC-java bidirectional streams, both ends in this JVM: one stream per cut and
 * direction (activations forward, gradients back), each message the {@code MessageCodec} bytes (a small header, then
 * each tensor's raw bytes), with no generated code: the method descriptor carries byte arrays. Flow control and
 * failures are {@link LinkRouter}'s, the same ends that join stage processes ({@code io.asyncpipeline.process}).
 * Messages up to {@link #MAX_MESSAGE_BYTES} are accepted (gRPC's default limit, 4 MiB, is raised deliberately: a
 * boundary tensor is often larger).
 *
 * <p>Over loopback ({@link #loopback()}) the pipeline trains exactly as over the in-JVM transport, every message
 * crossing a real gRPC stream. Single-threaded replay needs the in-JVM transport (it steps the stages in one thread
 * and must see a message the moment it is sent).
 */
public final class GrpcTransport implements Transport, AutoCloseable {

    /** The largest message a receiver accepts. */
    public static final int MAX_MESSAGE_BYTES = Integer.MAX_VALUE;

    private final Server server;
    private final ManagedChannel channel;
    private final LinkRouter router;
    private final AtomicLong opened = new AtomicLong();

    private GrpcTransport(Server server, ManagedChannel channel, LinkRouter router) {
        this.server = server;
        this.channel = channel;
        this.router = router;
    }

    /** A transport whose server and client are both in this JVM, on a free loopback port. Close it when done. */
    public static GrpcTransport loopback() {
        LinkRouter router = new LinkRouter();
        Server server;
        try {
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                    .addService(router.service())
                    .build().start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the gRPC server on 127.0.0.1", e);
        }
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE_BYTES).build();
        return new GrpcTransport(server, channel, router);
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
        return new Link(router.both(channel, n + "/" + cut + "/forward", capacity, halt),
                router.both(channel, n + "/" + cut + "/backward", capacity, halt));
    }

    @Override
    public void close(Link link) {
        router.release(link.forward());
        router.release(link.backward());
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
}
