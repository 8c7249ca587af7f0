package io.asyncpipeline.examples;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.StageProcesses;
import io.asyncpipeline.examples.net.NetworkNamespaces;
import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.transport.BoundaryCompression;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Two stage processes on two "hosts" joined by shaped links: each stage process runs in its own Linux network
 * namespace, linked to this one by a veth pair shaped with {@code tc tbf} to the chosen rate (both directions). For
 * each rate, and for each boundary compression at one rate, it trains the benchmark's SameDiff transformer
 * (ASYNC_1F1B, weight stashing) and reports examples/s, the bytes each link carried and the busiest link's use
 * (bytes / (time × line rate)). Needs root, {@code ip} and {@code tc}; all traffic stays on the veth pairs it makes, and
 * it removes them when it ends.
 */
@Command(name = "ShapedLinkBenchmark", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"ASYNC_1F1B on 2 stage processes in 2 network namespaces joined by links shaped with tc (token"
                + " bucket): examples/s, bytes on each link and link use against the line rate, for each rate and each"
                + " boundary compression. Needs root (sudo) and iproute2. Exit code 4 when this machine cannot make"
                + " network namespaces."})
public final class ShapedLinkBenchmark implements Callable<Integer> {

    static final int STAGES = 2;
    static final int PORT = 7110;
    static final int CANNOT_SHAPE = 4;

    @Spec
    CommandSpec spec;

    @Option(names = "--rates", split = ",", description = "link rates in Mbit/s, comma-separated. Default: 10,80,1000")
    List<Double> rates = List.of(10.0, 80.0, 1000.0);

    @Option(names = "--extra-in-flight", defaultValue = "0", paramLabel = "E", description = "extra micro-batches in"
            + " flight per cut (the builder's extraInFlight): more delay, fewer waits on the link. Default: ${DEFAULT-VALUE}")
    int extraInFlight;

    @Option(names = "--compressions", split = ",", description = "boundary compressions to compare at"
            + " --compression-rate: NONE, FP16, BF16, INT8, comma-separated. Default: FP16,INT8")
    List<BoundaryCompression> compressions = List.of(BoundaryCompression.FP16, BoundaryCompression.INT8);

    @Option(names = "--compression-rate", defaultValue = "80", description = "the rate (Mbit/s) the compressions run"
            + " at (uncompressed runs at every rate). Default: ${DEFAULT-VALUE}")
    double compressionRate;

    @Option(names = "--sequences", defaultValue = "512", description = "sequences per timed fit. Default: ${DEFAULT-VALUE}")
    int sequences;

    @Option(names = "--batch", defaultValue = "8", description = "sequences per micro-batch. Default: ${DEFAULT-VALUE}")
    int batch;

    @Option(names = "--warmup", defaultValue = "32", description = "micro-batches of each of the two untimed fits"
            + " before the timed one (the stage JVMs start cold); fewer than the timed fit's, as the second one's bytes"
            + " separate the state's bytes from the micro-batches'. Default: ${DEFAULT-VALUE}")
    int warmup;

    @Option(names = "--out", paramLabel = "DIR", description = "write shaped-links.csv, shaped-links.json and"
            + " shaped-links.png (examples/s against the rate)")
    Path out;

    public static void main(String[] args) {
        System.exit(Cli.execute(new ShapedLinkBenchmark(), args));
    }

    /** One timed fit over shaped links. */
    /**
     * One timed fit over shaped links. {@code seconds} is the pipeline's own clock (first micro-batch in to the
     * last update), {@code fitSeconds} the whole {@code fit} call, which also ships the stage state to the hosts
     * before the micro-batches and back after them. The byte counts are the kernel's counters read around the
     * call, in the order host 0 sent, host 1 sent, sent to host 0, sent to host 1; {@code warmupBytes} the same
     * around an untimed fit of {@code warmupMicroBatches} just before it (the second of two warm-up fits: the first
     * ships less state, as the updater's state does not exist yet). The state costs the same bytes in both counted
     * fits, so the difference of the two, over the difference of their micro-batch counts, is what one micro-batch
     * puts on each direction.
     */
    record Run(double mbit, BoundaryCompression compression, double examplesPerSecond, double seconds,
               double fitSeconds, int microBatches, long[] bytes, int warmupMicroBatches, long[] warmupBytes) {

        long hostZeroSent() {
            return bytes[0];
        }

        long hostOneSent() {
            return bytes[1];
        }

        /** The bytes the micro-batches of the timed fit put on direction d (0-3, as {@code bytes}). */
        double microBatchBytes(int d) {
            return microBatches * (double) (bytes[d] - warmupBytes[d]) / (microBatches - warmupMicroBatches);
        }

        /**
         * Link use while the pipeline runs: the busiest direction's micro-batch bytes over what the line carries
         * in the pipeline's time. The state shipped before and after is left out of both.
         */
        double linkUse() {
            double busiest = 0;
            for (int d = 0; d < 4; d++) {
                busiest = Math.max(busiest, microBatchBytes(d));
            }
            return busiest / (seconds * mbit * 1e6 / 8);
        }

        /** Link use over the whole fit call: the busiest direction's bytes, state included, over the call's time. */
        double fitCallLinkUse() {
            long busiest = 0;
            for (long b : bytes) {
                busiest = Math.max(busiest, b);
            }
            return busiest / (fitSeconds * mbit * 1e6 / 8);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (rates.isEmpty() || rates.stream().anyMatch(r -> !(r > 0))) {
            throw Cli.invalid(spec, "--rates must be positive Mbit/s values, got " + rates);
        }
        if (sequences < batch || batch < 1 || warmup < 1) {
            throw Cli.invalid(spec, "--sequences must be >= --batch >= 1 and --warmup >= 1");
        }
        if (extraInFlight < 0 || extraInFlight > io.asyncpipeline.schedule.Schedules.MAX_EXTRA_IN_FLIGHT) {
            throw Cli.invalid(spec, "--extra-in-flight must be 0.." + io.asyncpipeline.schedule.Schedules.MAX_EXTRA_IN_FLIGHT
                    + ", got " + extraInFlight);
        }
        if (warmup >= sequences / batch) {
            throw Cli.invalid(spec, "--warmup must be fewer micro-batches than the timed fit's " + sequences / batch
                    + " (--sequences / --batch), got " + warmup);
        }
        String reason = NetworkNamespaces.unavailableReason();
        if (reason != null) {
            System.err.println("ShapedLinkBenchmark: " + reason);
            return CANNOT_SHAPE;
        }
        Path dir = out == null ? null : ResultFiles.directory(spec, out);
        INDArray ids = PipelineBenchmark.tokenIds(sequences, PipelineBenchmark.TRANSFORMER, PipelineBenchmark.TOKEN_SEED);
        List<DataSet> micro = PipelineBenchmark.sequenceBatches(ids, batch, PipelineBenchmark.TRANSFORMER);
        PipelineBenchmark.Case c = PipelineBenchmark.transformer(PipelineBenchmark.TRANSFORMER, micro.get(0));
        List<Run> runs = new ArrayList<>();
        List<double[]> plan = new ArrayList<>();
        for (double r : rates) {
            plan.add(new double[] {r, BoundaryCompression.NONE.ordinal()});
        }
        for (BoundaryCompression bc : compressions) {
            if (bc != BoundaryCompression.NONE) {
                plan.add(new double[] {compressionRate, bc.ordinal()});
            }
        }
        System.out.printf("ShapedLinkBenchmark: %s, ASYNC_1F1B on %d stage processes in network namespaces, %d"
                + " micro-batches of %d sequences per timed fit%n", c.name(), STAGES, micro.size(), batch);
        Path tokenFile = Files.createTempFile("shaped-links-token", ".txt");
        try (NetworkNamespaces hosts = NetworkNamespaces.create(STAGES);
             Progress progress = Progress.start("ShapedLinkBenchmark", plan.size(), "runs")) {
            String token = newToken();
            Files.writeString(tokenFile, token);
            for (double[] p : plan) {
                BoundaryCompression bc = BoundaryCompression.values()[(int) p[1]];
                hosts.shape(p[0]);
                Run r = run(hosts, () -> c.pipeline().get().schedule(Schedule.ASYNC_1F1B).weightStashing(true)
                                .extraInFlight(extraInFlight), micro,
                        warmup, p[0], bc, token, tokenFile);
                runs.add(r);
                System.out.printf(Locale.ROOT, "%7.0f Mbit/s  %-5s  %8.1f examples/s  link use %5.1f %%%n", r.mbit(),
                        bc, r.examplesPerSecond(), 100 * r.linkUse());
                progress.step(1, micro.size() * (long) batch);
            }
        } finally {
            Files.deleteIfExists(tokenFile);
        }
        report(runs, micro.size());
        if (dir != null) {
            write(dir, runs, micro.size());
            System.out.println("\nresults written to " + dir.toAbsolutePath());
        }
        return Cli.OK;
    }

    /**
     * Starts a stage host in each namespace, trains the pipeline of {@code pipeline} (its links shaped to {@code mbit})
     * twice on the first {@code warmup} micro-batches and once, timed, on all of them, and stops the hosts.
     * {@code warmup} must be fewer than all of them (see {@link Run}).
     */
    static Run run(NetworkNamespaces hosts, java.util.function.Supplier<AsyncPipelineWrapper.Builder> pipeline,
                   List<DataSet> micro, int warmup, double mbit, BoundaryCompression bc, String token, Path tokenFile)
            throws Exception {
        if (warmup < 1 || warmup >= micro.size()) {
            throw new IllegalArgumentException("warm-up of " + warmup + " micro-batches: it must be 1.."
                    + (micro.size() - 1) + ", fewer than the timed fit's " + micro.size());
        }
        List<Process> started = new ArrayList<>();
        try {
            List<String> addresses = new ArrayList<>();
            for (int k = 0; k < STAGES; k++) {
                started.add(startHost(hosts, k, tokenFile));
                addresses.add(hosts.address(k) + ":" + PORT);
            }
            AsyncPipelineWrapper.Builder b = pipeline.get().boundaryCompression(bc)
                    .processes(StageProcesses.peers(String.join(",", addresses)).token(token));
            try (AsyncPipelineWrapper w = b.build()) {
                w.fit(new ListDataSetIterator<>(micro.subList(0, warmup), 1));
                // the first fit ships fewer bytes of state (the updater's state does not exist yet), so the reference
                // for the split is a second fit of the same micro-batches
                long[] c0 = counters(hosts);
                w.fit(new ListDataSetIterator<>(micro.subList(0, warmup), 1));
                long[] c1 = counters(hosts);
                long start = System.nanoTime();
                w.fit(new ListDataSetIterator<>(micro, 1));
                long fitNanos = System.nanoTime() - start;
                long[] c2 = counters(hosts);
                PipelineMetrics m = w.metrics();
                long[] warm = new long[4];
                long[] timed = new long[4];
                for (int d = 0; d < 4; d++) {
                    warm[d] = c1[d] - c0[d];
                    timed[d] = c2[d] - c1[d];
                }
                return new Run(mbit, bc, m.throughput(), m.wallNanos() / 1e9, fitNanos / 1e9, micro.size(), timed,
                        warmup, warm);
            }
        } finally {
            for (Process p : started) {
                p.getOutputStream().close();            // the host exits when its standard input closes
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    private static long[] counters(NetworkNamespaces hosts) throws IOException, InterruptedException {
        return new long[] {hosts.sentBy(0), hosts.sentBy(1), hosts.sentTo(0), hosts.sentTo(1)};
    }

    /** {@code StageHostMain} inside namespace k, listening on its address; returns once it listens. */
    private static Process startHost(NetworkNamespaces hosts, int k, Path tokenFile) throws IOException, InterruptedException {
        List<String> java = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.asyncpipeline.process.StageHostMain",
                "--bind", hosts.address(k), "--port", String.valueOf(PORT), "--token-file", tokenFile.toString(),
                "--exit-with-parent");
        ProcessBuilder pb = new ProcessBuilder(hosts.inside(k, java)).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String line;
        while ((line = lines.readLine()) != null) {
            if (line.contains("listening on")) {
                Thread drain = new Thread(() -> {
                    try {
                        while (lines.readLine() != null) {
                            // the host's log, not needed here
                        }
                    } catch (IOException ignored) {
                        // the host ended
                    }
                }, "stage-host-" + k + "-output");
                drain.setDaemon(true);
                drain.start();
                return p;
            }
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        p.destroyForcibly();
        throw new IOException("the stage host in namespace " + k + " did not start listening (last line: " + line + ")");
    }

    private static void report(List<Run> runs, int microBatches) {
        System.out.printf("%n| link rate | boundaries | examples/s | pipeline s | fit call s | host 0 sent, MB (micro-batches)"
                + " | host 1 sent, MB (micro-batches) | busiest link use, pipeline | busiest link use, fit call |"
                + "%n|---|---|---|---|---|---|---|---|---|%n");
        for (Run r : runs) {
            System.out.printf(Locale.ROOT, "| %.0f Mbit/s | %s | %.1f | %.1f | %.1f | %.1f (%.1f) | %.1f (%.1f) | %.1f %% |"
                            + " %.1f %% |%n", r.mbit(), r.compression(), r.examplesPerSecond(), r.seconds(),
                    r.fitSeconds(), r.hostZeroSent() / 1e6, r.microBatchBytes(0) / 1e6, r.hostOneSent() / 1e6,
                    r.microBatchBytes(1) / 1e6, 100 * r.linkUse(), 100 * r.fitCallLinkUse());
        }
        System.out.printf("(%d micro-batches per timed fit. examples/s and pipeline s: the pipeline's own clock, first"
                + " micro-batch in to last update; fit call s: the whole fit call, which also ships the stage state to"
                + " the hosts and back. Host k sent: the bytes on host k's link in the fit call (its stage's messages,"
                + " its state sent back, control frames); in brackets the part its micro-batches put there (the timed"
                + " fit's bytes less the warm-up fit's, scaled by their micro-batch counts; the rest is state). Link"
                + " use: the busiest of the four link directions, over the pipeline's time with the micro-batches'"
                + " bytes, and over the fit call's time with all its bytes.)%n", microBatches);
    }

    private void write(Path dir, List<Run> runs, int microBatches) throws IOException {
        Csv csv = new Csv("mbit_per_s", "compression", "examples_per_s", "seconds", "fit_seconds", "host0_sent_bytes",
                "host1_sent_bytes", "to_host0_bytes", "to_host1_bytes", "warmup_micro_batches", "warmup_host0_sent_bytes",
                "warmup_host1_sent_bytes", "warmup_to_host0_bytes", "warmup_to_host1_bytes", "busiest_link_use",
                "busiest_link_use_fit_call");
        for (Run r : runs) {
            long[] b = r.bytes();
            long[] w = r.warmupBytes();
            csv.row(r.mbit(), r.compression(), r.examplesPerSecond(), r.seconds(), r.fitSeconds(), b[0], b[1], b[2],
                    b[3], r.warmupMicroBatches(), w[0], w[1], w[2], w[3], r.linkUse(), r.fitCallLinkUse());
        }
        csv.write(dir.resolve("shaped-links.csv"));
        Map<String, Object> resolved = new LinkedHashMap<>();
        resolved.put("model", PipelineBenchmark.TRANSFORMER.toString());
        resolved.put("micro_batches", microBatches);
        resolved.put("stages", STAGES);
        resolved.put("extra_in_flight_per_cut", extraInFlight);
        ResultFiles.writeConfiguration(dir.resolve("shaped-links.json"), spec, resolved);
        List<Plots.Series> series = new ArrayList<>();
        for (BoundaryCompression bc : BoundaryCompression.values()) {
            List<Run> mine = runs.stream().filter(r -> r.compression() == bc).toList();
            series.add(new Plots.Series(bc.name(), mine.stream().mapToDouble(r -> Math.log10(r.mbit())).toArray(),
                    mine.stream().mapToDouble(Run::examplesPerSecond).toArray()));
        }
        Plots.lines(dir.resolve("shaped-links.png"), "Transformer, 2 stage processes over shaped links",
                "link rate, log10 Mbit/s", "examples/s", series);
    }

    static String newToken() {
        return StageProcesses.randomToken();
    }
}
