package io.asyncpipeline.process;

import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.metrics.StageTimeline;
import io.asyncpipeline.runtime.PipelineModel;
import io.asyncpipeline.runtime.RunFailedException;
import io.asyncpipeline.runtime.RunSettings;
import io.asyncpipeline.runtime.StageEngine;
import io.asyncpipeline.stage.MicroBatchSource;
import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.stage.UpdateObserver;
import io.asyncpipeline.transport.Channel;
import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.HaltedException;
import io.asyncpipeline.transport.Message;
import io.asyncpipeline.transport.grpc.LinkRouter;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's side of a pipeline whose stages run in stage processes: for each fit it ships the user's model
 * and the options to every host, and per epoch it starts the hosts' runs, feeds stage 0 from the user's iterator,
 * hands the last stage's losses to the trainer's observer (the user's listeners), collects each host's metrics, and
 * then every stage's parameters and optimizer state into the coordinator's own copy of the stages, whose parameters
 * are the user's model's. A host that fails, or goes silent for {@link Control#lostMillis()}, stops the others, and
 * the epoch fails naming the stage and its process's address.
 */
public final class RemoteEngine implements StageEngine {

    private static final Logger LOG = LoggerFactory.getLogger(RemoteEngine.class);
    /** How long a host may take to build its stages from the model. */
    static final long READY_TIMEOUT_MILLIS = 300_000;
    /** How long the end of a fit waits for each host to close its control stream. */
    static final long CLOSE_WAIT_MILLIS = 10_000;
    /** After a failure, how long the other hosts have to stop and report. */
    static final long STOP_TIMEOUT_MILLIS = 10_000;

    private final PipelineModel local;
    private final RunSettings settings;
    private final JobSpec spec;
    private final Supplier<ShippedModel> shipper;
    private final List<String> addresses;
    /** Each host's process id, as it reported it with its first READY (0: not yet). */
    private final long[] hostPids;
    private final int[] first;
    private final int[] count;
    private final String token;
    private final AutoCloseable processes;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    /** Runs the trainer's observer (the user's listeners) in the order the losses came, off the gRPC threads. */
    private final java.util.concurrent.ExecutorService listeners = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pipeline-coordinator-listeners");
        t.setDaemon(true);
        return t;
    });
    private List<Session> sessions = List.of();
    private String fitId;
    private int runIndex;
    private int updatesDone;
    private volatile UpdateObserver observer;

    /**
     * @param local     the coordinator's copy of the stages (built from the user's model, parameters shared with it)
     * @param addresses each host's {@code host:port}
     * @param first     the first stage each host runs
     * @param count     how many stages each host runs
     * @param processes what stops the hosts when the engine closes (a launcher), or null
     */
    RemoteEngine(PipelineModel local, RunSettings settings, JobSpec spec, Supplier<ShippedModel> shipper,
                        List<String> addresses, int[] first, int[] count, String token, Tls tls,
                        java.time.Duration connectTimeout, AutoCloseable processes) {
        this.local = local;
        this.settings = settings;
        this.spec = spec;
        this.shipper = shipper;
        this.addresses = List.copyOf(addresses);
        this.hostPids = new long[addresses.size()];
        this.first = first.clone();
        this.count = count.clone();
        this.token = token;
        this.processes = processes;
        Control.lostMillis();                            // a bad setting fails here, not in the middle of a fit
        for (String a : addresses) {
            channels.add(Wire.channel(a, token, tls));
        }
        try {
            for (int h = 0; h < addresses.size(); h++) {
                Wire.awaitReachable(channels.get(h), addresses.get(h), connectTimeout);
            }
        } catch (RuntimeException e) {
            channels.forEach(ManagedChannel::shutdownNow);
            throw e;
        }
    }

    /**
     * The OS process ids of the stage processes, in stage order: of the launched processes, or as the peers reported
     * them when they built their stages (empty before the first fit).
     */
    public List<Long> processIds() {
        if (processes instanceof LocalLauncher l) {
            return l.pids();
        }
        List<Long> out = new ArrayList<>();
        for (long pid : hostPids) {
            if (pid == 0) {
                return List.of();
            }
            out.add(pid);
        }
        return out;
    }

    /** The hosts' addresses, in stage order. */
    public List<String> addresses() {
        return addresses;
    }

    // ---- events from the hosts, handled by the thread that runs the fit ----

    private sealed interface Event permits Ready, Done, Failed, State {
        int host();
    }

    private record Ready(int host) implements Event {
    }

    private record Done(int host, int updates, List<StageMetrics> metrics) implements Event {
    }

    /** A stage failed, or a host was lost ({@code stage} is then the host's first stage). */
    private record Failed(int host, int stage, int microBatch, boolean secondary, RuntimeException cause)
            implements Event {
    }

    private record State(int host, List<INDArray[]> stages) implements Event {
    }

    @Override
    public void beginFit() {
        endFit();
        events.clear();
        fitId = UUID.randomUUID().toString();
        runIndex = 0;
        ShippedModel model = shipper.get();
        List<Session> s = new ArrayList<>();
        for (int h = 0; h < addresses.size(); h++) {
            s.add(new Session(h));
        }
        sessions = s;
        for (int h = 0; h < sessions.size(); h++) {
            String prev = h == 0 ? "" : addresses.get(h - 1);
            String next = h == addresses.size() - 1 ? "" : addresses.get(h + 1);
            sessions.get(h).send(new Control.Job(fitId, first[h], count[h], local.stages().size(), prev, next, spec,
                    model).encode());
        }
        awaitAll(Ready.class, READY_TIMEOUT_MILLIS, "building its stages");
    }

    @Override
    public Epoch runEpoch(MicroBatchSource source, UpdateObserver observer, int baseIteration,
                          List<StageTimeline> timelines) throws InterruptedException {
        this.observer = observer;
        int run = runIndex++;
        long t0 = System.nanoTime();
        for (Session s : sessions) {
            s.send(Control.frame(Control.RUN, o -> {
                o.writeInt(run);
                o.writeInt(baseIteration);
            }));
        }
        HaltSignal feedHalt = new HaltSignal();
        Feeder feeder = new Feeder(source, LinkRouter.sender(channels.get(0), StageHost.feedKey(fitId, run), feedHalt));
        Thread feed = new Thread(feeder, "pipeline-coordinator-feed");
        feed.setDaemon(true);
        feed.start();
        List<StageMetrics> metrics = new ArrayList<>();
        updatesDone = 0;
        boolean[] done = new boolean[sessions.size()];
        int remaining = sessions.size();
        Failed failure = null;
        long stopDeadline = Long.MAX_VALUE;
        try {
            while (remaining > 0) {
                Event e = events.poll(50, TimeUnit.MILLISECONDS);
                Failed feedFailure = feeder.failure;
                if (feedFailure != null && failure == null) {
                    failure = feedFailure;
                    stopDeadline = abortAll(failure);
                }
                if (e == null) {
                    if (System.nanoTime() > stopDeadline) {
                        break;
                    }
                    continue;
                }
                if (e instanceof Done d && !done[d.host()]) {
                    done[d.host()] = true;
                    remaining--;
                    metrics.addAll(d.metrics());
                    updatesDone = Math.max(updatesDone, d.updates());
                } else if (e instanceof Failed f) {
                    if (!done[f.host()]) {
                        done[f.host()] = true;
                        remaining--;
                    }
                    if (failure == null || (failure.secondary() && !f.secondary())) {
                        boolean first = failure == null;
                        failure = f;
                        if (first) {
                            stopDeadline = abortAll(f);
                        }
                    }
                }
            }
        } finally {
            feedHalt.halt();
            feed.join(STOP_TIMEOUT_MILLIS);
            try {
                listeners.submit(() -> { }).get(STOP_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);   // every loss told
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                LOG.warn("the listeners did not catch up with the losses: {}", e.toString());
            }
        }
        if (failure != null) {
            throw new RunFailedException(failure.stage(), failure.microBatch(), describe(failure), failure.cause());
        }
        metrics.sort(Comparator.comparingInt(StageMetrics::stage));
        return new Epoch(metrics, System.nanoTime() - t0);
    }

    private String describe(Failed f) {
        if (f.host() < 0) {
            return "the training iterator failed while the coordinator fed stage 0: " + f.cause();
        }
        String where = "stage " + f.stage() + " (process " + addresses.get(f.host()) + ")";
        return where + (f.microBatch() >= 0 ? " failed at micro-batch " + f.microBatch() : " failed") + ": " + f.cause();
    }

    /** Tells every host to stop; returns the time by which they must have reported. */
    private long abortAll(Failed why) {
        LOG.info("stopping every stage process: {}", why.cause().toString());
        for (Session s : sessions) {
            s.send(Control.frame(Control.ABORT, o -> o.writeUTF("another process failed: " + why.cause())));
        }
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_TIMEOUT_MILLIS);
    }

    @Override
    public void afterEpoch(boolean completed) {
        if (!completed) {
            return;                 // the user's model keeps the state of the last completed epoch
        }
        for (Session s : sessions) {
            s.send(Control.frame(Control.COLLECT, null));
        }
        List<Event> states = awaitAll(State.class, READY_TIMEOUT_MILLIS, "sending its stages' state");
        for (Event e : states) {
            State st = (State) e;
            for (int i = 0; i < st.stages().size(); i++) {
                importState(first[st.host()] + i, st.stages().get(i));
            }
        }
    }

    private void importState(int k, INDArray[] arrays) {
        StageComputation stage = local.stages().get(k);
        List<INDArray> state = stage.optimizerState();
        if (arrays.length != 1 + state.size()) {
            throw new IllegalStateException("stage " + k + " sent " + arrays.length + " arrays, expected "
                    + (1 + state.size()) + " (parameters and optimizer state)");
        }
        if (arrays[0].length() != stage.params().length()) {
            throw new IllegalStateException("stage " + k + " sent " + arrays[0].length() + " parameters, expected "
                    + stage.params().length());
        }
        stage.restoreParams(arrays[0]);
        for (int i = 0; i < state.size(); i++) {
            if (arrays[1 + i].length() != state.get(i).length()) {
                throw new IllegalStateException("stage " + k + " sent optimizer state array " + i + " of length "
                        + arrays[1 + i].length() + ", expected " + state.get(i).length());
            }
            state.get(i).assign(arrays[1 + i].reshape(state.get(i).shape()));
        }
    }

    /** Waits for one event of {@code type} from every host; a failure or a lost host throws. */
    private List<Event> awaitAll(Class<? extends Event> type, long timeoutMillis, String what) {
        List<Event> got = new ArrayList<>();
        boolean[] seen = new boolean[sessions.size()];
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        try {
            while (got.size() < sessions.size()) {
                Event e = events.poll(50, TimeUnit.MILLISECONDS);
                if (e == null) {
                    if (System.nanoTime() > deadline) {
                        int h = 0;
                        while (seen[h]) {
                            h++;
                        }
                        throw new RunFailedException(first[h], -1, "stage " + first[h] + " (process "
                                + addresses.get(h) + ") did not finish " + what + " within " + timeoutMillis + " ms", null);
                    }
                    continue;
                }
                if (e instanceof Failed f) {
                    throw new RunFailedException(f.stage(), f.microBatch(), describe(f), f.cause());
                }
                if (type.isInstance(e) && !seen[e.host()]) {
                    seen[e.host()] = true;
                    got.add(e);
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new RunFailedException(-1, -1, "interrupted while waiting for the stage processes", ie);
        }
        return got;
    }

    @Override
    public int updatesDone() {
        return updatesDone;
    }

    /**
     * Ends the fit's control streams and waits (a bounded time) until each host has closed its end, which it does once
     * it let the job go: a next fit on the same processes then finds them free.
     */
    @Override
    public void endFit() {
        for (Session s : sessions) {
            s.finish();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
        for (Session s : sessions) {
            try {
                if (!s.closed.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    LOG.warn("the stage process at {} did not close its control stream within {} ms",
                            addresses.get(s.host), CLOSE_WAIT_MILLIS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        sessions = List.of();
    }

    @Override
    public void close() {
        endFit();
        listeners.shutdownNow();
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        if (processes != null) {
            try {
                processes.close();
            } catch (Exception e) {
                LOG.warn("stopping the stage processes: {}", e.toString());
            }
        }
    }

    /** Reads the user's iterator (through the trainer's source) and sends every micro-batch to stage 0's host. */
    private final class Feeder implements Runnable {
        private final MicroBatchSource source;
        private final Channel channel;
        private volatile Failed failure;

        Feeder(MicroBatchSource source, Channel channel) {
            this.source = source;
            this.channel = channel;
        }

        @Override
        public void run() {
            try {
                while (true) {
                    Message m = source.next();
                    channel.send(m);
                    if (m.isEnd()) {
                        return;
                    }
                }
            } catch (HaltedException e) {
                // the epoch ended or failed elsewhere
            } catch (Exception | Error e) {
                RuntimeException cause = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                failure = source.failedInIterator()
                        ? new Failed(-1, 0, -1, false, cause)
                        : new Failed(0, 0, -1, e instanceof io.asyncpipeline.transport.grpc.LinkFailedException, cause);
            } finally {
                LinkRouter.finish(channel);
            }
        }
    }

    /** The control stream to one host. */
    private final class Session implements ClientResponseObserver<byte[], byte[]> {
        private final int host;
        private final ClientCallStreamObserver<byte[]> call;
        private final Heartbeat heartbeat;
        private volatile boolean finished;
        /** The host closed its end of the stream, or the stream failed. */
        private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);

        Session(int host) {
            this.host = host;
            this.call = (ClientCallStreamObserver<byte[]>) ClientCalls.asyncBidiStreamingCall(
                    channels.get(host).newCall(Control.METHOD, CallOptions.DEFAULT), this);
            this.heartbeat = new Heartbeat(() -> send(Control.frame(Control.PING, null)),
                    () -> lost("went silent for " + Control.lostMillis() + " ms"));
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<byte[]> requestStream) {
        }

        synchronized void send(byte[] frame) {
            if (!finished) {
                try {
                    call.onNext(frame);
                } catch (RuntimeException e) {
                    lost("its control stream is closed: " + e);
                }
            }
        }

        synchronized void finish() {
            if (finished) {
                return;
            }
            finished = true;
            heartbeat.stop();
            try {
                call.onCompleted();
            } catch (RuntimeException ignored) {
                // already closed
            }
        }

        private void lost(String why) {
            if (finished) {
                return;
            }
            finished = true;
            heartbeat.stop();
            try {
                call.cancel("lost", null);
            } catch (RuntimeException ignored) {
                // already closed
            }
            events.add(new Failed(host, first[host], -1, false,
                    new IllegalStateException("the stage process at " + addresses.get(host) + " was lost: " + why)));
        }

        @Override
        public void onNext(byte[] frame) {
            heartbeat.heard();
            try {
                handle(frame);
            } catch (IOException | RuntimeException e) {
                events.add(new Failed(host, first[host], -1, false, e instanceof RuntimeException r ? r
                        : new io.asyncpipeline.transport.MalformedMessageException("bad control frame", e)));
            }
        }

        private void handle(byte[] frame) throws IOException {
            DataInputStream in = Control.reader(frame);
            switch (frame[0]) {
                case Control.PING -> {
                }
                case Control.READY -> {
                    hostPids[host] = in.readLong();
                    events.add(new Ready(host));
                }
                case Control.SCORE -> score(in);
                case Control.DONE -> {
                    int updates = in.readInt();
                    events.add(new Done(host, updates, Control.readMetrics(in)));
                }
                case Control.FAILED -> {
                    int stage = in.readInt();
                    int mb = in.readInt();
                    boolean secondary = in.readBoolean();
                    String type = in.readUTF();
                    String message = in.readUTF();
                    String trace = in.readUTF();
                    events.add(new Failed(host, stage < 0 ? first[host] : stage, mb, secondary,
                            new StageProcessException(type, message, trace)));
                }
                case Control.STATE -> {
                    int n = Control.count(in.readInt(), "stages");
                    List<INDArray[]> stages = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        stages.add(Control.readArrays(in));
                    }
                    events.add(new State(host, stages));
                }
                default -> throw new io.asyncpipeline.transport.MalformedMessageException(
                        "unknown control frame type " + frame[0] + " from " + addresses.get(host));
            }
        }

        private void score(DataInputStream in) throws IOException {
            UpdateObserver o = observer;
            boolean update = in.readBoolean();
            Runnable call;
            if (update) {
                int step = in.readInt();
                int iteration = in.readInt();
                int epoch = in.readInt();
                double score = in.readDouble();
                int mb = in.readInt();
                call = () -> o.afterUpdate(step, iteration, epoch, score, mb);
            } else {
                int iteration = in.readInt();
                int mb = in.readInt();
                double score = in.readDouble();
                call = () -> o.afterLoss(iteration, mb, score);
            }
            if (o == null) {
                return;
            }
            listeners.submit(() -> {
                try {
                    call.run();
                } catch (RuntimeException e) {
                    events.add(new Failed(host, local.stages().size() - 1, -1, false, e));
                }
            });
        }

        @Override
        public void onError(Throwable t) {
            closed.countDown();
            lost("its control stream failed: " + Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            closed.countDown();
            if (!finished) {
                lost("it closed its control stream");
            }
        }
    }
}
