package io.asyncpipeline.stage;

import io.asyncpipeline.metrics.Span;
import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.metrics.StageTimeline;
import io.asyncpipeline.schedule.Action;
import io.asyncpipeline.schedule.ActionType;
import io.asyncpipeline.transport.BoundaryCompression;
import io.asyncpipeline.transport.Channel;
import io.asyncpipeline.transport.DeviceCopy;
import io.asyncpipeline.transport.HaltedException;
import io.asyncpipeline.transport.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs one stage: interprets the stage's action stream ({@link io.asyncpipeline.schedule.PipelineSchedule#stream})
 * against its {@link StageComputation}, its channels and its weight stash. Used from a dedicated thread
 * ({@link #run()}) or stepped by a single-threaded replay ({@link #step(boolean)}); both execute the
 * same ops in the same order, so they produce the same bits.
 *
 * <p>Stream end: a forward that receives {@link Message#END} fixes the stream length N; forwards
 * ≥ N are skipped and the stage finishes at its first backward ≥ N: the executed prefix is the stage's list in
 * the finite plan for N micro-batches ({@link io.asyncpipeline.schedule.StagePlan#truncate}).
 *
 * <p>Timeline: given a {@link StageTimeline}, the worker records each forward, recompute, backward and update,
 * stage 0's reads from the source, and its waits on the channels, with the times its metrics use; without one it
 * reads no extra clock and allocates nothing for it.
 */
public final class StageWorker implements Runnable {

    /** Life cycle; changes atomically, and a worker runs once. */
    public enum State { IDLE, RUNNING, FINISHED, HALTED, FAILED }

    /** Result of one {@link #step}. */
    public enum Step { PROGRESS, BLOCKED, DONE }

    private final int stage;
    private final boolean last;
    private final StageComputation computation;
    private final Iterator<Action> actions;
    private final StageLinks links;
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
    private final StageOptions options;
    private final StageMetrics metrics;
    private final StageTimeline timeline;
    private final FailureHandler failures;
    private final AtomicReference<State> state = new AtomicReference<>(State.IDLE);

    private final Map<Integer, Message> inputs = new HashMap<>();
    private final WeightStash stash = new WeightStash();
    private Action pending;
    private Integer end;
    private int version;
    private final int[] heldMicroBatch;
    private final int[] heldVersion;
    private int currentMicroBatch = -1;
    private int executed;
    private int pendingExamples;
    private double pendingScore;
    private int pendingEpoch;
    private int lastEpoch;

    /** A worker that records no timeline. */
    public StageWorker(int stage, int stages, StageComputation computation, Iterator<Action> actions,
                       StageLinks links, StageOptions options, StageMetrics metrics, FailureHandler failures) {
        this(stage, stages, computation, actions, links, options, metrics, null, failures);
    }

    /** @param timeline where to record this stage's spans, or null to record none */
    public StageWorker(int stage, int stages, StageComputation computation, Iterator<Action> actions,
                       StageLinks links, StageOptions options, StageMetrics metrics, StageTimeline timeline,
                       FailureHandler failures) {
        this.stage = stage;
        this.last = stage == stages - 1;
        this.computation = computation;
        this.actions = actions;
        this.links = links;
        this.options = options;
        this.metrics = metrics;
        this.timeline = timeline;
        this.failures = failures;
        this.heldMicroBatch = new int[computation.slots()];
        this.heldVersion = new int[computation.slots()];
        java.util.Arrays.fill(heldMicroBatch, -1);
    }

    /** The worker's life-cycle state (tests and diagnostics read it after a run). */
    public State state() {
        return state.get();
    }

    public int stage() {
        return stage;
    }

    /** True when this (first) stage failed because the user's iterator threw. */
    public boolean readingSource() {
        return stage == 0 && links.source() != null && links.source().failedInIterator();
    }

    /** How many actions of its stream this worker has executed (forwards skipped after the stream end not counted). */
    public int actionsExecuted() {
        return executed;
    }

    /** The stream length N once this worker has seen the end of the stream, else -1. */
    public int streamEnd() {
        return end == null ? -1 : end;
    }

    /** The micro-batch of the action being (or last) executed, or -1 before the first. */
    public int currentMicroBatch() {
        return currentMicroBatch;
    }

    @Override
    public void run() {
        if (!state.compareAndSet(State.IDLE, State.RUNNING)) {
            throw new IllegalStateException("stage " + stage + " worker already started (state " + state.get() + ")");
        }
        try {
            DeviceCopy.bindCurrentThread(options.device());
            enterThread();
            while (execute(true) != Step.DONE) {
                // one action per iteration
            }
            state.set(State.FINISHED);
        } catch (HaltedException e) {
            state.set(State.HALTED);
        } catch (Throwable t) {
            state.set(State.FAILED);
            failures.fail(stage, currentMicroBatch, t, readingSource());
        } finally {
            leaveThread();
            try {
                destroyThreadWorkspaces();
            } catch (RuntimeException e) {
                failures.fail(stage, currentMicroBatch, e);     // the thread is kept for the next fit: say so now
            }
        }
    }

    /**
     * The stage thread ends here: frees its layer working-memory workspaces now, not at some later collection.
     * One by one, because ND4J's {@code destroyAllWorkspacesForCurrentThread} also forces a full garbage
     * collection, which in an application with a large heap took seconds per stage thread at the end of every
     * fit and of every halt.
     */
    static void destroyThreadWorkspaces() {
        org.nd4j.linalg.api.memory.MemoryWorkspaceManager m = Nd4j.getWorkspaceManager();
        for (org.nd4j.linalg.api.memory.MemoryWorkspace ws : new ArrayList<>(m.getAllWorkspacesForCurrentThread())) {
            m.destroyWorkspace(ws);
        }
    }

    /** Prepares the stage's per-thread state on the calling thread ({@link #run()} does it itself; a replay calls it). */
    public void enterThread() {
        computation.enterThread();
    }

    /** Frees the stage's per-thread state on the calling thread; never throws (a failure is already on its way). */
    public void leaveThread() {
        try {
            computation.leaveThread();
        } catch (RuntimeException e) {
            failures.fail(stage, currentMicroBatch, e);
        }
    }

    /**
     * Executes the next action if it can run now. With {@code blocking == false} an action whose input
     * has not arrived yet returns {@link Step#BLOCKED} without side effects.
     */
    public Step step(boolean blocking) throws Exception {
        state.compareAndSet(State.IDLE, State.RUNNING);
        Step s = execute(blocking);
        if (s == Step.DONE) {
            state.set(State.FINISHED);
        }
        return s;
    }

    private Step execute(boolean blocking) throws Exception {
        if (pending == null) {
            pending = actions.next();
        }
        Action a = pending;
        if (end != null && a.index() >= end && a.type() == ActionType.BACKWARD) {
            return Step.DONE;
        }
        if (end != null && a.index() >= end && a.type() == ActionType.FORWARD) {
            pending = null;
            return Step.PROGRESS;
        }
        if (!blocking && !ready(a)) {
            return Step.BLOCKED;
        }
        pending = null;
        switch (a.type()) {
            case FORWARD -> forward(a.index());
            case BACKWARD -> backward(a.index());
            default -> update(a.index());
        }
        if (end == null || a.index() < end || a.type() == ActionType.UPDATE) {
            executed++;
        }
        return Step.PROGRESS;
    }

    private boolean ready(Action a) {
        return switch (a.type()) {
            case FORWARD -> stage == 0 || links.forwardIn().size() > 0;
            case BACKWARD -> last || links.backwardIn().size() > 0;
            default -> true;
        };
    }

    private void forward(int m) throws Exception {
        currentMicroBatch = m;
        long w0 = clock();
        Message in = stage == 0 ? links.source().next() : links.forwardIn().receive();
        if (stage > 0 && in.kind() == Message.Kind.DATA && options.compression() != BoundaryCompression.NONE) {
            in = in.withTensors(options.compression().decompress(in.tensors(), true));
        }
        if (!in.isEnd()) {
            lastEpoch = in.epoch();
        }
        if (stage > 0) {
            waited(Span.Kind.WAIT_ACTIVATIONS, m, w0);
        } else if (!in.isEnd() && timeline != null) {
            timeline.record(Span.Kind.LOAD, m, lastEpoch, w0, System.nanoTime());
        }
        if (in.isEnd()) {
            end = m;
            if (links.forwardOut() != null) {
                send(links.forwardOut(), Message.END, Span.Kind.SEND_ACTIVATIONS, m);
            }
            return;
        }
        expect(in, m, "forward");
        inputs.put(m, in);
        stash.recordForward(m, version);
        long t0 = System.nanoTime();
        long c0 = cost(t0);
        if (computation.slotWeights() != null) {
            computation.slotWeights().load(slot(m));
        }
        INDArray[] out = runForward(in);
        long t1 = System.nanoTime();
        metrics.addForward(cost(t1) - c0);
        span(Span.Kind.FORWARD, m, t0, t1);
        if (links.forwardOut() != null) {
            send(links.forwardOut(), new Message(m, in.epoch(), in.examples(),
                    options.compression().compress(DeviceCopy.prepare(out, options.device())),
                    in.labels(), DeviceCopy.prepare(computation.lastOutputMasks(), options.device()), in.labelMasks()),
                    Span.Kind.SEND_ACTIVATIONS, m);
        }
    }

    /** Sends {@code msg}; the time blocked on a full channel is a wait of micro-batch {@code m}. */
    private void send(Channel channel, Message msg, Span.Kind wait, int m) throws InterruptedException {
        long w0 = clock();
        channel.send(msg);
        waited(wait, m, w0);
    }

    /** The cost clock at elapsed-time reading {@code now}: {@code now} itself, or this thread's CPU time. */
    private long cost(long now) {
        return options.cpuTimeCosts() ? CPU.getCurrentThreadCpuTime() : now;
    }

    /** {@link System#nanoTime()} when a timeline is recorded, else 0 (no clock read). */
    private long clock() {
        return timeline == null ? 0L : System.nanoTime();
    }

    private void waited(Span.Kind wait, int m, long w0) {
        if (timeline != null) {
            timeline.recordWait(wait, m, lastEpoch, w0, System.nanoTime());
        }
    }

    private void span(Span.Kind kind, int index, long t0, long t1) {
        if (timeline != null) {
            timeline.record(kind, index, lastEpoch, t0, t1);
        }
    }

    private int slot(int m) {
        return m % heldMicroBatch.length;
    }

    private INDArray[] runForward(Message in) {
        int slot = slot(in.microBatch());
        Nd4j.getRandom().setSeed(options.seedFor(stage, in.microBatch()));
        INDArray[] out = computation.forward(in, slot, options.baseIteration() + version, in.epoch());
        heldMicroBatch[slot] = in.microBatch();
        heldVersion[slot] = version;
        return out;
    }

    private void backward(int m) throws Exception {
        currentMicroBatch = m;
        long w0 = clock();
        Message grad = last ? null : links.backwardIn().receive();
        if (grad != null && grad.kind() == Message.Kind.DATA && options.compression() != BoundaryCompression.NONE) {
            grad = grad.withTensors(options.compression().decompress(grad.tensors(), true));
        }
        if (grad != null) {
            lastEpoch = grad.epoch();
            waited(Span.Kind.WAIT_GRADIENTS, m, w0);
            expect(grad, m, "backward");
        }
        Message in = inputs.get(m);
        if (in != null) {
            lastEpoch = in.epoch();
        }
        int forwardVersion = stash.versionOf(m);
        int useVersion = options.weightStashing() ? forwardVersion : version;
        INDArray current = null;
        if (useVersion != version && computation.slotWeights() == null) {
            current = stash.saveCurrent(computation);
        }
        INDArray[] inputGrads;
        long t0 = System.nanoTime();
        long c0 = cost(t0);
        try {
            if (current != null) {
                computation.restoreParams(stash.copyOf(useVersion));   // inside try: the finally puts `current` back
            }
            int savedVersion = version;
            version = useVersion;
            if (computation.backwardRecomputesForward()) {
                // the backward recomputes the forward (on the weights loaded above): no forward here
                Nd4j.getRandom().setSeed(options.seedFor(stage, m));
            } else if (heldMicroBatch[slot(m)] != m || heldVersion[slot(m)] != useVersion) {
                long r0 = System.nanoTime();
                long rc0 = cost(r0);
                runForward(in);
                t0 = System.nanoTime();
                c0 = cost(t0);
                metrics.addRecompute(c0 - rc0);
                span(Span.Kind.RECOMPUTE, m, r0, t0);
            }
            version = savedVersion;
            inputGrads = computation.backward(in, grad == null ? null : grad.tensors(), slot(m));
        } finally {
            if (current != null) {
                computation.restoreParams(current);
            }
            heldMicroBatch[slot(m)] = -1;
        }
        long t1 = System.nanoTime();
        metrics.addBackward(cost(t1) - c0, version - forwardVersion);
        span(Span.Kind.BACKWARD, m, t0, t1);
        if (last && links.observer() != null) {
            // before the gradients leave this stage: a rejected loss must not reach any stage's update
            links.observer().afterLoss(options.baseIteration() + version, m, computation.lastScore());
        }
        if (links.backwardOut() != null) {
            send(links.backwardOut(), new Message(m, in.epoch(), in.examples(),
                    options.compression().compress(DeviceCopy.prepare(inputGrads, options.device())), null, null, null),
                    Span.Kind.SEND_GRADIENTS, m);
        }
        if (last) {
            pendingScore += computation.lastScore() * in.examples();
        }
        pendingExamples += in.examples();
        pendingEpoch = in.epoch();
        inputs.remove(m);
        stash.release(m);
    }

    private void update(int step) {
        if (computation.slotWeights() != null) {
            metrics.peakStashBytes(computation.slotWeights().bytes() + inputBytes());
        } else if (options.weightStashing()) {
            stash.beforeUpdate(version, computation);
            metrics.peakStashBytes(stash.peakBytes() + inputBytes());
        } else {
            metrics.peakStashBytes(inputBytes());
        }
        int iteration = options.baseIteration() + step;
        long t0 = System.nanoTime();
        long c0 = cost(t0);
        computation.update(iteration, pendingEpoch, pendingExamples);
        long t1 = System.nanoTime();
        metrics.addUpdate(cost(t1) - c0);
        if (timeline != null) {
            timeline.record(Span.Kind.UPDATE, step, pendingEpoch, t0, t1);
        }
        version++;
        if (last && links.observer() != null) {
            links.observer().afterUpdate(step, iteration, pendingEpoch, pendingScore / pendingExamples, currentMicroBatch);
        }
        pendingExamples = 0;
        pendingScore = 0;
    }

    private long inputBytes() {
        long b = 0;
        for (Message m : inputs.values()) {
            b += m.tensorBytes();
        }
        return b;
    }

    private void expect(Message msg, int m, String what) {
        if (msg.microBatch() != m) {
            throw new ScheduleOrderException("stage " + stage + " expected micro-batch " + m + " for its " + what
                    + " but received " + msg.microBatch() + " (schedule and channels disagree)");
        }
    }
}
