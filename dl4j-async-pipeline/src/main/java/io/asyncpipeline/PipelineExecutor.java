package io.asyncpipeline;

import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.model.PipelineModel;
import io.asyncpipeline.stage.FailureHandler;
import io.asyncpipeline.stage.Message;
import io.asyncpipeline.stage.MicroBatchSource;
import io.asyncpipeline.stage.StageLinks;
import io.asyncpipeline.stage.StageOptions;
import io.asyncpipeline.stage.StageWorker;
import io.asyncpipeline.stage.UpdateObserver;
import io.asyncpipeline.transport.BoundedChannel;
import io.asyncpipeline.transport.Channel;
import io.asyncpipeline.transport.HaltSignal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one pass of the pipeline over a micro-batch source: wires P stage workers with bounded
 * channels, runs them on their own threads (or steps them in one thread for a replay), joins every
 * thread, and turns the first stage failure into a {@link PipelineException}.
 */
final class PipelineExecutor {

    /** How long the caller waits for halted threads to leave before giving up on them. */
    private static final long JOIN_AFTER_HALT_MILLIS = 30_000;

    private final PipelineModel model;
    private final Schedule schedule;
    private final int microBatches;
    private final int[] devices;
    private final boolean weightStashing;
    private final long seed;
    private final boolean replay;
    private final long offHeapGcBudget;
    private volatile List<StageMetrics> lastMetrics = List.of();

    PipelineExecutor(PipelineModel model, Schedule schedule, int microBatches, int[] devices,
                     boolean weightStashing, long seed, boolean replay, long offHeapGcBudget) {
        this.model = model;
        this.schedule = schedule;
        this.microBatches = microBatches;
        this.devices = devices;
        this.weightStashing = weightStashing;
        this.seed = seed;
        this.replay = replay;
        this.offHeapGcBudget = offHeapGcBudget;
    }

    /** Result of a run: per-stage metrics and how many updates each stage made. */
    record RunResult(List<StageMetrics> stages, long wallNanos, int updates) {
    }

    RunResult run(MicroBatchSource source, UpdateObserver observer, int baseIteration) throws InterruptedException {
        int p = model.stages().size();
        HaltSignal halt = new HaltSignal();
        FailureHandler failures = new FailureHandler(halt);
        int capacity = replay ? Integer.MAX_VALUE : Math.max(p, microBatches) + 2;
        List<Channel<Message>> fwd = new ArrayList<>();
        List<Channel<Message>> bwd = new ArrayList<>();
        for (int k = 0; k < p - 1; k++) {
            fwd.add(new BoundedChannel<>(capacity, halt));
            bwd.add(new BoundedChannel<>(capacity, halt));
        }
        List<StageWorker> workers = new ArrayList<>();
        List<StageMetrics> metrics = new ArrayList<>();
        for (int k = 0; k < p; k++) {
            model.stages().get(k).discardGradients();
            StageLinks links = new StageLinks(
                    k == 0 ? null : fwd.get(k - 1), k == p - 1 ? null : fwd.get(k),
                    k == p - 1 ? null : bwd.get(k), k == 0 ? null : bwd.get(k - 1),
                    k == 0 ? source : null, k == p - 1 ? observer : null);
            StageMetrics m = new StageMetrics(k);
            metrics.add(m);
            workers.add(new StageWorker(k, p, model.stages().get(k), schedule.generator(microBatches).stream(k, p),
                    links, new StageOptions(devices[k], weightStashing, baseIteration, seed), m, failures));
        }
        lastMetrics = metrics;
        long t0 = System.nanoTime();
        try (MemoryPacer pacer = MemoryPacer.start(offHeapGcBudget)) {
            if (replay) {
                replay(workers, failures);
            } else {
                threaded(workers, failures);
            }
        }
        long wall = System.nanoTime() - t0;
        FailureHandler.Failure f = failures.failure();
        if (f != null) {
            String what = f.fromSource()
                    ? "the training iterator failed while stage 0 read micro-batch " + f.microBatch()
                    : "stage " + f.stage() + " failed at micro-batch " + f.microBatch();
            throw new PipelineException(f.stage(), f.microBatch(), what + ": " + f.cause(), f.cause());
        }
        return new RunResult(metrics, wall, metrics.get(p - 1).updates());
    }

    /** The most updates any stage completed in the last run (also after a failure). */
    int updatesDone() {
        int u = 0;
        for (StageMetrics m : lastMetrics) {
            u = Math.max(u, m.updates());
        }
        return u;
    }

    private void threaded(List<StageWorker> workers, FailureHandler failures) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (StageWorker w : workers) {
            Thread t = new Thread(w, "async-pipeline-stage-" + w.stage());
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        try {
            for (Thread t : threads) {
                t.join();
            }
        } catch (InterruptedException e) {
            failures.fail(-1, -1, e);
            joinAfterHalt(threads);
            Thread.currentThread().interrupt();
            throw new PipelineException(-1, -1, "interrupted while training; all stage threads stopped", e);
        }
    }

    private static void joinAfterHalt(List<Thread> threads) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_AFTER_HALT_MILLIS);
        for (Thread t : threads) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            boolean interrupted = false;
            while (t.isAlive() && left > 0) {
                try {
                    t.join(left);
                } catch (InterruptedException again) {
                    interrupted = true;
                }
                left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Steps the workers round-robin in this thread; each step runs one action whose inputs are ready. */
    private static void replay(List<StageWorker> workers, FailureHandler failures) {
        boolean[] done = new boolean[workers.size()];
        int remaining = workers.size();
        while (remaining > 0) {
            boolean progress = false;
            for (int k = 0; k < workers.size(); k++) {
                if (done[k]) {
                    continue;
                }
                StageWorker.Step s;
                try {
                    s = workers.get(k).step(false);
                } catch (Exception | Error e) {
                    failures.fail(k, workers.get(k).currentMicroBatch(), e, workers.get(k).readingSource());
                    return;
                }
                if (s == StageWorker.Step.DONE) {
                    done[k] = true;
                    remaining--;
                }
                progress |= s != StageWorker.Step.BLOCKED;
            }
            if (!progress) {
                failures.fail(-1, -1, new IllegalStateException("replay deadlocked: no stage can make progress"));
                return;
            }
        }
    }
}
