package io.asyncpipeline.process;

import io.asyncpipeline.transport.grpc.ByteMarshaller;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Where stage hosts started by a cluster manager (a Spark barrier job, a batch scheduler) report their addresses to
 * the coordinator, and how long they stay: each host joins with its index (its stage) and its {@code host:port}, and
 * holds a lease until the coordinator {@linkplain #release() releases} it, after its last fit. The coordinator
 * {@linkplain #awaitHosts waits} for all of them and builds its wrapper with
 * {@code StageProcesses.peers(addresses)}. Every call carries the pipeline's access token, as a stage host's do;
 * TLS as for the hosts.
 *
 * <p>A host whose coordinator goes away sees its lease fail ({@link Lease#awaitRelease} throws within the channel's
 * keep-alive, about 15 s); a host that leaves before the release is dropped from the rendezvous (a later
 * {@code awaitHosts} waits for it again).
 */
public final class HostRendezvous implements AutoCloseable {

    static final MethodDescriptor<byte[], byte[]> JOIN = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("asyncpipeline.Rendezvous", "Join"))
            .setRequestMarshaller(ByteMarshaller.INSTANCE).setResponseMarshaller(ByteMarshaller.INSTANCE).build();

    private final int hosts;
    private final Server server;
    /** Joined hosts by index: address and the open call that is their lease. */
    private final Map<Integer, Joined> joined = new TreeMap<>();
    private boolean released;

    private record Joined(String address, ServerCallStreamObserver<byte[]> lease) {
    }

    private HostRendezvous(String bind, int port, int hosts, String token, Tls tls) {
        this.hosts = hosts;
        ServerServiceDefinition service = ServerServiceDefinition.builder("asyncpipeline.Rendezvous")
                .addMethod(JOIN, ServerCalls.asyncServerStreamingCall(this::join))
                .build();
        try {
            server = NettyServerBuilder.forAddress(new InetSocketAddress(bind, port), Wire.serverCredentials(tls))
                    .permitKeepAliveTime(5, TimeUnit.SECONDS).permitKeepAliveWithoutCalls(true)
                    .addService(ServerInterceptors.intercept(service, Wire.guard(token)))
                    .build().start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + bind + ":" + port, e);
        }
    }

    /**
     * Opens a rendezvous for {@code hosts} stage hosts on {@code bind} (port 0: a free one), accepting calls that carry
     * {@code token}; over TLS when {@code tls} is set.
     */
    public static HostRendezvous open(String bind, int port, int hosts, String token, Tls tls) {
        if (hosts < 1) {
            throw new IllegalArgumentException("a rendezvous needs at least one host, got " + hosts);
        }
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("a rendezvous needs an access token: every call must carry it");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
        return new HostRendezvous(bind, port, hosts, token, tls);
    }

    /** The port it listens on. */
    public int port() {
        return server.getPort();
    }

    private void join(byte[] request, StreamObserver<byte[]> response) {
        ServerCallStreamObserver<byte[]> lease = (ServerCallStreamObserver<byte[]>) response;
        String text = new String(request, StandardCharsets.UTF_8);
        int nl = text.indexOf('\n');
        int index;
        String address;
        try {
            index = Integer.parseInt(text.substring(0, Math.max(0, nl)));
            address = text.substring(nl + 1);
        } catch (RuntimeException e) {
            lease.onError(Status.INVALID_ARGUMENT.withDescription("a join is 'index\\nhost:port', got '" + text + "'")
                    .asRuntimeException());
            return;
        }
        if (index < 0 || index >= hosts || address.isBlank() || address.indexOf(':') <= 0) {
            lease.onError(Status.INVALID_ARGUMENT.withDescription("host " + index + " at '" + address
                    + "': the index must be 0.." + (hosts - 1) + " and the address host:port").asRuntimeException());
            return;
        }
        synchronized (this) {
            if (released) {
                lease.onError(Status.FAILED_PRECONDITION.withDescription("this rendezvous was released")
                        .asRuntimeException());
                return;
            }
            Joined before = joined.get(index);
            if (before != null && !before.lease().isCancelled()) {
                lease.onError(Status.ALREADY_EXISTS.withDescription("host " + index + " already joined from "
                        + before.address()).asRuntimeException());
                return;
            }
            Joined j = new Joined(address, lease);
            joined.put(index, j);
            lease.setOnCancelHandler(() -> left(index, j));
            notifyAll();
        }
    }

    private synchronized void left(int index, Joined j) {
        joined.remove(index, j);
        notifyAll();
    }

    /**
     * Waits until every host has joined and returns their addresses by index.
     *
     * @throws TimeoutException naming the hosts that have not joined within {@code timeout}
     */
    public synchronized List<String> awaitHosts(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (joined.size() < hosts) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                List<Integer> missing = new ArrayList<>();
                for (int i = 0; i < hosts; i++) {
                    if (!joined.containsKey(i)) {
                        missing.add(i);
                    }
                }
                throw new TimeoutException("stage hosts " + missing + " of " + hosts + " did not join the rendezvous"
                        + " on port " + port() + " within " + timeout.toSeconds() + " s");
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        List<String> out = new ArrayList<>();
        for (Joined j : joined.values()) {
            out.add(j.address());
        }
        return out;
    }

    /** Waits until at least {@code n} hosts have joined (tests). */
    synchronized void awaitJoined(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (joined.size() < n && System.nanoTime() < deadline) {
            TimeUnit.NANOSECONDS.timedWait(this, deadline - System.nanoTime());
        }
    }

    /** Stops listening without releasing anyone, as a coordinator that dies does (tests). */
    void abandon() {
        server.shutdownNow();
    }

    /** Ends every lease: the hosts' {@link Lease#awaitRelease} return, and later joins are refused. */
    public void release() {
        List<Joined> leases;
        synchronized (this) {
            released = true;
            leases = new ArrayList<>(joined.values());
            joined.clear();
            notifyAll();
        }
        for (Joined j : leases) {
            try {
                j.lease().onCompleted();
            } catch (IllegalStateException | StatusRuntimeException gone) {
                // the host has gone already
            }
        }
    }

    /** Releases the hosts and stops listening. */
    @Override
    public void close() {
        release();
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }

    /**
     * Joins the rendezvous at {@code rendezvous} ({@code host:port}) as host {@code index}, listening at
     * {@code hostAddress}. Returns once the call is on its way; a join the rendezvous refuses (wrong token, an index
     * taken or out of range, a rendezvous already released) fails {@link Lease#awaitRelease}.
     *
     * @throws IllegalStateException when the rendezvous cannot be reached within {@code window}
     */
    public static Lease join(String rendezvous, String token, Tls tls, int index, String hostAddress, Duration window) {
        ManagedChannel channel = Wire.channel(rendezvous, token, tls);
        try {
            Wire.awaitReachable(channel, rendezvous, window);
        } catch (RuntimeException e) {
            channel.shutdownNow();
            throw e;
        }
        Lease lease = new Lease(channel);
        ClientCalls.asyncServerStreamingCall(channel.newCall(JOIN, io.grpc.CallOptions.DEFAULT),
                (index + "\n" + hostAddress).getBytes(StandardCharsets.UTF_8), lease.observer());
        return lease;
    }

    /** A host's lease: held until the coordinator releases it, or fails when the coordinator or its channel goes. */
    public static final class Lease implements AutoCloseable {
        private final ManagedChannel channel;
        private final CountDownLatch ended = new CountDownLatch(1);
        private volatile Throwable failure;

        private Lease(ManagedChannel channel) {
            this.channel = channel;
        }

        private StreamObserver<byte[]> observer() {
            return new StreamObserver<>() {
                @Override
                public void onNext(byte[] value) {
                    // the coordinator sends nothing but the end
                }

                @Override
                public void onError(Throwable t) {
                    failure = t;
                    ended.countDown();
                }

                @Override
                public void onCompleted() {
                    ended.countDown();
                }
            };
        }

        /**
         * Blocks until the coordinator releases this host.
         *
         * @throws IllegalStateException when the lease failed instead: the join was refused, or the coordinator went
         *                               away
         */
        public void awaitRelease() throws InterruptedException {
            ended.await();
            throwIfFailed();
        }

        /** Waits at most {@code timeout} for the release; true when released, false when still held. */
        public boolean awaitRelease(Duration timeout) throws InterruptedException {
            if (!ended.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                return false;
            }
            throwIfFailed();
            return true;
        }

        private void throwIfFailed() {
            Throwable f = failure;
            if (f != null) {
                throw new IllegalStateException("the rendezvous ended this host's lease: " + f.getMessage(), f);
            }
        }

        /** Gives the lease up (the coordinator sees this host leave) and closes the channel. */
        @Override
        public void close() {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
