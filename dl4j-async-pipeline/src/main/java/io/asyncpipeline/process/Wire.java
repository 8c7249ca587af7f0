package io.asyncpipeline.process;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.TimeUnit;

/**
 * How the processes of a pipeline reach each other: plaintext gRPC channels carrying a shared access token in every
 * call's headers, and the server-side check of that token; messages of any size; keep-alives so that a silent peer is
 * noticed even where no connection reset arrives.
 */
final class Wire {

    static final Metadata.Key<String> TOKEN = Metadata.Key.of("x-asyncpipeline-token", Metadata.ASCII_STRING_MARSHALLER);
    static final int MAX_MESSAGE_BYTES = Integer.MAX_VALUE;

    private Wire() {
    }

    /** A channel to {@code address} ({@code host:port}) whose calls carry {@code token}; TLS when {@code tls} is set. */
    static ManagedChannel channel(String address, String token, Tls tls) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("a stage process address is host:port, got '" + address + "'");
        }
        String host = address.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a stage process address is host:port, got '" + address + "'");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range in '" + address + "'");
        }
        NettyChannelBuilder b;
        if (tls == null) {
            b = NettyChannelBuilder.forAddress(host, port).usePlaintext();
        } else {
            try {
                TlsChannelCredentials.Builder creds = TlsChannelCredentials.newBuilder()
                        .trustManager(tls.trustedCertificates());
                if (tls.mutual()) {
                    creds.keyManager(tls.certificateChain(), tls.privateKey());
                }
                b = NettyChannelBuilder.forAddress(host, port, creds.build());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the TLS files", e);
            }
        }
        return b.maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .keepAliveTime(10, TimeUnit.SECONDS).keepAliveTimeout(3, TimeUnit.SECONDS).keepAliveWithoutCalls(true)
                .intercept(new ClientInterceptor() {
                    @Override
                    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options,
                                                                 Channel next) {
                        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                            @Override
                            public void start(Listener<R> listener, Metadata headers) {
                                headers.put(TOKEN, token);
                                super.start(listener, headers);
                            }
                        };
                    }
                })
                .build();
    }

    /** Server credentials for {@code tls}: its certificate and key, and with mutual TLS the required client check. */
    static ServerCredentials serverCredentials(Tls tls) {
        if (tls == null) {
            return InsecureServerCredentials.create();
        }
        try {
            TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder()
                    .keyManager(tls.certificateChain(), tls.privateKey());
            if (tls.mutual()) {
                b.trustManager(tls.trustedCertificates()).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
            }
            return b.build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the TLS files", e);
        }
    }

    /** Refuses every call whose token is not {@code token} (compared in constant time). */
    static ServerInterceptor guard(String token) {
        byte[] expected = token.getBytes(StandardCharsets.UTF_8);
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                               ServerCallHandler<Q, R> next) {
                String given = headers.get(TOKEN);
                if (given == null || !MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
                    call.close(Status.UNAUTHENTICATED.withDescription(given == null
                            ? "no access token: every call to a stage process carries the pipeline's token"
                            : "wrong access token"), new Metadata());
                    return new ServerCall.Listener<>() {
                    };
                }
                return next.startCall(call, headers);
            }
        };
    }

    /**
     * Waits until {@code channel} is connected (gRPC retries with backoff meanwhile), at most {@code window}: a stage
     * process that is still starting is waited for, one that is not there fails with its address.
     */
    static void awaitReachable(ManagedChannel channel, String address, java.time.Duration window) {
        long deadline = System.nanoTime() + window.toNanos();
        io.grpc.ConnectivityState state = channel.getState(true);
        while (state != io.grpc.ConnectivityState.READY) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("cannot reach the stage process at " + address + " within "
                        + window.toSeconds() + " s (connection " + state + "): is it running, listening on that"
                        + " address, and using the same TLS settings as this coordinator?");
            }
            if (state == io.grpc.ConnectivityState.SHUTDOWN) {
                throw new IllegalStateException("the channel to " + address + " was shut down");
            }
            java.util.concurrent.CountDownLatch changed = new java.util.concurrent.CountDownLatch(1);
            channel.notifyWhenStateChanged(state, changed::countDown);
            try {
                changed.await(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reaching " + address, e);
            }
            state = channel.getState(true);
        }
    }
}
