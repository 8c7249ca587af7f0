package io.asyncpipeline.spark;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.StageProcesses;
import io.asyncpipeline.process.HostRendezvous;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Trains a pipeline whose stage processes are the tasks of a Spark barrier job: task k hosts stage process k, on
 * whatever executor Spark gives it. From a driver program:
 *
 * <pre>{@code
 * SparkPipelineTrainer.on(sparkContext, 2).fit(new AsyncPipelineWrapper.Builder(net), trainData, epochs);
 * // net now holds the trained parameters and optimizer state
 * }</pre>
 *
 * <p>How it runs: the driver opens a {@link HostRendezvous} and submits a barrier job of {@code processes} tasks
 * (they start together or not at all). Each task starts a stage host on its executor, the tasks exchange endpoints
 * with the barrier context's all-gather, and each reports itself to the rendezvous. The driver then builds the wrapper
 * with {@code StageProcesses.peers(...)} on those endpoints and a fresh access token, and trains: the driver's
 * iterator (or an RDD of mini-batches, read in order through the driver) feeds stage 0, the model travels to the tasks with DL4J's own serialisation, and after every epoch the
 * stages' parameters and optimizer state come back into the driver's model object. When training ends the driver
 * releases the tasks and the job finishes.
 *
 * <p>Failures: when an executor dies the barrier stage fails as a whole (Spark kills its other tasks), and the
 * driver's fit fails within seconds with a {@code PipelineException} naming the stage and its address; the job is
 * cancelled and this call throws. Nothing is retried here: resume from your last checkpoint
 * ({@code saveCheckpoint}) in a new call. The job needs {@code processes} task slots free at once; if Spark cannot
 * schedule them within the start timeout the call fails, naming the tasks that never reported.
 */
public final class SparkPipelineTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(SparkPipelineTrainer.class);

    /** Default of {@link #startTimeout}. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofMinutes(5);

    private final JavaSparkContext sc;
    private final int processes;
    private String driverHost;
    private String executorBind;
    private Duration startTimeout = DEFAULT_START_TIMEOUT;
    private Duration connectTimeout = StageProcesses.DEFAULT_CONNECT_TIMEOUT;

    private SparkPipelineTrainer(JavaSparkContext sc, int processes) {
        this.sc = sc;
        this.processes = processes;
    }

    /** A trainer on {@code sc} whose pipelines run in {@code processes} stage processes (Spark tasks). */
    public static SparkPipelineTrainer on(JavaSparkContext sc, int processes) {
        Objects.requireNonNull(sc, "sparkContext");
        if (processes < 1) {
            throw new IllegalArgumentException("a Spark pipeline needs at least 1 stage process, got " + processes);
        }
        return new SparkPipelineTrainer(sc, processes);
    }

    /**
     * The address the tasks reach the driver's rendezvous at. Default: Spark's {@code spark.driver.host}.
     */
    public SparkPipelineTrainer driverHost(String host) {
        this.driverHost = requireText(host, "driverHost");
        return this;
    }

    /**
     * The address every stage host listens on. Default: its executor's address as the barrier context reports it.
     */
    public SparkPipelineTrainer executorBind(String address) {
        this.executorBind = requireText(address, "executorBind");
        return this;
    }

    /** How long the driver waits for every task to be scheduled and report. Default: 5 minutes. */
    public SparkPipelineTrainer startTimeout(Duration timeout) {
        this.startTimeout = positive(timeout, "startTimeout");
        return this;
    }

    /** How long each end tries to reach the other at start (see {@link StageProcesses#connectTimeout}). */
    public SparkPipelineTrainer connectTimeout(Duration timeout) {
        this.connectTimeout = positive(timeout, "connectTimeout");
        return this;
    }

    /** {@code epochs} epochs of {@code data}, the pipeline built by {@code builder} (without processes). */
    public void fit(AsyncPipelineWrapper.Builder builder, DataSetIterator data, int epochs) {
        requireEpochs(epochs);
        run(builder, w -> w.fit(data, epochs));
    }

    /**
     * {@code epochs} epochs of the mini-batches in {@code data}, in the RDD's order (partition by partition). Before
     * the stage tasks start, the driver reads the RDD once ({@code toLocalIterator()}, one partition in its memory at a
     * time) into a temporary file on its own disk, which then feeds stage 0 every epoch, as an iterator would. The
     * data passes through the driver, and its disk must hold it. (Reading the RDD while training would need a task
     * slot that the barrier job of the stages may hold; the file is deleted when the call returns.)
     *
     * @throws IllegalArgumentException when the RDD holds no batch or a null one
     */
    public void fit(AsyncPipelineWrapper.Builder builder, JavaRDD<DataSet> data, int epochs) {
        Objects.requireNonNull(data, "data");
        requireEpochs(epochs);
        try (SpooledBatches batches = SpooledBatches.spool(data.toLocalIterator())) {
            if (batches.count() == 0) {
                throw new IllegalArgumentException("the RDD of training batches is empty");
            }
            LOG.info("{} batches of the RDD spooled to the driver's disk", batches.count());
            run(builder, w -> w.fit(new ExistingDataSetIterator(batches), epochs));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot spool the RDD's batches to the driver's disk", e);
        }
    }

    /** {@code epochs} epochs of {@code data} (ComputationGraph and SameDiff pipelines with several inputs). */
    public void fit(AsyncPipelineWrapper.Builder builder, MultiDataSetIterator data, int epochs) {
        requireEpochs(epochs);
        run(builder, w -> w.fit(data, epochs));
    }

    /**
     * Starts the stage processes, builds the wrapper on them and hands it to {@code training} (fits, checkpoints,
     * metrics), then closes it and releases the processes. Failures of {@code training} are rethrown after the job
     * has been cancelled.
     */
    public void run(AsyncPipelineWrapper.Builder builder, Consumer<AsyncPipelineWrapper> training) {
        Objects.requireNonNull(builder, "builder");
        Objects.requireNonNull(training, "training");
        String token = newToken();
        String host = driverHost != null ? driverHost : sc.getConf().get("spark.driver.host", "127.0.0.1");
        String group = "dl4j-async-pipeline-" + token.substring(0, 8);
        try (HostRendezvous rendezvous = HostRendezvous.open(host, 0, processes, token, null)) {
            String at = host + ":" + rendezvous.port();
            CompletableFuture<List<String>> job = submit(group, new StageTask(at, token, executorBind,
                    connectTimeout.toMillis()));
            try {
                List<String> hosts = awaitHosts(rendezvous, job);
                LOG.info("stage processes reported: {}", hosts);
                builder.processes(StageProcesses.peers(String.join(",", hosts)).token(token)
                        .connectTimeout(connectTimeout));
                try (AsyncPipelineWrapper w = builder.build()) {
                    training.accept(w);
                }
                rendezvous.release();
                List<String> done = job.get(connectTimeout.toMillis() + 30_000, TimeUnit.MILLISECONDS);
                LOG.info("stage tasks finished: {}", done);
            } catch (RuntimeException | Error e) {
                cancel(group, job);
                throw e;
            } catch (InterruptedException e) {
                cancel(group, job);
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while training on Spark", e);
            } catch (ExecutionException e) {
                cancel(group, job);
                throw new IllegalStateException("the Spark job of the stage processes failed: " + e.getCause(),
                        e.getCause());
            } catch (TimeoutException e) {
                cancel(group, job);
                throw new IllegalStateException("the Spark job of the stage processes did not end after the release",
                        e);
            }
        }
    }

    /** Submits the barrier job on its own thread (a job group is per submitting thread) and returns its result. */
    private CompletableFuture<List<String>> submit(String group, StageTask task) {
        CompletableFuture<List<String>> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                sc.setJobGroup(group, "dl4j-async-pipeline stage processes", true);
                List<Integer> seeds = new ArrayList<>();
                for (int i = 0; i < processes; i++) {
                    seeds.add(i);
                }
                ClassTag<String> tag = ClassTag$.MODULE$.apply(String.class);
                RDD<String> stages = sc.parallelize(seeds, processes).rdd().barrier().mapPartitions(task, false, tag);
                f.complete(new JavaRDD<>(stages, tag).collect());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, "spark-pipeline-job");
        t.setDaemon(true);
        t.start();
        return f;
    }

    /** Waits for every task's report; fails early if the job fails first (no slots, a task that cannot start). */
    private List<String> awaitHosts(HostRendezvous rendezvous, CompletableFuture<List<String>> job)
            throws InterruptedException, ExecutionException {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (true) {
            if (job.isDone()) {
                job.get();   // throws the job's failure
                throw new IllegalStateException("the Spark job of the stage processes ended before they all reported");
            }
            try {
                return rendezvous.awaitHosts(Duration.ofMillis(500));
            } catch (TimeoutException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(notYet.getMessage() + ": does the cluster have " + processes
                            + " free task slots at once (a barrier job needs them all)?", notYet);
                }
            }
        }
    }

    private void cancel(String group, CompletableFuture<List<String>> job) {
        sc.cancelJobGroup(group);
        try {
            job.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException expected) {
            LOG.debug("stage job ended: {}", expected.toString());
        }
    }

    static String newToken() {
        return StageProcesses.randomToken();
    }

    private static void requireEpochs(int epochs) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
        }
    }

    private static String requireText(String s, String what) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        return s;
    }

    private static Duration positive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d);
        }
        return d;
    }
}
