package io.asyncpipeline.runtime;

import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.metrics.StageTimeline;
import io.asyncpipeline.schedule.StreamProgress;
import io.asyncpipeline.stage.FailureHandler;
import io.asyncpipeline.stage.ScheduleOrderException;
import io.asyncpipeline.stage.MicroBatchSource;
import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.stage.StageLinks;
import io.asyncpipeline.stage.StageOptions;
import io.asyncpipeline.stage.StageWorker;
import io.asyncpipeline.stage.UpdateObserver;
import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One pass of the pipeline over a micro-batch source: opens the transport's channels for every cut, wires P
 * stage workers to them, runs the workers on their own threads (or steps them in one thread for a replay),
 * joins every thread, and turns the first failure into a {@link RunFailedException}.
 *
 * <p>A stage process runs a contiguous part of the pipeline, stages {@code first} to {@code first + n - 1} of
 * {@code total}: the transport then also opens the cuts at the part's edges (the one before {@code first}, unless it
 * is stage 0, and the one after the last), whose far ends are in other processes.
 */
public final class PipelineRun {

    /** How long the caller waits for halted threads to leave before giving up on them. */
    private static final long JOIN_AFTER_HALT_MILLIS = 30_000;

    private final List<StageComputation> stages;
    private final int first;
    private final int total;
    private final RunSettings settings;
    private final Transport transport;
    private final List<StageTimeline> timelines;
    private volatile List<StageMetrics> lastMetrics = List.of();
    private final HaltSignal halt;
    private volatile FailureHandler failures;
    private volatile Throwable abortedBefore;

    /** A run of every stage that records no timeline. */
    PipelineRun(List<StageComputation> stages, RunSettings settings, Transport transport) {
        this(stages, 0, stages.size(), settings, transport, null);
    }

    /**
     * @param stages    the stages this run hosts: stages {@code first} to {@code first + stages.size() - 1}
     * @param total     P, the number of stages of the whole pipeline
     * @param timelines one recorder per hosted stage, written by that stage's worker; null to record none
     */
    public PipelineRun(List<StageComputation> stages, int first, int total, RunSettings settings, Transport transport,
                       List<StageTimeline> timelines) {
        this(stages, first, total, settings, transport, timelines, new HaltSignal());
    }

    /**
     * As above, with the run's halt signal given: a stage process hands it to what its stage 0 reads from (the
     * coordinator's feed), so that read also stops when the run halts.
     */
    public PipelineRun(List<StageComputation> stages, int first, int total, RunSettings settings, Transport transport,
                       List<StageTimeline> timelines, HaltSignal halt) {
        this.halt = halt;
        if (timelines != null && timelines.size() != stages.size()) {
            throw new IllegalArgumentException(timelines.size() + " timeline recorders for " + stages.size() + " stages");
        }
        if (first < 0 || stages.isEmpty() || first + stages.size() > total) {
            throw new IllegalArgumentException("stages " + first + ".." + (first + stages.size() - 1) + " of " + total);
        }
        this.stages = stages;
        this.first = first;
        this.total = total;
        this.settings = settings;
        this.transport = transport;
        this.timelines = timelines;
    }

    /** Result of a run: per-stage metrics (hosted stages, first to last) and its wall time. */
    public record Result(List<StageMetrics> stages, long wallNanos) {
    }

    /**
     * Stops the run from outside (a stage process told by its coordinator that another process failed): every hosted
     * stage stops at its next blocking point and {@link #run} throws with {@code cause}. Before the run has started,
     * the run stops as soon as it starts.
     */
    public void abort(Throwable cause) {
        FailureHandler f;
        synchronized (this) {
            f = failures;
            if (f == null) {
                abortedBefore = cause;
                return;
            }
        }
        f.fail(-1, -1, cause);
    }

    /**
     * Runs the hosted stages over {@code source} (read by stage 0; null when stage 0 is not hosted), telling
     * {@code observer} about the last stage's losses and updates (null when the last stage is not hosted).
     */
    public Result run(MicroBatchSource source, UpdateObserver observer, int baseIteration) throws InterruptedException {
        int n = stages.size();
        int p = total;
        FailureHandler failures = new FailureHandler(halt);
        synchronized (this) {
            this.failures = failures;
            if (abortedBefore != null) {
                failures.fail(-1, -1, abortedBefore);
            }
        }
        int capacity = settings.replay() ? Integer.MAX_VALUE : settings.channelCapacity();
        // links.get(i) is cut first - 1 + i; cut -1 (before stage 0) and cut p - 1 (after the last) do not exist
        List<Transport.Link> links = new ArrayList<>();
        for (int b = first - 1; b < first + n; b++) {
            links.add(b < 0 || b >= p - 1 ? null : transport.open(b, capacity, halt));
        }
        List<StageWorker> workers = new ArrayList<>();
        List<StageMetrics> metrics = new ArrayList<>();
        int[] devices = settings.devices();
        for (int i = 0; i < n; i++) {
            int k = first + i;
            Transport.Link before = links.get(i);
            Transport.Link after = links.get(i + 1);
            stages.get(i).discardGradients();
            StageLinks l = new StageLinks(
                    k == 0 ? null : before.forward(), k == p - 1 ? null : after.forward(),
                    k == p - 1 ? null : after.backward(), k == 0 ? null : before.backward(),
                    k == 0 ? source : null, k == p - 1 ? observer : null);
            StageMetrics m = new StageMetrics(k);
            metrics.add(m);
            workers.add(new StageWorker(k, p, stages.get(i), settings.schedule().stream(k, p), l,
                    new StageOptions(devices[k], settings.weightStashing(), baseIteration, settings.seed(),
                            settings.compression(), settings.replay() && replayCpuTimeCosts()), m,
                    timelines == null ? null : timelines.get(i), failures));
        }
        lastMetrics = metrics;
        long t0 = System.nanoTime();
        try (MemoryPacer pacer = MemoryPacer.start(settings.offHeapGcBudget())) {
            if (settings.replay()) {
                replay(workers, failures);
            } else {
                threaded(workers, failures, pacer);
            }
        } finally {
            for (Transport.Link link : links) {
                if (link != null) {
                    transport.close(link);
                }
            }
        }
        long wall = System.nanoTime() - t0;
        FailureHandler.Failure f = failures.failure();
        if (f != null) {
            String what = f.fromSource()
                    ? "the training iterator failed while stage 0 read micro-batch " + f.microBatch()
                    : f.stage() < 0 ? "the pipeline stopped" : "stage " + f.stage() + " failed at micro-batch " + f.microBatch();
            String grid = f.cause() instanceof ScheduleOrderException ? "\n" + executedGrid(workers) : "";
            throw new RunFailedException(f.stage(), f.microBatch(), what + ": " + f.cause() + grid, f.cause());
        }
        return new Result(metrics, wall);
    }

    /**
     * The stage × time grid of what every worker has executed so far, and what each one waits for: printed with
     * every ordering or deadlock error.
     */
    private String executedGrid(List<StageWorker> workers) {
        int p = workers.size();
        if (p != total) {
            return "(stages " + first + ".." + (first + p - 1) + " of " + total + " ran here: no grid of the whole pipeline)";
        }
        int[] executed = new int[p];
        int end = -1;
        for (int k = 0; k < p; k++) {
            executed[k] = workers.get(k).actionsExecuted();
            end = Math.max(end, workers.get(k).streamEnd());
        }
        try {
            StreamProgress progress = end >= 0 ? StreamProgress.of(settings.schedule(), p, executed, end)
                    : StreamProgress.of(settings.schedule(), p, executed);
            return progress.report();
        } catch (RuntimeException e) {
            return "(no grid: " + e.getMessage() + "; actions executed per stage " + java.util.Arrays.toString(executed) + ")";
        }
    }

    /** The most updates any hosted stage completed in the last run (also after a failure). */
    public int updatesDone() {
        int u = 0;
        for (StageMetrics m : lastMetrics) {
            u = Math.max(u, m.updates());
        }
        return u;
    }

    private void threaded(List<StageWorker> workers, FailureHandler failures, MemoryPacer pacer) throws InterruptedException {
        int[] stageIds = workers.stream().mapToInt(StageWorker::stage).toArray();
        StageThreads.Running running = StageThreads.start(workers, stageIds);   // the threads of the last fit, kept
        try {
            running.join();
        } catch (InterruptedException e) {
            failures.fail(-1, -1, e);
            pacer.close();          // no more collections while the stages stop
            joinAfterHalt(running);
            Thread.currentThread().interrupt();
            throw new RunFailedException(-1, -1, "interrupted while training; all stage threads stopped", e);
        }
    }

    private static void joinAfterHalt(StageThreads.Running running) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_AFTER_HALT_MILLIS);
        boolean interrupted = false;
        long left = JOIN_AFTER_HALT_MILLIS;
        while (left > 0) {
            try {
                if (running.join(left)) {
                    break;
                }
            } catch (InterruptedException again) {
                interrupted = true;
            }
            left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The system property that makes a replay measure its op costs as CPU time (see {@link #replayCpuTimeCosts}). */
    public static final String REPLAY_COSTS_PROPERTY = "asyncpipeline.replayCosts";

    /**
     * Whether a single-threaded replay records its forward, backward and update times as the calling thread's CPU
     * time ({@value #REPLAY_COSTS_PROPERTY}{@code =cpu}) instead of elapsed time ({@code wall}, the default). With
     * ND4J on one thread the two agree on a quiet machine, and CPU time stays right when other processes share the
     * cores: the experiments that feed these costs to the schedule simulator can then run beside other work.
     */
    static boolean replayCpuTimeCosts() {
        String v = System.getProperty(REPLAY_COSTS_PROPERTY, "wall").trim();
        return switch (v) {
            case "cpu" -> true;
            case "wall" -> false;
            default -> throw new IllegalArgumentException(REPLAY_COSTS_PROPERTY + " is 'wall' or 'cpu', got '" + v + "'");
        };
    }

    private void replay(List<StageWorker> workers, FailureHandler failures) {
        try {
            for (StageWorker w : workers) {
                w.enterThread();
            }
            stepAll(workers, failures);
        } catch (RuntimeException | Error e) {
            failures.fail(-1, -1, e);
        } finally {
            for (StageWorker w : workers) {
                w.leaveThread();
            }
        }
    }

    /** Steps the workers round-robin in this thread; each step runs one action whose inputs are ready. */
    private void stepAll(List<StageWorker> workers, FailureHandler failures) {
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
                    failures.fail(workers.get(k).stage(), workers.get(k).currentMicroBatch(), e, workers.get(k).readingSource());
                    return;
                }
                if (s == StageWorker.Step.DONE) {
                    done[k] = true;
                    remaining--;
                }
                progress |= s != StageWorker.Step.BLOCKED;
            }
            if (!progress) {
                failures.fail(-1, -1, new IllegalStateException("replay deadlocked: no stage can make progress.\n"
                        + executedGrid(workers)));
                return;
            }
        }
    }
}
