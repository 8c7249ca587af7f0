package io.asyncpipeline.examples;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.runtime.ThreadSettings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PipelineBenchmark --compare-parallel-wrapper}: DL4J's data-parallel {@link ParallelWrapper} side by side with
 * plain {@code fit} and the two pipeline schedules, on one {@link MultiLayerNetwork}.
 *
 * <p>Every variant trains a fresh {@code clone()} of the same initial network for the same epochs; epoch e shows every
 * variant the same examples in the same order (one seeded permutation per epoch), cut into micro-batches of
 * {@code batch} (GPIPE: mini-batches of {@link PipelineBenchmark#M} micro-batches, the same examples in the same order).
 * There is one {@code fit} call per epoch for every variant. Timed is the wall time of those calls, nothing else: the
 * batches are cut before, the wrappers are built before (ParallelWrapper replicates its worker model inside each
 * {@code fit}, so that is timed), and each variant first warms up on a throwaway clone. The test accuracy is measured
 * afterwards, outside the timed part.
 *
 * <p>ParallelWrapper runs {@value #WORKERS} workers with a prefetch buffer of {@value #PREFETCH}, in averaging mode
 * every 1 and every 5 iterations, and with shared gradients. While it fits, ND4J's and BLAS's thread limits are set to
 * cores / workers, what {@link AsyncPipelineWrapper} does for its stage threads by default. A variant that fails is
 * reported with its message and the others still run.
 */
final class ParallelWrapperComparison {

    private static final Logger LOG = LoggerFactory.getLogger(ParallelWrapperComparison.class);

    static final int WORKERS = 2;
    static final int PREFETCH = 2;
    /** Seed of the per-epoch training orders. */
    static final long ORDER_SEED = 17;
    static final int EVAL_BATCH = 500;

    /** The variants, in the order they run and print. */
    enum Variant {
        PLAIN("plain", "plain `fit`"),
        PW_AVERAGING_1("ParallelWrapper-avg1", "`ParallelWrapper`, " + WORKERS + " workers, averaging every 1"),
        PW_AVERAGING_5("ParallelWrapper-avg5", "`ParallelWrapper`, " + WORKERS + " workers, averaging every 5"),
        GPIPE("GPIPE", "GPIPE M=" + PipelineBenchmark.M + ", " + PipelineBenchmark.STAGES + " stages"),
        ASYNC_1F1B("ASYNC_1F1B", "ASYNC_1F1B, " + PipelineBenchmark.STAGES + " stages"),
        // last in every round: it can deadlock (below), and nothing else should run beside a hung variant's threads
        PW_SHARED_GRADIENTS("ParallelWrapper-shared", "`ParallelWrapper`, " + WORKERS + " workers, shared gradients");

        /** The name in the CSV's {@code variant} column. */
        final String csv;
        /** The name in the printed table. */
        final String label;

        Variant(String csv, String label) {
            this.csv = csv;
            this.label = label;
        }

        boolean parallelWrapper() {
            return this == PW_AVERAGING_1 || this == PW_AVERAGING_5 || this == PW_SHARED_GRADIENTS;
        }

        /** Examples per batch the variant reads: GPIPE's mini-batches hold M micro-batches. */
        int batch(int microBatch) {
            return this == GPIPE ? microBatch * PipelineBenchmark.M : microBatch;
        }

        /** Short name for the plot's axis ("PW n": ParallelWrapper averaging every n iterations). */
        String shortName() {
            return switch (this) {
                case PLAIN -> "fit";
                case PW_AVERAGING_1 -> "PW 1";
                case PW_AVERAGING_5 -> "PW 5";
                case PW_SHARED_GRADIENTS -> "PW shared";
                case GPIPE -> "GPIPE";
                case ASYNC_1F1B -> "ASYNC";
            };
        }
    }

    /**
     * What every variant shares: the initial network (each variant trains a clone), the pipeline partition (layers
     * per stage), the training examples, epochs, micro-batch size, the test examples and weight stashing for
     * ASYNC_1F1B.
     */
    record Setup(MultiLayerNetwork initial, int[] partition, DataSet train, int epochs, int batch, DataSet test,
                 boolean stash) {
    }

    /**
     * One variant in one round: examples/s over all its epochs, test accuracy, the parameters' relative change from the
     * initial network (‖θ − θ₀‖ / ‖θ₀‖), or the failure (rate, accuracy and change NaN).
     */
    record Run(Variant variant, double rate, double accuracy, double paramChange, String error) {

        boolean failed() {
            return error != null;
        }
    }

    /** Every round's runs, indexed by variant. */
    record Result(int epochs, long examplesPerEpoch, int batch, int testExamples, List<Run[]> rounds) {

        /** Median examples/s over the rounds the variant did not fail in; NaN if it failed in all. */
        double rate(Variant v) {
            return median(v, Run::rate);
        }

        /** Median test accuracy over the rounds the variant did not fail in; NaN if it failed in all. */
        double accuracy(Variant v) {
            return median(v, Run::accuracy);
        }

        /** The first failure of the variant, or null. */
        String error(Variant v) {
            for (Run[] r : rounds) {
                if (r[v.ordinal()].failed()) {
                    return r[v.ordinal()].error();
                }
            }
            return null;
        }

        private double median(Variant v, java.util.function.ToDoubleFunction<Run> value) {
            double[] ok = rounds.stream().map(r -> r[v.ordinal()]).filter(r -> !r.failed()).mapToDouble(value).toArray();
            return ok.length == 0 ? Double.NaN : PipelineBenchmark.median(ok);
        }
    }

    private ParallelWrapperComparison() {
    }

    /** {@code rounds} rounds of every variant, one {@code progress} step per variant and round. */
    static Result compare(Setup s, int rounds, Progress progress) {
        List<int[]> orders = orders(s.train().numExamples(), s.epochs(), ORDER_SEED);
        List<Run[]> all = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            Run[] runs = new Run[Variant.values().length];
            long plainNanos = 0;
            for (Variant v : Variant.values()) {
                long t0 = System.nanoTime();
                long limit = v == Variant.PLAIN ? Long.MAX_VALUE
                        : Math.max(MIN_DEADLINE_NANOS, DEADLINE_FACTOR * plainNanos);
                runs[v.ordinal()] = runWithDeadline(v, s, orders, limit);
                if (v == Variant.PLAIN) {
                    plainNanos = System.nanoTime() - t0;
                }
                progress.step(1, (long) s.epochs() * s.train().numExamples());
            }
            all.add(runs);
        }
        return new Result(s.epochs(), s.train().numExamples(), s.batch(), s.test().numExamples(), List.copyOf(all));
    }

    /** One seeded permutation of {@code 0..n-1} per epoch (Fisher-Yates on one {@link Random}). */
    static List<int[]> orders(int n, int epochs, long seed) {
        Random rng = new Random(seed);
        List<int[]> out = new ArrayList<>();
        for (int e = 0; e < epochs; e++) {
            int[] p = new int[n];
            for (int i = 0; i < n; i++) {
                p[i] = i;
            }
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            out.add(p);
        }
        return out;
    }

    /** The examples of {@code data} in {@code order}, cut into consecutive batches of {@code size} (the last may be smaller). */
    static List<DataSet> batches(DataSet data, int[] order, int size) {
        INDArray f = Nd4j.pullRows(data.getFeatures(), 1, order);
        INDArray l = Nd4j.pullRows(data.getLabels(), 1, order);
        return new DataSet(f, l).batchBy(size);
    }

    /** A variant that takes this many times plain {@code fit}'s time (warm-up and evaluation included) is given up. */
    static final long DEADLINE_FACTOR = 10;
    /** ... but never before this much time. */
    static final long MIN_DEADLINE_NANOS = TimeUnit.MINUTES.toNanos(5);

    /**
     * {@link #run} on its own thread, given up after {@code limitNanos}: ParallelWrapper 1.0.0-M2.1 can deadlock in
     * shared-gradients mode (one worker waits in the gradient exchange for the other while holding the network's lock
     * the other needs to start), and a comparison must not hang. A variant given up is reported as failed, with the
     * states of the ParallelWrapper threads at that moment, and its threads are stopped ({@link #stopHungThreads}).
     */
    static Run runWithDeadline(Variant v, Setup s, List<int[]> orders, long limitNanos) {
        // threads of a variant given up earlier stay blocked: only this variant's threads count
        java.util.Set<Long> before = new java.util.HashSet<>();
        for (Thread th : Thread.getAllStackTraces().keySet()) {
            before.add(th.getId());
        }
        FutureTask<Run> task = new FutureTask<>(() -> run(v, s, orders));
        Thread t = new Thread(task, "comparison-" + v.csv);
        t.setDaemon(true);
        t.start();
        try {
            if (limitNanos == Long.MAX_VALUE) {
                return task.get();
            }
            long deadline = System.nanoTime() + limitNanos;
            int blockedChecks = 0;
            while (true) {
                try {
                    return task.get(DEADLOCK_CHECK_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException notYet) {
                    blockedChecks = workerBlockedOnAnother(before) ? blockedChecks + 1 : 0;
                    boolean deadlocked = blockedChecks >= DEADLOCK_CHECKS;
                    if (deadlocked || System.nanoTime() > deadline) {
                        String threads = stuckThreads(before);
                        String why = deadlocked
                                ? "deadlocked: a ParallelWrapper worker stayed blocked on a lock another worker holds for "
                                + DEADLOCK_CHECKS * DEADLOCK_CHECK_SECONDS + " s"
                                : "hung: no result within " + limitNanos / 1_000_000_000L + " s";
                        LOG.error("{} {}; given up. Threads: {}", v.label, why, threads);
                        String stopped = stopHungThreads(t, before);
                        LOG.error("{}: {}", v.label, stopped);
                        return new Run(v, Double.NaN, Double.NaN, Double.NaN, why + "; " + threads + "; " + stopped);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(v.label + " failed", e.getCause());
        }
    }

    /**
     * Stops the threads of a variant given up: its comparison thread and its ParallelWrapper threads (all but
     * {@code before}). A deadlocked shared-gradients worker spins in the gradient exchange, and left alive it takes
     * CPU from every variant that runs after it (the first CNN comparison's pipelines ran at half speed beside one).
     * {@code Thread.stop} is the only way to end threads that ignore interrupts; it still works on Java 17. Returns
     * what happened, for the report.
     */
    @SuppressWarnings({"deprecation", "removal"})
    static String stopHungThreads(Thread comparison, java.util.Set<Long> before) {
        List<Thread> hung = new ArrayList<>();
        hung.add(comparison);
        for (Thread th : Thread.getAllStackTraces().keySet()) {
            if (!before.contains(th.getId()) && th.getName().startsWith("ParallelWrapper")) {
                hung.add(th);
            }
        }
        for (Thread th : hung) {
            th.interrupt();
            try {
                th.stop();
            } catch (UnsupportedOperationException e) {
                return "its threads could not be stopped on this JVM (" + e + "): later variants run beside them";
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_WAIT_SECONDS);
        List<String> alive = new ArrayList<>();
        for (Thread th : hung) {
            try {
                th.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (th.isAlive()) {
                alive.add(th.getName() + " " + th.getState());
            }
        }
        return alive.isEmpty() ? "its " + hung.size() + " threads were stopped"
                : alive.size() + " of its threads still alive after " + STOP_WAIT_SECONDS + " s (" + String.join(", ", alive)
                + "): later variants run beside them";
    }

    static final long STOP_WAIT_SECONDS = 10;
    static final long DEADLOCK_CHECK_SECONDS = 10;
    static final int DEADLOCK_CHECKS = 3;

    /**
     * True when a ParallelWrapper worker thread is BLOCKED on a monitor that another ParallelWrapper worker owns (the
     * shared-gradients deadlock: that owner waits in the gradient exchange for the blocked one, which never comes).
     */
    static boolean workerBlockedOnAnother(java.util.Set<Long> ignored) {
        for (java.lang.management.ThreadInfo i : workerThreads(ignored)) {
            if (i.getThreadState() == Thread.State.BLOCKED && i.getLockOwnerName() != null
                    && i.getLockOwnerName().startsWith("ParallelWrapper")) {
                return true;
            }
        }
        return false;
    }

    /** The ParallelWrapper threads alive now, but for {@code ignored}: each one's state and top DL4J frame. */
    static String stuckThreads(java.util.Set<Long> ignored) {
        StringBuilder b = new StringBuilder();
        for (java.lang.management.ThreadInfo i : workerThreads(ignored)) {
            String top = "";
            for (StackTraceElement f : i.getStackTrace()) {
                if (f.getClassName().startsWith("org.deeplearning4j")) {
                    top = f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName();
                    break;
                }
            }
            b.append(b.length() == 0 ? "" : "; ").append(i.getThreadName()).append(' ').append(i.getThreadState())
                    .append(" in ").append(top);
        }
        return b.length() == 0 ? "no ParallelWrapper thread alive" : b.toString();
    }

    /** ParallelWrapper's worker threads alive now, with their stacks and locks, but for {@code ignored}. */
    private static List<java.lang.management.ThreadInfo> workerThreads(java.util.Set<Long> ignored) {
        List<java.lang.management.ThreadInfo> out = new ArrayList<>();
        for (java.lang.management.ThreadInfo i : java.lang.management.ManagementFactory.getThreadMXBean()
                .dumpAllThreads(true, false)) {
            if (i != null && !ignored.contains(i.getThreadId()) && i.getThreadName().startsWith("ParallelWrapper")) {
                out.add(i);
            }
        }
        return out;
    }

    /** Trains a clone of the initial network with {@code v}; a failure becomes a {@link Run} with its message. */
    static Run run(Variant v, Setup s, List<int[]> orders) {
        int size = v.batch(s.batch());
        try {
            try (Fitter warm = fitter(v, s.initial().clone(), s)) {
                List<DataSet> first = batches(s.train(), orders.get(0), size);
                warm.fit(first.subList(0, Math.min(first.size(), v.parallelWrapper() ? 2 * WORKERS : 2)));
            }
            MultiLayerNetwork net = s.initial().clone();
            long nanos = 0;
            long examples = 0;
            try (Fitter fitter = fitter(v, net, s)) {
                for (int[] order : orders) {
                    List<DataSet> epoch = batches(s.train(), order, size);
                    long t0 = System.nanoTime();
                    fitter.fit(epoch);
                    nanos += System.nanoTime() - t0;
                    examples += order.length;
                }
            }
            double accuracy = net.evaluate(new ListDataSetIterator<>(s.test().batchBy(EVAL_BATCH), 1)).accuracy();
            return new Run(v, examples / (nanos / 1e9), accuracy, relativeChange(s.initial().params(), net.params()), null);
        } catch (RuntimeException | LinkageError e) {
            LOG.error("{} failed", v.label, e);
            String message = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            return new Run(v, Double.NaN, Double.NaN, Double.NaN, message.lines().findFirst().orElse(message));
        }
    }

    /** ‖after − before‖ / ‖before‖. */
    static double relativeChange(INDArray before, INDArray after) {
        return after.sub(before).norm2Number().doubleValue() / before.norm2Number().doubleValue();
    }

    /** One variant's {@code fit} over a list of batches, on one network, until closed. */
    interface Fitter extends AutoCloseable {
        void fit(List<DataSet> batches);

        @Override
        void close();
    }

    private static Fitter fitter(Variant v, MultiLayerNetwork net, Setup s) {
        return switch (v) {
            case PLAIN -> new Fitter() {
                @Override
                public void fit(List<DataSet> batches) {
                    int cores = Runtime.getRuntime().availableProcessors();
                    Nd4j.getEnvironment().setMaxThreads(cores);         // as the throughput table's plain fit
                    Nd4j.getEnvironment().setMaxMasterThreads(cores);
                    net.fit(new ListDataSetIterator<>(batches, 1));
                }

                @Override
                public void close() {
                }
            };
            case PW_AVERAGING_1, PW_AVERAGING_5, PW_SHARED_GRADIENTS -> parallelWrapper(v, net);
            case GPIPE, ASYNC_1F1B -> {
                AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(s.partition())
                        .schedule(v == Variant.GPIPE ? Schedule.GPIPE : Schedule.ASYNC_1F1B)
                        .microBatches(PipelineBenchmark.M).weightStashing(s.stash()).build();
                yield new Fitter() {
                    @Override
                    public void fit(List<DataSet> batches) {
                        w.fit(new ListDataSetIterator<>(batches, 1));
                    }

                    @Override
                    public void close() {
                        w.close();
                    }
                };
            }
        };
    }

    /** A ParallelWrapper of {@value #WORKERS} workers around {@code net} in the variant's mode. */
    private static Fitter parallelWrapper(Variant v, MultiLayerNetwork net) {
        ParallelWrapper.Builder<MultiLayerNetwork> b = new ParallelWrapper.Builder<>(net);
        b.workers(WORKERS).prefetchBuffer(PREFETCH).reportScoreAfterAveraging(false);
        switch (v) {
            case PW_AVERAGING_1 -> b.trainingMode(ParallelWrapper.TrainingMode.AVERAGING).averagingFrequency(1);
            case PW_AVERAGING_5 -> b.trainingMode(ParallelWrapper.TrainingMode.AVERAGING).averagingFrequency(5);
            case PW_SHARED_GRADIENTS -> b.trainingMode(ParallelWrapper.TrainingMode.SHARED_GRADIENTS);
            default -> throw new IllegalArgumentException(v.name());
        }
        ParallelWrapper pw = b.build();
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / WORKERS);
        return new Fitter() {
            @Override
            public void fit(List<DataSet> batches) {
                ThreadSettings limits = ThreadSettings.apply(threads);   // the limit pipeline stages get
                try {
                    pw.fit(new ListDataSetIterator<>(batches, 1));
                } finally {
                    limits.restore();
                }
            }

            @Override
            public void close() {
                pw.shutdown();
            }
        };
    }

    /** The Markdown table of one model's comparison, on standard output. */
    static void report(String name, int[] partition, Result r, String data) {
        System.out.printf("%n### %s: ParallelWrapper side by side%n%n", name);
        System.out.printf("%d %s x %d epoch%s (every variant: same examples in the same order per epoch), micro-batch %d;"
                        + " %d stages %s for the pipelines; test accuracy on %d test images after the last epoch;"
                        + " median of %d rounds%n%n", r.examplesPerEpoch(), data, r.epochs(), r.epochs() == 1 ? "" : "s",
                r.batch(),
                PipelineBenchmark.STAGES, Arrays.toString(partition), r.testExamples(), r.rounds().size());
        System.out.println("| variant | batch | examples/s | ratio to plain `fit` | test accuracy |");
        System.out.println("|---|---|---|---|---|");
        double plain = r.rate(Variant.PLAIN);
        for (Variant v : Variant.values()) {
            String batch = v.parallelWrapper() ? r.batch() + " per worker" : String.valueOf(v.batch(r.batch()));
            String error = r.error(v);
            if (Double.isNaN(r.rate(v))) {
                System.out.printf("| %s | %s | failed: %s | | |%n", v.label, batch, error);
                continue;
            }
            System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %.2f | %.4f%s |%n", v.label, batch, r.rate(v),
                    r.rate(v) / plain, r.accuracy(v), error == null ? "" : " (failed in a round: " + error + ")");
        }
    }
}
