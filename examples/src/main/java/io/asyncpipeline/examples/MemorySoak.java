package io.asyncpipeline.examples;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.NativeMemoryGuard;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.examples.data.EuroparlText;
import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DiscountedNadam;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Trains each case for many micro-batches and prints what the process holds every {@code --every} micro-batches:
 * resident size (peak in the window and at its end), Java heap, and JavaCPP's native bytes; then a sparkline of the
 * resident size and its growth after the first report. Each report window is one {@code fit} call on the same
 * wrapper (or the same SameDiff for {@code transformer-fit}), as a training loop with evaluations would call it.
 *
 * <p>A progress bar (or, without a console, periodic lines) on standard error follows each case's micro-batches: from
 * a DL4J listener for the MLP and CNN cases (with the training loss), from a SameDiff listener for
 * {@code transformer-fit}, and from the batches the first stage reads for the transformer pipelines (SameDiff
 * pipelines call no listener). {@code --out DIR} writes {@value #CSV} (one row per report window), {@value #JSON}
 * (the configuration) and {@value #PLOT} (resident size against micro-batches, one line per case).
 *
 * <p>With more than one case, each runs in a JVM of its own (the same java, classpath and JVM options; its output
 * passes through), so that what one case leaves resident does not count in the next; {@code --no-jvm-per-case} runs
 * them one after another in this JVM. A case whose JVM fails (killed for memory, say) is reported with its exit code,
 * the other cases still run, and the command exits with 1. With {@code --out}, each case's own files go to
 * {@code DIR/<case>/} and the combined CSV and plot to {@code DIR}.
 */
@Command(name = "MemorySoak", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Memory over a long run: resident size, heap and native bytes per report window.")
public final class MemorySoak implements Callable<Integer> {

    static final List<String> CASES = List.of("mlp", "cnn", "transformer-stash", "transformer-nostash", "transformer-fit",
            "mlp-fit");
    static final String CSV = "soak.csv";
    static final String JSON = "soak.json";
    static final String PLOT = "soak-rss.png";

    @Option(names = "--cases", split = ",", paramLabel = "<case>", completionCandidates = CaseNames.class,
            description = "comma-separated, from ${COMPLETION-CANDIDATES}. Default: all")
    List<String> cases = CASES;

    @Option(names = "--micro-batches", description = "micro-batches per case. Default: ${DEFAULT-VALUE}")
    int microBatches = 10_000;

    @Option(names = "--every", description = "micro-batches per report window (one fit call). Default: ${DEFAULT-VALUE}")
    int every = 1_000;

    @Option(names = "--gc-budget-mb", description = "the pipelines' offHeapGcBudget in MB (-1: the library's default)."
            + " Default: ${DEFAULT-VALUE}")
    long gcBudgetMb = -1;

    // picocli negates a negatable flag relative to its annotated default: with a field initialiser of true instead,
    // --no-guard-plain-fit left the guard on and --guard-plain-fit switched it off
    @Option(names = "--guard-plain-fit", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "run the plain-fit cases (mlp-fit, transformer-fit) inside the library's NativeMemoryGuard."
                    + " Default: ${DEFAULT-VALUE}")
    boolean guardPlainFit;

    @Option(names = "--jvm-per-case", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "with more than one case, run each in a JVM of its own (this java, classpath and JVM options),"
                    + " so that no case's memory counts in the next one's. Default: ${DEFAULT-VALUE}")
    boolean jvmPerCase;

    /** Set by the parent on each case's JVM: it ends when the parent does, even one killed outright. */
    @Option(names = "--parent-pid", hidden = true)
    long parentPid = -1;

    /** Test hook: the JVM of this case halts with exit code 137 (as if killed) before its first window. */
    @Option(names = "--halt-case", hidden = true)
    String haltCase;

    @Option(names = "--out", paramLabel = "DIR", description = "write " + CSV + " (one row per report window), " + JSON
            + " (the configuration) and " + PLOT + " into DIR, created if missing. Default: none")
    Path out;

    @Spec
    CommandSpec spec;

    static final class CaseNames extends ArrayList<String> {
        CaseNames() {
            super(CASES);
        }
    }

    /** One case: a name and a trainer that fits {@code n} more micro-batches per call. */
    record Case(String name, String what, IntFunction<Runnable> window) {
    }

    /** One report window, in bytes (-1 where /proc is not available) and seconds since the case started. */
    record Row(String caseName, long microBatches, long peakRss, long medianRss, long rss, long heap, long nativeBytes,
               long physical, double seconds, Detail detail) {

        Row(String caseName, long microBatches, long peakRss, long medianRss, long rss, long heap, long nativeBytes,
            long physical, double seconds) {
            this(caseName, microBatches, peakRss, medianRss, rss, heap, nativeBytes, physical, seconds, Detail.NONE);
        }
    }

    /**
     * Where a window's resident size sits, at its end (bytes, -1 where unknown): Java heap committed, non-heap committed,
     * the resident size's anonymous and file-backed parts; and what the JVM's memory pacing has done so far
     * ({@link NativeMemoryGuard#activity()}): collections, steady-level cycles, trims, bytes trimmed.
     */
    record Detail(long heapCommitted, long nonHeapCommitted, long rssAnon, long rssFile, long collections,
                  long steadyLevelCycles, long trims, long trimmedBytes) {
        static final Detail NONE = new Detail(-1, -1, -1, -1, -1, -1, -1, -1);

        static Detail of(MemoryProbe.Reading r, NativeMemoryGuard.Activity a) {
            return new Detail(r.heapCommitted(), r.nonHeapCommitted(), r.rssAnon(), r.rssFile(), a.collections(),
                    a.steadyLevelCycles(), a.trims(), a.trimmedBytes());
        }

        long[] values() {
            return new long[]{heapCommitted, nonHeapCommitted, rssAnon, rssFile, collections, steadyLevelCycles, trims,
                    trimmedBytes};
        }
    }

    static final List<String> DETAIL_COLUMNS = List.of("heap_committed_bytes", "nonheap_committed_bytes",
            "rss_anon_bytes", "rss_file_bytes", "collections", "steady_level_cycles", "trims", "trimmed_bytes");

    public static void main(String[] args) {
        System.exit(Cli.execute(new MemorySoak(), args));
    }

    @Override
    public Integer call() {
        if (microBatches < every || every < 1) {
            throw Cli.invalid(spec, "--every must be in 1..--micro-batches (" + microBatches + "), got " + every);
        }
        for (String c : cases) {
            if (!CASES.contains(c)) {
                throw Cli.invalid(spec, "--cases: unknown case '" + c + "', choose from " + CASES);
            }
        }
        System.out.printf(Locale.ROOT, "MemorySoak: %d micro-batches per case, report every %d; max heap %s MB, JavaCPP"
                + " maxBytes %s MB, maxPhysicalBytes %s MB, MALLOC_ARENA_MAX=%s%n", microBatches, every,
                MemoryProbe.mb(Runtime.getRuntime().maxMemory()), MemoryProbe.mb(org.bytedeco.javacpp.Pointer.maxBytes()),
                MemoryProbe.mb(org.bytedeco.javacpp.Pointer.maxPhysicalBytes()), System.getenv("MALLOC_ARENA_MAX"));
        Path dir = out == null ? null : ResultFiles.directory(spec, out);
        if (dir != null) {
            Map<String, Object> resolved = new LinkedHashMap<>();
            resolved.put("javacppMaxBytes", org.bytedeco.javacpp.Pointer.maxBytes());
            resolved.put("javacppMaxPhysicalBytes", org.bytedeco.javacpp.Pointer.maxPhysicalBytes());
            ResultFiles.writeConfiguration(dir.resolve(JSON), spec, resolved);
        }
        if (parentPid > 0) {
            ProcessHandle.of(parentPid).ifPresentOrElse(h -> h.onExit().thenRun(() -> Runtime.getRuntime().halt(143)),
                    () -> Runtime.getRuntime().halt(143));
        }
        List<String> summary = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        if (jvmPerCase && cases.size() > 1) {
            for (String c : cases) {
                String failure = inOwnJvm(c, dir, rows);
                if (failure != null) {
                    failed.add(failure);
                    summary.add(String.format(Locale.ROOT, "%-21s %s", c, failure));
                } else {
                    summary.add(summaryLine(c, rows.stream().filter(r -> r.caseName().equals(c)).toList()));
                }
                if (dir != null) {
                    writeCsv(dir.resolve(CSV), rows);
                    writePlot(dir.resolve(PLOT), rows);
                }
            }
        } else {
            try (MemoryProbe probe = new MemoryProbe()) {
                for (String c : cases) {
                    if (c.equals(haltCase)) {
                        Runtime.getRuntime().halt(137);
                    }
                    try (Progress progress = Progress.start(c, microBatches, "micro-batches")) {
                        summary.add(soak(build(c, progress), probe, row -> {
                            rows.add(row);
                            if (dir != null) {
                                writeCsv(dir.resolve(CSV), rows);      // after every window: a stopped soak keeps its rows
                            }
                        }));
                    }
                    if (dir != null) {
                        writePlot(dir.resolve(PLOT), rows);
                    }
                }
            }
        }
        if (dir != null) {
            System.out.println("\nresults written to " + dir.toAbsolutePath() + ": " + CSV + ", " + JSON + ", " + PLOT);
        }
        System.out.println("\ncase                  peak RSS MB  median RSS, window 2, MB  median RSS, last window, MB  growth after first window");
        summary.forEach(System.out::println);
        if (!failed.isEmpty()) {
            System.err.println("MemorySoak: " + failed.size() + " of " + cases.size() + " cases failed: "
                    + String.join("; ", failed));
            return 1;
        }
        return 0;
    }

    /**
     * Runs case {@code c} in a JVM of its own (this JVM's java, classpath and options, its output passed through), then
     * adds the rows it wrote to {@code rows}. Returns null, or what went wrong.
     */
    private String inOwnJvm(String c, Path dir, List<Row> rows) {
        Path caseDir;
        try {
            caseDir = dir != null ? dir.resolve(c) : Files.createTempDirectory("memory-soak-" + c);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for case " + c, e);
        }
        try {
            Files.deleteIfExists(caseDir.resolve(CSV));        // an earlier soak's rows must not pass for this one's
            Files.deleteIfExists(caseDir.resolve(JSON));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + caseDir, e);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-agentlib:jdwp") && !a.startsWith("-Xrunjdwp")).forEach(cmd::add);
        String progressMode = System.getProperty(Progress.PROPERTY);
        if (progressMode != null) {
            cmd.add("-D" + Progress.PROPERTY + "=" + progressMode);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MemorySoak.class.getName(), "--cases", c,
                "--micro-batches", Integer.toString(microBatches), "--every", Integer.toString(every),
                guardPlainFit ? "--guard-plain-fit" : "--no-guard-plain-fit", "--out", caseDir.toString(),
                "--parent-pid", Long.toString(ProcessHandle.current().pid())));
        if (gcBudgetMb >= 0) {
            cmd.addAll(List.of("--gc-budget-mb", Long.toString(gcBudgetMb)));
        }
        if (haltCase != null) {
            cmd.addAll(List.of("--halt-case", haltCase));
        }
        System.out.println("\n-- case " + c + " in a JVM of its own --");
        System.out.flush();
        Process p;
        try {
            p = new ProcessBuilder(cmd).inheritIO().start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a JVM for case " + c + " (" + cmd.get(0) + ")", e);
        }
        Thread stop = new Thread(p::destroy, "memory-soak-stop-" + c);
        Runtime.getRuntime().addShutdownHook(stop);
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while case " + c + " ran", e);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stop);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs
            }
        }
        Path csv = caseDir.resolve(CSV);
        List<Row> caseRows;
        try {
            caseRows = Files.exists(csv) ? readCsv(csv) : List.of();
            if (dir == null) {
                try (java.util.stream.Stream<Path> files = Files.list(caseDir)) {
                    for (Path f : files.toList()) {
                        Files.delete(f);
                    }
                }
                Files.delete(caseDir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read case " + c + "'s rows from " + csv, e);
        }
        rows.addAll(caseRows);
        if (code != 0) {
            return String.format(Locale.ROOT, "case %s: its JVM exited with code %d%s after %d of %d windows", c, code,
                    code == 137 ? " (killed: SIGKILL, as the kernel's out-of-memory killer sends)" : "", caseRows.size(),
                    microBatches / every);
        }
        return null;
    }

    /** The summary line of one case from its rows: peak, window 2's and the last window's median, growth between. */
    static String summaryLine(String name, List<Row> rows) {
        if (rows.isEmpty()) {
            return String.format(Locale.ROOT, "%-21s no windows", name);
        }
        long peak = rows.stream().mapToLong(Row::peakRss).max().orElse(-1);
        int base = Math.min(1, rows.size() - 1);
        long first = rows.get(base).medianRss();
        long last = rows.get(rows.size() - 1).medianRss();
        double growth = rows.size() > 1 ? (last - first) / (double) first : 0;
        return String.format(Locale.ROOT, "%-21s %11s %26s %13s %+25.1f%%", name, MemoryProbe.mb(peak),
                MemoryProbe.mb(first), MemoryProbe.mb(last), 100 * growth);
    }

    private String soak(Case c, MemoryProbe probe, java.util.function.Consumer<Row> measured) {
        System.out.printf(Locale.ROOT, "%n== %s: %s ==%n%12s %9s %10s %8s %8s %10s %11s %8s%n", c.name(), c.what(),
                "micro-batches", "peak RSS", "median RSS", "RSS", "heap", "native", "physical", "seconds");
        int windows = microBatches / every;
        long[] rss = new long[windows];
        long peak = 0;
        List<Row> caseRows = new ArrayList<>();
        probe.takeWindow();
        long t0 = System.nanoTime();
        for (int w = 0; w < windows; w++) {
            c.window().apply(w).run();
            MemoryProbe.Reading r = MemoryProbe.Reading.now();
            long[] window = probe.takeWindow();
            peak = Math.max(peak, window[0]);
            rss[w] = window[1];
            double seconds = (System.nanoTime() - t0) / 1e9;
            NativeMemoryGuard.Activity a = NativeMemoryGuard.activity();
            Row row = new Row(c.name(), (long) (w + 1) * every, window[0], window[1], r.rss(), r.heap(),
                    r.nativeBytes(), r.physical(), seconds, Detail.of(r, a));
            caseRows.add(row);
            measured.accept(row);
            System.out.printf(Locale.ROOT, "%12d %9s %10s %8s %8s %10s %11s %8.0f   heap committed %s, non-heap %s,"
                            + " RSS anon %s + file %s; pacing so far: %d collections (%d steady-level), %d trims (%s MB)%n",
                    (w + 1) * every, MemoryProbe.mb(window[0]), MemoryProbe.mb(window[1]), MemoryProbe.mb(r.rss()),
                    MemoryProbe.mb(r.heap()), MemoryProbe.mb(r.nativeBytes()), MemoryProbe.mb(r.physical()), seconds,
                    MemoryProbe.mb(r.heapCommitted()), MemoryProbe.mb(r.nonHeapCommitted()), MemoryProbe.mb(r.rssAnon()),
                    MemoryProbe.mb(r.rssFile()), a.collections(), a.steadyLevelCycles(), a.trims(),
                    MemoryProbe.mb(a.trimmedBytes()));
        }
        // growth after warm-up: the median resident size of the last window against that of the window that follows
        // the first one (window 1 holds the warm-up itself)
        int base = Math.min(1, windows - 1);
        double growth = windows > 1 ? (rss[windows - 1] - rss[base]) / (double) rss[base] : 0;
        System.out.printf(Locale.ROOT, "median RSS per window %s  peak %s MB, growth after the first window %+.1f%%%n",
                MemoryProbe.sparkline(rss), MemoryProbe.mb(peak), 100 * growth);
        return summaryLine(c.name(), caseRows);
    }

    /** The case {@code name}, reporting its micro-batches to {@code progress}. */
    private Case build(String name, Progress progress) {
        return switch (name) {
            case "mlp" -> imageCase(name, "MLP 784-1024x4-10, 2 async stages, batch 64",
                    () -> Models.mlp(DiscountedNadam.builder().learningRate(1e-3).build(), 4, 1024, 1), progress);
            case "cnn" -> imageCase(name, "CNN, 2 async stages, batch 64",
                    () -> Models.cnn(DiscountedNadam.builder().learningRate(1e-3).build(), 1), progress);
            case "transformer-stash" -> transformerCase(name, true, progress);
            case "transformer-nostash" -> transformerCase(name, false, progress);
            case "transformer-fit" -> transformerFitCase(name, progress);
            case "mlp-fit" -> plainFitCase(name, progress);
            default -> throw new IllegalArgumentException(name);
        };
    }

    private Case imageCase(String name, String what, java.util.function.Supplier<org.deeplearning4j.nn.multilayer.MultiLayerNetwork> net,
                           Progress progress) {
        FashionMnist data = new FashionMnist();
        data.requireAvailable();
        List<DataSet> batches = data.load(FashionMnist.Split.TRAIN, 6144, FashionMnist.Layout.FLAT).batchBy(64);
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork model = net.get();
        model.setListeners(progress.trainingListener(64));       // called from the last stage's thread
        AsyncPipelineWrapper w = budget(new AsyncPipelineWrapper.Builder(model).stages(2).profileWith(batches.get(0))
                .schedule(Schedule.ASYNC_1F1B)).build();                  // balanced by measured layer time
        return new Case(name, what + ", partition " + java.util.Arrays.toString(w.partition()),
                window -> () -> w.fit(cycle(batches, window * every, every)));
    }

    /** The MLP of the "mlp" case trained with plain {@code net.fit}: the reference without a pipeline. */
    private Case plainFitCase(String name, Progress progress) {
        FashionMnist data = new FashionMnist();
        data.requireAvailable();
        List<DataSet> batches = data.load(FashionMnist.Split.TRAIN, 6144, FashionMnist.Layout.FLAT).batchBy(64);
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net = Models.mlp(DiscountedNadam.builder().learningRate(1e-3).build(),
                4, 1024, 1);
        net.setListeners(progress.trainingListener(64));
        return new Case(name, "MLP 784-1024x4-10, plain net.fit, batch 64" + guarded(), window -> () -> guard(
                () -> net.fit(cycle(batches, window * every, every))));
    }

    /** The TransformerComparison default model: 8 blocks, d 64, 4 heads, context 64, on Europarl characters. */
    static TransformerConfig transformer() {
        return TransformerConfig.builder().vocabSize(EuroparlText.VOCAB_SIZE).contextLength(64).modelDim(64).heads(4)
                .layers(8).tiedOutputHead(false).seed(7).dataType(DataType.FLOAT).build();
    }

    private Case transformerCase(String name, boolean stash, Progress progress) {
        TransformerConfig c = transformer();
        EuroparlText text = EuroparlText.load(0.1);
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(DiscountedNadam.builder().learningRate(5e-4).build()));
        AsyncPipelineWrapper w = budget(new AsyncPipelineWrapper.Builder(sd).cutAfter(DecoderTransformer.blockCuts(c))
                .schedule(Schedule.ASYNC_1F1B).weightStashing(stash)).build();
        return new Case(name, "8-block transformer, 8 async stages, " + (stash ? "with" : "without") + " stashing, batch 16",
                window -> () -> w.fit(progress.counting(
                        text.trainIterator(every, 16, 64, 1000L + window, DataType.FLOAT))));
    }

    private Case transformerFitCase(String name, Progress progress) {
        TransformerConfig c = transformer();
        EuroparlText text = EuroparlText.load(0.1);
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(DiscountedNadam.builder().learningRate(5e-4).build()));
        DecoderTransformer.prepareForFit(sd);
        sd.addListeners(progress.sameDiffListener());
        return new Case(name, "8-block transformer, plain sd.fit, batch 64" + guarded(), window -> () -> guard(
                () -> sd.fit(text.trainIterator(every, 64, 64, 2000L + window, DataType.FLOAT), 1)));
    }

    private String guarded() {
        return guardPlainFit ? ", inside NativeMemoryGuard" : ", no guard";
    }

    private void guard(Runnable fit) {
        if (!guardPlainFit) {
            fit.run();
            return;
        }
        try (NativeMemoryGuard g = NativeMemoryGuard.open()) {
            fit.run();
        }
    }

    private AsyncPipelineWrapper.Builder budget(AsyncPipelineWrapper.Builder b) {
        return gcBudgetMb < 0 ? b : b.offHeapGcBudget(gcBudgetMb << 20);
    }

    private static DataSetIterator cycle(List<DataSet> batches, int from, int n) {
        List<DataSet> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(batches.get((from + i) % batches.size()));
        }
        return new ListDataSetIterator<>(out, 1);
    }

    /** {@value #CSV}: one row per report window of every case so far. */
    static void writeCsv(Path file, List<Row> rows) {
        List<String> header = new ArrayList<>(List.of("case", "micro_batches", "peak_rss_bytes", "median_rss_bytes",
                "rss_bytes", "heap_bytes", "native_bytes", "physical_bytes", "seconds"));
        header.addAll(DETAIL_COLUMNS);
        Csv csv = new Csv(header.toArray(String[]::new));
        for (Row r : rows) {
            List<Object> cells = new ArrayList<>(List.of(r.caseName(), r.microBatches(), r.peakRss(), r.medianRss(),
                    r.rss(), r.heap(), r.nativeBytes(), r.physical(), r.seconds()));
            for (long v : r.detail().values()) {
                cells.add(v);
            }
            csv.row(cells.toArray());
        }
        try {
            csv.write(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Reads back a {@value #CSV} that {@link #writeCsv} wrote. */
    static List<Row> readCsv(Path file) throws IOException {
        List<Row> rows = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] v = line.split(",", -1);
            int full = 9 + DETAIL_COLUMNS.size();
            if (v.length != 9 && v.length != full) {       // 9: written before the detail columns
                throw new IOException(file + ": a row of " + v.length + " cells, not " + full + ": " + line);
            }
            Detail d = Detail.NONE;
            if (v.length == full) {
                long[] x = new long[DETAIL_COLUMNS.size()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = Long.parseLong(v[9 + i]);
                }
                d = new Detail(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]);
            }
            rows.add(new Row(v[0], Long.parseLong(v[1]), Long.parseLong(v[2]), Long.parseLong(v[3]), Long.parseLong(v[4]),
                    Long.parseLong(v[5]), Long.parseLong(v[6]), Long.parseLong(v[7]), Double.parseDouble(v[8]), d));
        }
        return rows;
    }

    /** {@value #PLOT}: resident size (MB) against micro-batches, one line per case (windows without /proc left out). */
    static void writePlot(Path file, List<Row> rows) {
        Map<String, List<Row>> byCase = new LinkedHashMap<>();
        for (Row r : rows) {
            if (r.rss() >= 0) {
                byCase.computeIfAbsent(r.caseName(), k -> new ArrayList<>()).add(r);
            }
        }
        List<Plots.Series> series = new ArrayList<>();
        byCase.forEach((name, list) -> series.add(new Plots.Series(name,
                list.stream().mapToDouble(Row::microBatches).toArray(),
                list.stream().mapToDouble(r -> r.medianRss() / 1e6).toArray())));
        if (series.isEmpty()) {
            return;
        }
        Plots.lines(file, "Median resident size of each report window", "micro-batches", "RSS (MB)", series);
    }
}
