package io.asyncpipeline.examples;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.StageProcesses;
import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.transport.BoundedChannel;
import io.asyncpipeline.transport.Channel;
import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.Message;
import io.asyncpipeline.transport.MessageCodec;
import io.asyncpipeline.transport.Transport;
import io.asyncpipeline.updater.DiscountedNadam;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What the process boundary costs: ASYNC_1F1B on 2 stages as threads of one JVM and as 2 stage processes on loopback
 * ({@link StageProcesses#local(int)}), and as 2 stage processes of which the first runs inside this JVM
 * ({@link StageProcesses#firstStagesHere(boolean)}), side by side in one run, for the benchmark's MLP and SameDiff
 * transformer.
 */
@Command(name = "ProcessBenchmark", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"ASYNC_1F1B on 2 stages: threads of this JVM (joined by in-JVM queues, then by gRPC streams on"
                + " loopback) against 2 stage processes on loopback, and 2 whose first runs inside this JVM, side by side,"
                + " for the MLP (Fashion-MNIST) and the SameDiff transformer (random tokens). Median examples/s over"
                + " rounds, their ratio, bytes crossing the cut per micro-batch, and per-stage busy and idle time."})
public final class ProcessBenchmark implements Callable<Integer> {

    static final int STAGES = 2;
    /**
     * Threads joined by in-JVM queues; threads joined by gRPC streams on loopback; stage processes; stage processes of
     * which the first is a stage host inside this JVM (one JVM fewer).
     */
    static final List<String> MODES = List.of("threads", "grpc-threads", "processes", "first-here");

    @Spec
    CommandSpec spec;

    @Option(names = "--models", split = ",", description = "comma-separated, from mlp, transformer. Default: mlp,transformer")
    List<String> models = List.of("mlp", "transformer");

    @Option(names = "--examples", description = "examples per fit: images for the MLP (default 24576), sequences for the"
            + " transformer (default 1024)")
    Integer examples;

    @Option(names = "--batch", description = "examples per micro-batch. Default: 64 images, 8 sequences")
    Integer batch;

    @Option(names = "--rounds", defaultValue = "3", description = "rounds, each timing both; the median is reported."
            + " Default: ${DEFAULT-VALUE}")
    int rounds;

    @Option(names = "--warmup", defaultValue = "200", description = "micro-batches of the untimed first fit of every"
            + " wrapper (a stage JVM starts cold: its JIT compiles while it trains). Default: ${DEFAULT-VALUE}")
    int warmup;

    @Option(names = "--jvm-options", split = " ", description = "options of the stage JVMs, space-separated in one"
            + " argument, e.g. \"-Xmx2g -XX:+UseSerialGC\". Default: none")
    List<String> jvmOptions = List.of();

    @Option(names = "--out", paramLabel = "DIR", description = "write process-benchmark.csv (one row per timed fit)"
            + " and process-benchmark.json (the configuration)")
    Path out;

    public static void main(String[] args) {
        System.exit(Cli.execute(new ProcessBenchmark(), args));
    }

    /** One timed fit. */
    record Fit(String model, String mode, int round, double examplesPerSecond, PipelineMetrics metrics) {
    }

    @Override
    public Integer call() throws Exception {
        for (String m : models) {
            if (!m.equals("mlp") && !m.equals("transformer")) {
                throw Cli.invalid(spec, "--models: unknown model '" + m + "'; choose from mlp, transformer");
            }
        }
        if (warmup < 1) {
            throw Cli.invalid(spec, "--warmup must be >= 1, got " + warmup);
        }
        if (rounds < 1) {
            throw Cli.invalid(spec, "--rounds must be >= 1, got " + rounds);
        }
        Path dir = out == null ? null : ResultFiles.directory(spec, out);
        List<Fit> fits = new ArrayList<>();
        Map<String, Object> resolved = new LinkedHashMap<>();
        resolved.put("stages", STAGES);
        resolved.put("schedule", "ASYNC_1F1B");
        System.out.printf("ProcessBenchmark: ASYNC_1F1B, P=%d, threads against %d stage processes on loopback, %d rounds,"
                + " %d cores%n", STAGES, STAGES, rounds, Runtime.getRuntime().availableProcessors());
        try (Progress progress = Progress.start("ProcessBenchmark", (long) models.size() * rounds * MODES.size(), "timed fits")) {
            for (String model : models) {
                boolean seq = model.equals("transformer");
                int n = examples != null ? examples : seq ? 1024 : 24576;
                int b = batch != null ? batch : seq ? 8 : 64;
                List<DataSet> micro;
                PipelineBenchmark.Case c;
                if (seq) {
                    INDArray ids = PipelineBenchmark.tokenIds(n, PipelineBenchmark.TRANSFORMER, PipelineBenchmark.TOKEN_SEED);
                    micro = PipelineBenchmark.sequenceBatches(ids, b, PipelineBenchmark.TRANSFORMER);
                    c = PipelineBenchmark.transformer(PipelineBenchmark.TRANSFORMER, micro.get(0));
                } else {
                    FashionMnist data = new FashionMnist();
                    data.requireAvailable();
                    DataSet images = data.load(FashionMnist.Split.TRAIN, n, FashionMnist.Layout.FLAT);
                    java.util.function.Supplier<org.deeplearning4j.nn.multilayer.MultiLayerNetwork> net =
                            () -> Models.mlp(DiscountedNadam.builder().build(), 4, 1024, 1);
                    int[] partition = PipelineBenchmark.partition(net, images.get(0));
                    c = PipelineBenchmark.multiLayer("MLP 784-1024x4-10", net, partition);
                    micro = images.batchBy(b);
                }
                Map<String, Object> sizes = new LinkedHashMap<>();
                sizes.put("examples", n);
                sizes.put("batch", b);
                sizes.put("case", c.name());
                resolved.put(model, sizes);
                long bytes = bytesPerMicroBatch(c, micro);
                List<Fit> mine = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    List<String> order = new ArrayList<>(MODES);
                    if (r % 2 == 1) {
                        java.util.Collections.reverse(order);       // alternate the order between rounds
                    }
                    for (String mode : order) {
                        PipelineMetrics m = fit(c, micro, mode, warmup, jvmOptions);
                        mine.add(new Fit(model, mode, r, m.throughput(), m));
                        progress.step(1, m.examples());
                    }
                }
                fits.addAll(mine);
                report(c.name(), b, micro, bytes, mine);
                if (dir != null) {
                    write(dir, fits, resolved);
                }
            }
        }
        if (dir != null) {
            System.out.println("\nresults written to " + dir.toAbsolutePath());
        }
        return Cli.OK;
    }

    /** A fresh model on 2 stages, as threads or as 2 stage processes; a warm-up fit, then the timed fit. */
    private static PipelineMetrics fit(PipelineBenchmark.Case c, List<DataSet> micro, String mode, int warmup,
                                       List<String> jvmOptions) {
        AsyncPipelineWrapper.Builder b = c.pipeline().get().schedule(Schedule.ASYNC_1F1B).weightStashing(true);
        io.asyncpipeline.transport.grpc.GrpcTransport grpc = null;
        if (mode.equals("grpc-threads")) {
            grpc = io.asyncpipeline.transport.grpc.GrpcTransport.loopback();
            b.transport(grpc);
        }
        if (mode.equals("processes")) {
            b.processes(StageProcesses.local(STAGES).environment(0, Map.of("OMP_NUM_THREADS", "1"))
                    .environment(1, Map.of("OMP_NUM_THREADS", "1"))
                    .jvmOptions(jvmOptions.stream().filter(o -> !o.isBlank()).toArray(String[]::new)));
        }
        if (mode.equals("first-here")) {
            b.processes(StageProcesses.local(STAGES).firstStagesHere(true)
                    .environment(1, Map.of("OMP_NUM_THREADS", "1"))
                    .jvmOptions(jvmOptions.stream().filter(o -> !o.isBlank()).toArray(String[]::new)));
        }
        try (AsyncPipelineWrapper w = b.build()) {
            w.fit(new ListDataSetIterator<>(micro.subList(0, Math.min(Math.max(1, warmup), micro.size())), 1));
            w.fit(new ListDataSetIterator<>(micro, 1));
            return w.metrics();
        } finally {
            if (grpc != null) {
                grpc.close();
            }
        }
    }

    /** Bytes the codec writes for one micro-batch's forward and backward messages across the cut (untimed run). */
    private static long bytesPerMicroBatch(PipelineBenchmark.Case c, List<DataSet> micro) {
        AtomicLong bytes = new AtomicLong();
        AtomicLong messages = new AtomicLong();
        Transport counting = new Transport() {
            @Override
            public Link open(int cut, int capacity, HaltSignal halt) {
                return new Link(count(new BoundedChannel(capacity, halt)), count(new BoundedChannel(capacity, halt)));
            }

            private Channel count(Channel inner) {
                return new Channel() {
                    @Override
                    public void send(Message m) throws InterruptedException {
                        if (!m.isEnd() && !m.isHalt()) {
                            bytes.addAndGet(MessageCodec.encode(m).length);
                            messages.incrementAndGet();
                        }
                        inner.send(m);
                    }

                    @Override
                    public Message receive() throws InterruptedException {
                        return inner.receive();
                    }

                    @Override
                    public int size() {
                        return inner.size();
                    }
                };
            }
        };
        List<DataSet> few = micro.subList(0, Math.min(4, micro.size()));
        try (AsyncPipelineWrapper w = c.pipeline().get().schedule(Schedule.ASYNC_1F1B).transport(counting).build()) {
            w.fit(new ListDataSetIterator<>(few, 1));
        }
        return Math.round(bytes.get() / (double) few.size());
    }

    private static void report(String name, int batch, List<DataSet> micro, long bytes, List<Fit> fits) {
        double threads = median(fits, "threads");
        System.out.printf("%n== %s, batch %d, %d micro-batches ==%n", name, batch, micro.size());
        System.out.printf("bytes across the cut per micro-batch (forward + backward, codec frames): %,d%n", bytes);
        System.out.println("| stages as | examples/s (median) | ratio to threads | per stage: busy s / idle s (forward, backward, update s; last round) |");
        System.out.println("|---|---|---|---|");
        for (String mode : MODES) {
            PipelineMetrics last = null;
            for (Fit f : fits) {
                if (f.mode().equals(mode)) {
                    last = f.metrics();
                }
            }
            double rate = median(fits, mode);
            String label = switch (mode) {
                case "threads" -> "threads of one JVM";
                case "grpc-threads" -> "threads of one JVM, joined by gRPC on loopback";
                case "first-here" -> STAGES + " stage processes, the first inside this JVM (loopback)";
                default -> STAGES + " stage processes (loopback)";
            };
            System.out.printf("| %s | %.1f | %.2f | %s |%n", label, rate, rate / threads, stages(last));
        }
    }

    private static String stages(PipelineMetrics m) {
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < m.stages().size(); k++) {
            StageMetrics s = m.stage(k);
            parts.add(String.format("%d: %.2f / %.2f (forward %.2f, backward %.2f, update %.2f)", k, s.busyNanos() / 1e9,
                    m.idleNanos(k) / 1e9, s.forwardNanos() / 1e9, s.backwardNanos() / 1e9, s.updateNanos() / 1e9));
        }
        return String.join(", ", parts);
    }

    private static double median(List<Fit> fits, String mode) {
        return PipelineBenchmark.median(fits.stream().filter(f -> f.mode().equals(mode))
                .mapToDouble(Fit::examplesPerSecond).toArray());
    }

    private void write(Path dir, List<Fit> fits, Map<String, Object> resolved) throws java.io.IOException {
        Csv csv = new Csv("model", "stages_as", "round", "examples", "examples_per_s", "wall_s", "busy_s_stage_0",
                "busy_s_stage_1");
        for (Fit f : fits) {
            PipelineMetrics m = f.metrics();
            csv.row(f.model(), f.mode(), f.round(), m.examples(), f.examplesPerSecond(), m.wallNanos() / 1e9,
                    m.stage(0).busyNanos() / 1e9, m.stage(1).busyNanos() / 1e9);
        }
        csv.write(dir.resolve("process-benchmark.csv"));
        ResultFiles.writeConfiguration(dir.resolve("process-benchmark.json"), spec, resolved);
    }
}
