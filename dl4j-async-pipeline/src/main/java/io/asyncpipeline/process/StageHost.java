package io.asyncpipeline.process;

import io.asyncpipeline.model.ModelSetup;
import io.asyncpipeline.runtime.PipelineModel;
import io.asyncpipeline.runtime.PipelineRun;
import io.asyncpipeline.runtime.RunFailedException;
import io.asyncpipeline.runtime.RunSettings;
import io.asyncpipeline.runtime.ThreadSettings;
import io.asyncpipeline.stage.MicroBatchSource;
import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.stage.UpdateObserver;
import io.asyncpipeline.transport.Channel;
import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.HaltedException;
import io.asyncpipeline.transport.InJvmTransport;
import io.asyncpipeline.transport.Transport;
import io.asyncpipeline.transport.grpc.LinkFailedException;
import io.asyncpipeline.transport.grpc.LinkRouter;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stage process's server: accepts one coordinator's control stream at a time and the links of its neighbouring
 * stages. Per fit it receives the model and the options (a job), builds the whole pipeline from them exactly as the
 * coordinator did, and runs its own stages, epoch by epoch, when told to; it sends back the last stage's losses, each
 * epoch's metrics, and its stages' parameters and optimizer state. Every call must carry the pipeline's access token.
 */
public final class StageHost implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StageHost.class);
    /** How long a new job waits for the previous coordinator's job, whose stream ended, to let this process go. */
    private static final long RELEASE_WAIT_SECONDS = 30;

    private final Server server;
    private final String token;
    /** The session whose job this host runs; links of any other job are refused. */
    private final java.util.concurrent.atomic.AtomicReference<Session> owner = new java.util.concurrent.atomic.AtomicReference<>();
    private final LinkRouter router = new LinkRouter(this::ownsLink);

    private final Tls tls;

    private StageHost(String bind, int port, String token, Tls tls) {
        this.token = token;
        this.tls = tls;
        ServerServiceDefinition control = ServerServiceDefinition.builder("asyncpipeline.Host")
                .addMethod(Control.METHOD, ServerCalls.asyncBidiStreamingCall(Session::new))
                .build();
        try {
            server = NettyServerBuilder.forAddress(new InetSocketAddress(bind, port), Wire.serverCredentials(tls))
                    .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES)
                    .permitKeepAliveTime(5, TimeUnit.SECONDS).permitKeepAliveWithoutCalls(true)
                    .addService(ServerInterceptors.intercept(router.service(), Wire.guard(token)))
                    .addService(ServerInterceptors.intercept(control, Wire.guard(token)))
                    .build().start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + bind + ":" + port, e);
        }
    }

    /**
     * Starts a host listening on {@code bind:port} (port 0: a free one) that accepts calls carrying {@code token},
     * in plain text.
     */
    public static StageHost start(String bind, int port, String token) {
        return start(bind, port, token, null);
    }

    /** As {@link #start(String, int, String)}, over TLS when {@code tls} is set (for its neighbours' links too). */
    public static StageHost start(String bind, int port, String token, Tls tls) {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("a stage host needs an access token: every call must carry it");
        }
        Control.lostMillis();                            // a bad setting fails at start, naming the property
        return new StageHost(bind, port, token, tls);
    }

    public int port() {
        return server.getPort();
    }

    /** A fresh access token: 24 random bytes from {@link java.security.SecureRandom}, in hex. */
    public static String randomToken() {
        byte[] b = new byte[24];
        new java.security.SecureRandom().nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }

    /** Blocks until the server has shut down. */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One coordinator's control stream: a job, its epochs, its state, until the stream ends. */
    private final class Session implements StreamObserver<byte[]> {
        private final StreamObserver<byte[]> out;
        private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "stage-host-session");
            t.setDaemon(true);
            return t;
        });
        private final Heartbeat heartbeat;
        private volatile boolean ended;
        private final java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
        private volatile Control.Job job;
        private PipelineModel model;
        private RunSettings settings;
        private List<StageComputation> hosted;
        private ManagedChannel previous;
        private ManagedChannel next;
        private ThreadSettings threads;
        private volatile PipelineRun run;

        Session(StreamObserver<byte[]> out) {
            this.out = out;
            this.heartbeat = new Heartbeat(() -> send(Control.frame(Control.PING, null)), this::coordinatorSilent);
        }

        private void coordinatorSilent() {
            LOG.warn("the coordinator went silent for {} ms: stopping its job", Control.lostMillis());
            end(new IllegalStateException("the coordinator went silent for " + Control.lostMillis() + " ms"));
            try {
                out.onError(io.grpc.Status.DEADLINE_EXCEEDED.withDescription("coordinator silent").asRuntimeException());
            } catch (RuntimeException ignored) {
                // already closed
            }
        }

        private synchronized void send(byte[] frame) {
            if (!ended) {
                try {
                    out.onNext(frame);
                } catch (RuntimeException e) {
                    LOG.debug("control stream closed: {}", e.toString());
                }
            }
        }

        @Override
        public void onNext(byte[] frame) {
            if (ended) {
                return;
            }
            heartbeat.heard();
            byte type = frame.length == 0 ? 0 : frame[0];
            if (type == Control.PING) {
                return;
            }
            if (type == Control.ABORT) {
                PipelineRun r = run;
                String reason = readUtf(frame);
                if (r != null) {
                    r.abort(new AbortedException(reason));
                }
                return;
            }
            worker.submit(() -> handle(type, frame));
        }

        private void handle(byte type, byte[] frame) {
            try {
                switch (type) {
                    case Control.JOB -> job(Control.Job.decode(Control.reader(frame)));
                    case Control.RUN -> {
                        DataInputStream in = Control.reader(frame);
                        runEpoch(in.readInt(), in.readInt());
                    }
                    case Control.COLLECT -> collect();
                    default -> throw new io.asyncpipeline.transport.MalformedMessageException(
                            "unknown control frame type " + type);
                }
            } catch (RunFailedException e) {
                failed(e.stage(), e.microBatch(), e.getCause() == null ? e : e.getCause());
            } catch (Exception | Error e) {
                failed(-1, -1, e);
            }
        }

        private void job(Control.Job j) throws IOException, InterruptedException {
            release();
            Session before = owner.get();
            if (before != null && before != this && before.ended) {
                before.released.await(RELEASE_WAIT_SECONDS, TimeUnit.SECONDS);   // its job is still being let go
            }
            if (!owner.compareAndSet(null, this) && owner.get() != this) {
                throw new IllegalStateException("this stage process already runs a job of another coordinator");
            }
            ModelSetup setup = j.model().restore();
            ModelSetup.Built built = setup.build(j.spec().options());
            if (built.model().stages().size() != j.total()) {
                throw new IllegalStateException("the host cut the model into " + built.model().stages().size()
                        + " stages, the coordinator into " + j.total());
            }
            this.job = j;
            this.model = built.model();
            this.settings = built.settings();
            this.hosted = new ArrayList<>(model.stages().subList(j.first(), j.first() + j.count()));
            model.pullOptimizerState();
            this.threads = ThreadSettings.apply(settings.ndThreadsPerStage());
            this.previous = j.previous().isEmpty() ? null : Wire.channel(j.previous(), token, tls);
            this.next = j.next().isEmpty() ? null : Wire.channel(j.next(), token, tls);
            LOG.info("job {}: stages {}..{} of {} ({})", j.fitId(), j.first(), j.first() + j.count() - 1, j.total(),
                    model.unit());
            send(Control.frame(Control.READY, out -> out.writeLong(ProcessHandle.current().pid())));
        }

        private void runEpoch(int epoch, int base) throws InterruptedException {
            if (job == null) {
                throw new IllegalStateException("run before job");
            }
            Control.Job j = job;
            int last = j.first() + j.count() - 1;
            HaltSignal halt = new HaltSignal();
            HostTransport transport = new HostTransport(j, epoch, previous, next, router);
            Channel feed = j.first() == 0 ? router.receiver(feedKey(j.fitId(), epoch), settings.channelCapacity(), halt) : null;
            MicroBatchSource source = feed == null ? null : feed::receive;
            UpdateObserver observer = last == j.total() - 1 ? new ScoreSender(j.spec().failOnNonFiniteScore()) : null;
            PipelineRun r = new PipelineRun(hosted, j.first(), j.total(), settings, transport, null, halt);
            run = r;
            try {
                PipelineRun.Result result = r.run(source, observer, base);
                send(Control.frame(Control.DONE, o -> {
                    o.writeInt(r.updatesDone());
                    Control.writeMetrics(o, result.stages());
                }));
            } finally {
                run = null;
                if (feed != null) {
                    router.release(feed);
                }
            }
        }

        private void collect() {
            send(Control.frame(Control.STATE, o -> {
                o.writeInt(hosted.size());
                for (StageComputation s : hosted) {
                    List<INDArray> arrays = new ArrayList<>();
                    arrays.add(s.params());
                    arrays.addAll(s.optimizerState());
                    Control.writeArrays(o, arrays);
                }
            }));
        }

        private void failed(int stage, int microBatch, Throwable cause) {
            boolean secondary = cause instanceof LinkFailedException || cause instanceof AbortedException
                    || cause instanceof HaltedException;
            LOG.info("stage {} failed at micro-batch {}: {}", stage, microBatch, cause.toString());
            send(Control.frame(Control.FAILED, o -> {
                o.writeInt(stage);
                o.writeInt(microBatch);
                o.writeBoolean(secondary);
                o.writeUTF(cause.getClass().getName());
                o.writeUTF(truncate(String.valueOf(cause.getMessage())));
                StringWriter trace = new StringWriter();
                cause.printStackTrace(new PrintWriter(trace));
                o.writeUTF(truncate(trace.toString()));
            }));
        }

        /** The last stage's losses and updates, told to the coordinator as they happen. */
        private final class ScoreSender implements UpdateObserver {
            private final boolean failOnNonFinite;

            ScoreSender(boolean failOnNonFinite) {
                this.failOnNonFinite = failOnNonFinite;
            }

            @Override
            public void afterLoss(int iteration, int microBatch, double score) {
                send(Control.frame(Control.SCORE, o -> {
                    o.writeBoolean(false);
                    o.writeInt(iteration);
                    o.writeInt(microBatch);
                    o.writeDouble(score);
                }));
                if (failOnNonFinite && !Double.isFinite(score)) {
                    throw new IllegalStateException("the loss of micro-batch " + microBatch + " is " + score);
                }
            }

            @Override
            public void afterUpdate(int step, int iteration, int epoch, double score, int lastMicroBatch) {
                send(Control.frame(Control.SCORE, o -> {
                    o.writeBoolean(true);
                    o.writeInt(step);
                    o.writeInt(iteration);
                    o.writeInt(epoch);
                    o.writeDouble(score);
                    o.writeInt(lastMicroBatch);
                }));
            }
        }

        @Override
        public void onError(Throwable t) {
            end(new IllegalStateException("the coordinator's control stream failed: " + t));
        }

        /**
         * The coordinator is done. The stream is closed from this end only once the job has let this process go, so a
         * coordinator that waits for the close may send its next job at once.
         */
        @Override
        public void onCompleted() {
            end(null, () -> {
                synchronized (this) {
                    try {
                        out.onCompleted();
                    } catch (RuntimeException ignored) {
                        // already closed
                    }
                }
            });
        }

        private void end(Throwable why) {
            end(why, null);
        }

        /** The coordinator is gone or done: stop any run, then let the job go, then {@code after}. */
        private void end(Throwable why, Runnable after) {
            if (ended) {
                return;
            }
            ended = true;
            heartbeat.stop();
            PipelineRun r = run;
            if (r != null) {
                r.abort(why != null ? why : new AbortedException("the coordinator closed the control stream"));
            }
            worker.submit(() -> {
                release();
                released.countDown();
                if (after != null) {
                    after.run();
                }
            });
            worker.shutdown();
        }

        private void release() {
            if (previous != null) {
                previous.shutdownNow();
            }
            if (next != null) {
                next.shutdownNow();
            }
            if (threads != null) {
                threads.restore();
            }
            previous = null;
            next = null;
            threads = null;
            job = null;
            owner.compareAndSet(this, null);
            model = null;
            hosted = null;
        }
    }

    private boolean ownsLink(String key) {
        Session s = owner.get();
        Control.Job j = s == null ? null : s.job;
        return j != null && key.startsWith(j.fitId() + "/");
    }

    static String feedKey(String fitId, int epoch) {
        return fitId + "/" + epoch + "/feed";
    }

    private static String readUtf(byte[] frame) {
        try {
            return Control.reader(frame).readUTF();
        } catch (IOException | RuntimeException e) {
            return "(unreadable reason)";
        }
    }

    private static String truncate(String s) {
        return s.length() > 16_000 ? s.substring(0, 16_000) + "..." : s;
    }

    /** A run stopped because the coordinator said another process failed, or went away. */
    static final class AbortedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        AbortedException(String why) {
            super(why);
        }
    }

    /** The links of one epoch: in-JVM between this host's own stages, gRPC at its edges. */
    static final class HostTransport implements Transport {
        private final Control.Job job;
        private final int epoch;
        private final ManagedChannel previous;
        private final ManagedChannel next;
        private final LinkRouter router;
        private final InJvmTransport local = new InJvmTransport();

        HostTransport(Control.Job job, int epoch, ManagedChannel previous, ManagedChannel next, LinkRouter router) {
            this.job = job;
            this.epoch = epoch;
            this.previous = previous;
            this.next = next;
            this.router = router;
        }

        private String key(int cut, String direction) {
            return job.fitId() + "/" + epoch + "/" + cut + "/" + direction;
        }

        @Override
        public Link open(int cut, int capacity, HaltSignal halt) {
            int last = job.first() + job.count() - 1;
            if (cut == job.first() - 1) {           // from the previous host: activations in, gradients out
                return new Link(router.receiver(key(cut, "forward"), capacity, halt),
                        LinkRouter.sender(previous, key(cut, "backward"), halt));
            }
            if (cut == last) {                       // to the next host: activations out, gradients in
                return new Link(LinkRouter.sender(next, key(cut, "forward"), halt),
                        router.receiver(key(cut, "backward"), capacity, halt));
            }
            return local.open(cut, capacity, halt);
        }

        @Override
        public void close(Link link) {
            router.release(link.forward());
            router.release(link.backward());
        }
    }
}
