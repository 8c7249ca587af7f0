package io.asyncpipeline.examples;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.schedule.Schedules;
import io.asyncpipeline.schedule.StagePlan;
import io.asyncpipeline.schedule.TimingSimulator;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DiscountedNadam;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Throughput of plain fit ({@code net.fit} / {@code sd.fit}), GPIPE (M = 4) and ASYNC_1F1B on two stages,
 * side by side in one JVM: a balanced MLP and a CNN on Fashion-MNIST, and a SameDiff decoder-only
 * transformer on random token sequences. Prints median examples/s over rounds, the ratios to plain fit,
 * per-stage utilisation, and the timing simulator's prediction from the measured op costs.
 *
 * <pre>./examples/run.sh io.asyncpipeline.examples.PipelineBenchmark [--models mlp,cnn,transformer]
 *     [--examples N] [--batch B] [--rounds 3] [--hidden 4] [--stash true]
 *     [--compare-parallel-wrapper [--epochs 2] [--test 5000]] [--out DIR]</pre>
 *
 * {@code --examples} and {@code --batch} (examples per micro-batch; GPIPE mini-batches hold M of them) apply
 * to every selected model; omitted, images default to 6144 / 64 and transformer sequences to
 * 256 / 8. The transformer ({@link #TRANSFORMER}: vocabulary 96, T = 64, d = 128, 4 heads, 4 blocks,
 * untied head, FLOAT) is cut by {@code stages(2)} alone (automatic cuts by estimated op cost); an example
 * is one sequence of T tokens with next-token targets. All three models run by default (the transformer
 * adds about a fifth to the run); Fashion-MNIST is loaded only for the MLP and the CNN.
 *
 * <p>{@code --compare-parallel-wrapper} adds, for the MLP and the CNN, {@link ParallelWrapperComparison}: plain fit,
 * DL4J's ParallelWrapper (2 workers: averaging every 1 and every 5 iterations, shared gradients), GPIPE and ASYNC_1F1B
 * trained from the same initial network for {@code --epochs} epochs on the same batches, with examples/s and the test
 * accuracy on {@code --test} test images, printed as a Markdown table.
 *
 * <p>A progress bar (or, without a console, periodic lines) on standard error counts the timed fits (models × rounds
 * × 4, plus compared models × rounds × 6). {@code --out DIR} writes {@value #CSV} (one row per timed fit),
 * {@value #JSON} (the configuration), and PNG bars of the median throughput per model ({@value #PLOT_THROUGHPUT}), of
 * the last round's per-stage utilisation ({@value #PLOT_UTILISATION}) and, with the comparison, of its throughput and
 * accuracy per model ({@code benchmark-parallel-wrapper-<model>.png}); its pipelines then record their timelines
 * (two clock reads per channel hand-off) and the last round's are written as Chrome traces
 * ({@code trace-<model>-gpipe.json}, {@code trace-<model>-async.json}). {@code --help} lists the options; exit codes
 * as in {@link Cli}.
 */
@Command(name = "PipelineBenchmark", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Throughput of plain fit, GPIPE (M = 4) and ASYNC_1F1B on 2 stages: MLP and CNN on Fashion-MNIST,"
                + " a SameDiff transformer on random tokens. Median examples/s over rounds, utilisation, simulator.")
public final class PipelineBenchmark implements Callable<Integer> {

    static final int STAGES = 2;
    static final int M = 4;
    static final List<String> MODELS = List.of("mlp", "cnn", "transformer");
    static final TransformerConfig TRANSFORMER = TransformerConfig.builder().vocabSize(96).contextLength(64).modelDim(128)
            .heads(4).layers(4).tiedOutputHead(false).dataType(DataType.FLOAT).build();
    static final long TOKEN_SEED = 7;
    static final String CSV = "benchmark.csv";
    static final String JSON = "benchmark.json";
    static final String PLOT_THROUGHPUT = "benchmark-throughput.png";
    static final String PLOT_UTILISATION = "benchmark-utilisation.png";
    /** The timed fits of one round, in order, as the CSV names them. */
    static final List<String> MODES = List.of("plain", "plain-mini", "GPIPE", "ASYNC_1F1B");
    /** The CSV's {@code table} column: rows of the throughput table, and of the ParallelWrapper comparison. */
    static final String TABLE_THROUGHPUT = "throughput";
    static final String TABLE_PARALLEL_WRAPPER = "parallel-wrapper";
    /** The comparison's plot of one model: this prefix, the model, ".png". */
    static final String PLOT_PARALLEL_WRAPPER = "benchmark-parallel-wrapper-";
    /** The models the ParallelWrapper comparison accepts (MultiLayerNetworks). */
    static final List<String> COMPARED_MODELS = List.of("mlp", "cnn");

    @Option(names = "--models", split = ",", paramLabel = "<model>", defaultValue = "mlp,cnn,transformer",
            completionCandidates = ModelNames.class,
            description = "comma-separated, from ${COMPLETION-CANDIDATES} (any case; repeats count once)."
                    + " Default: ${DEFAULT-VALUE}")
    List<String> models;

    @Option(names = "--examples", description = "examples per run, for every selected model."
            + " Default: 6144 images, 256 transformer sequences")
    Integer examples;

    @Option(names = "--batch", description = "examples per micro-batch (a GPIPE mini-batch holds " + M + "), for every"
            + " selected model. Default: 64 images, 8 transformer sequences")
    Integer batch;

    @Option(names = "--rounds", description = "rounds; the median is reported. Default: ${DEFAULT-VALUE}")
    int rounds = 3;

    @Option(names = "--hidden", description = "hidden layers of the MLP (1024 wide). Default: ${DEFAULT-VALUE}")
    int hidden = 4;

    @Option(names = "--stash", arity = "1", converter = TrueOrFalse.class,
            description = "weight stashing for ASYNC_1F1B: true or false. Default: ${DEFAULT-VALUE}")
    boolean stash = true;

    @Option(names = "--compare-parallel-wrapper", description = "also compare plain fit, DL4J's ParallelWrapper"
            + " (2 workers: averaging every 1 and every 5 iterations, shared gradients), GPIPE and ASYNC_1F1B over --epochs"
            + " epochs on the same batches, with examples/s and test accuracy; for the models mlp and cnn")
    boolean compareParallelWrapper;

    @Option(names = "--epochs", description = "epochs of the ParallelWrapper comparison (with --compare-parallel-wrapper)."
            + " Default: ${DEFAULT-VALUE}")
    int epochs = 2;

    @Option(names = "--test", description = "Fashion-MNIST test images for the comparison's accuracy (with"
            + " --compare-parallel-wrapper), at most 10000. Default: ${DEFAULT-VALUE}")
    int test = 5000;

    @Option(names = "--out", paramLabel = "DIR", description = "write " + CSV + " (one row per timed fit), " + JSON
            + " (the configuration) and PNG bar charts of throughput and utilisation (and of the ParallelWrapper"
            + " comparison's throughput and accuracy), and the last round's pipeline timelines as Chrome traces"
            + " (trace-<model>-gpipe.json, trace-<model>-async.json) into DIR, created if missing. Default: none")
    Path out;

    @Spec
    CommandSpec spec;

    static final class ModelNames extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        ModelNames() {
            super(MODELS);
        }
    }

    /** Exactly {@code true} or {@code false}. */
    static final class TrueOrFalse implements CommandLine.ITypeConverter<Boolean> {
        @Override
        public Boolean convert(String value) {
            return switch (value) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new CommandLine.TypeConversionException("expected true or false but was '" + value + "'");
            };
        }
    }

    /**
     * Checked options; {@code examples} and {@code batch} are null when not given (per-model defaults);
     * {@code compare} is {@code --compare-parallel-wrapper}, with its {@code epochs} and {@code test} images.
     */
    record Options(Integer examples, Integer batch, int rounds, List<String> models, int hidden, boolean stash,
                   boolean compare, int epochs, int test, boolean trace) {

        /** Whether the ParallelWrapper comparison runs for {@code model}. */
        boolean compares(String model) {
            return compare && COMPARED_MODELS.contains(model);
        }

        /** Examples per run: images (6144) or transformer sequences (256) unless {@code --examples} is given. */
        int examples(boolean sequences) {
            return examples != null ? examples : sequences ? 256 : 6144;
        }

        /** Examples per micro-batch: 64 images or 8 sequences unless {@code --batch} is given. */
        int batch(boolean sequences) {
            return batch != null ? batch : sequences ? 8 : 64;
        }
    }

    /**
     * The parsed options, checked: known model names (lower-cased, repeats dropped), at least one round and one
     * hidden layer, at least one GPIPE mini-batch per model; {@code --compare-parallel-wrapper} with mlp or cnn among
     * the models, {@code --epochs} and {@code --test} only with it (at least 1; test images at most 10000). A usage
     * error otherwise.
     */
    Options options() {
        List<String> names = new ArrayList<>();
        for (String m : models) {
            String name = m.trim().toLowerCase(java.util.Locale.ROOT);
            if (!MODELS.contains(name)) {
                throw Cli.invalid(spec, "--models: unknown model '" + m.trim() + "', choose from " + MODELS);
            }
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        if (compareParallelWrapper && names.stream().noneMatch(COMPARED_MODELS::contains)) {
            throw Cli.invalid(spec, "--compare-parallel-wrapper needs --models mlp and/or cnn (ParallelWrapper trains"
                    + " MultiLayerNetworks; the transformer is a SameDiff graph), got --models " + String.join(",", names));
        }
        for (String option : new String[] {"--epochs", "--test"}) {
            if (!compareParallelWrapper && given(option)) {
                throw Cli.invalid(spec, option + " applies to the ParallelWrapper comparison only: add --compare-parallel-wrapper");
            }
        }
        if (test > FashionMnist.Split.TEST.size()) {
            throw Cli.invalid(spec, "--test must be at most " + FashionMnist.Split.TEST.size() + " (the test split), got " + test);
        }
        Options o = new Options(examples, batch, Cli.positive(spec, "--rounds", rounds), List.copyOf(names),
                Cli.positive(spec, "--hidden", hidden), stash, compareParallelWrapper, Cli.positive(spec, "--epochs", epochs),
                Cli.positive(spec, "--test", test), out != null);
        for (String m : names) {
            boolean seq = m.equals("transformer");
            if (o.batch(seq) < 1 || o.examples(seq) < o.batch(seq) * M) {
                throw Cli.invalid(spec, "need --batch >= 1 and --examples >= batch * M (one GPIPE mini-batch),"
                        + " got --examples " + o.examples(seq) + " --batch " + o.batch(seq) + " for " + m);
            }
        }
        return o;
    }

    /** Whether {@code option} was on the command line (not only its default). */
    private boolean given(String option) {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        return parsed != null && parsed.hasMatchedOption(option);
    }

    /**
     * A model under test: its label, its plain fit on a list of batches (examples/s, on a fresh model), and a
     * pipeline builder on a fresh model, already cut.
     */
    record Case(String name, ToDoubleFunction<List<DataSet>> plainRate, Supplier<AsyncPipelineWrapper.Builder> pipeline) {
    }

    /** Median rates of one case; metrics of the last round; every round. */
    record Result(double plain, double plainMini, double gpipe, double async, PipelineMetrics gpipeMetrics,
                  PipelineMetrics asyncMetrics, List<Round> rounds) {
    }

    /** The rates (examples/s) of one round, and its pipelines' metrics. */
    record Round(double plain, double plainMini, double gpipe, double async, PipelineMetrics gpipeMetrics,
                 PipelineMetrics asyncMetrics) {

        /** The rate of {@code MODES.get(i)}. */
        double rate(int i) {
            return switch (i) {
                case 0 -> plain;
                case 1 -> plainMini;
                case 2 -> gpipe;
                case 3 -> async;
                default -> throw new IndexOutOfBoundsException(i);
            };
        }

        /** The metrics of {@code MODES.get(i)}, null for plain fit. */
        PipelineMetrics metrics(int i) {
            return i == 2 ? gpipeMetrics : i == 3 ? asyncMetrics : null;
        }
    }

    /** One model's result, as the files report it; {@code comparison} is null without {@code --compare-parallel-wrapper}. */
    record Measured(String model, String description, int batch, long examples, Result result,
                    ParallelWrapperComparison.Result comparison) {

        Measured(String model, String description, int batch, long examples, Result result) {
            this(model, description, batch, examples, result, null);
        }
    }

    public static void main(String[] args) {
        System.exit(Cli.execute(new PipelineBenchmark(), args));
    }

    @Override
    public Integer call() {
        Options o = options();
        Path dir = out == null ? null : ResultFiles.directory(spec, out);
        if (dir != null) {
            Map<String, Object> resolved = new LinkedHashMap<>();
            resolved.put("stages", STAGES);
            resolved.put("microBatchesPerMiniBatch", M);
            for (String m : o.models()) {
                boolean seq = m.equals("transformer");
                Map<String, Object> sizes = new LinkedHashMap<>();
                sizes.put("examples", o.examples(seq));
                sizes.put("batch", o.batch(seq));
                resolved.put(m, sizes);
            }
            if (o.compare()) {
                Map<String, Object> pw = new LinkedHashMap<>();
                pw.put("models", o.models().stream().filter(o::compares).toList());
                pw.put("epochs", o.epochs());
                pw.put("testImages", o.test());
                pw.put("workers", ParallelWrapperComparison.WORKERS);
                pw.put("prefetch", ParallelWrapperComparison.PREFETCH);
                pw.put("orderSeed", ParallelWrapperComparison.ORDER_SEED);
                pw.put("variants", Arrays.stream(ParallelWrapperComparison.Variant.values()).map(v -> v.csv).toList());
                resolved.put("parallelWrapperComparison", pw);
            }
            ResultFiles.writeConfiguration(dir.resolve(JSON), spec, resolved);
        }
        System.out.printf("PipelineBenchmark: P=%d, GPIPE M=%d, %d rounds, stashing %s, %d cores%n", STAGES, M, o.rounds(),
                o.stash(), Runtime.getRuntime().availableProcessors());
        DataSet images = null;
        DataSet test = null;
        if (o.models().contains("mlp") || o.models().contains("cnn")) {
            FashionMnist data = new FashionMnist();
            data.requireAvailable();
            images = data.load(FashionMnist.Split.TRAIN, o.examples(false), FashionMnist.Layout.FLAT);
            if (o.compare()) {
                test = data.load(FashionMnist.Split.TEST, o.test(), FashionMnist.Layout.FLAT);
            }
        }
        long compared = o.models().stream().filter(o::compares).count();
        long fits = (long) o.models().size() * o.rounds() * MODES.size()
                + compared * o.rounds() * ParallelWrapperComparison.Variant.values().length;
        List<Measured> measured = new ArrayList<>();
        try (Progress progress = Progress.start("PipelineBenchmark", fits, "timed fits")) {
            for (String model : o.models()) {
                Measured m = switch (model) {
                    case "mlp" -> {
                        int hidden = o.hidden();
                        yield images(model, "MLP 784-1024x" + hidden + "-10",
                                () -> Models.mlp(DiscountedNadam.builder().build(), hidden, 1024, 1), images, test, o,
                                progress);
                    }
                    case "cnn" -> images(model, "CNN conv16-conv32-pool-conv32-conv64-pool-128",
                            () -> Models.cnn(DiscountedNadam.builder().build(), 1), images, test, o, progress);
                    case "transformer" -> {
                        INDArray ids = tokenIds(o.examples(true), TRANSFORMER, TOKEN_SEED);
                        List<DataSet> micro = sequenceBatches(ids, o.batch(true), TRANSFORMER);
                        yield run(model, transformer(TRANSFORMER, micro.get(0)), micro,
                                sequenceBatches(ids, o.batch(true) * M, TRANSFORMER),
                                "random token sequences of " + TRANSFORMER.contextLength() + " (seed " + TOKEN_SEED + ")",
                                o, progress);
                    }
                    default -> throw new IllegalStateException(model);
                };
                measured.add(m);
                if (dir != null) {
                    writeResults(dir, measured);        // after every model, so an interrupted run keeps what it has
                }
            }
        }
        if (dir != null) {
            StringBuilder comparisonPlots = new StringBuilder();
            for (Measured m : measured) {
                if (m.comparison() != null) {
                    comparisonPlots.append(", ").append(PLOT_PARALLEL_WRAPPER).append(m.model()).append(".png");
                }
            }
            System.out.println("\nresults written to " + dir.toAbsolutePath() + ": " + CSV + ", " + JSON + ", "
                    + PLOT_THROUGHPUT + ", " + PLOT_UTILISATION + comparisonPlots + ", trace-<model>-<gpipe|async>.json");
        }
        return Cli.OK;
    }

    private static Measured run(String model, Case c, List<DataSet> micro, List<DataSet> mini, String data, Options o,
                                Progress progress) {
        Result r = measure(c, micro, mini, o.rounds(), o.stash(), o.trace(), progress);
        report(c.name(), r, micro, mini, data);
        return new Measured(model, c.name(), micro.get(0).numExamples(), examples(micro), r);
    }

    /**
     * An image model: the throughput table on micro- and mini-batches of {@code images}, partitioned once by measured
     * layer time on the first image; then, with {@code --compare-parallel-wrapper}, the ParallelWrapper comparison on
     * the same partition, evaluated on {@code test}.
     */
    private static Measured images(String model, String name, Supplier<MultiLayerNetwork> net, DataSet images,
                                   DataSet test, Options o, Progress progress) {
        int[] partition = partition(net, images.get(0));
        int batch = o.batch(false);
        String data = "Fashion-MNIST images";
        Measured m = run(model, multiLayer(name, net, partition), images.batchBy(batch), images.batchBy(batch * M), data,
                o, progress);
        if (!o.compares(model)) {
            return m;
        }
        ParallelWrapperComparison.Result r = ParallelWrapperComparison.compare(new ParallelWrapperComparison.Setup(
                net.get(), partition, images, o.epochs(), batch, test, o.stash()), o.rounds(), progress);
        ParallelWrapperComparison.report(name, partition, r, data);
        return new Measured(m.model(), m.description(), m.batch(), m.examples(), m.result(), r);
    }

    /** Layers per stage of {@link #STAGES} stages balanced by measured layer time on {@code sample}. */
    static int[] partition(Supplier<MultiLayerNetwork> model, DataSet sample) {
        try (AsyncPipelineWrapper probe = new AsyncPipelineWrapper.Builder(model.get()).stages(STAGES).profileWith(sample).build()) {
            return probe.partition();
        }
    }

    /** A MultiLayerNetwork cut into {@code partition} (layers per stage). */
    static Case multiLayer(String name, Supplier<MultiLayerNetwork> model, int[] partition) {
        return new Case(name + ", partition " + Arrays.toString(partition),
                batches -> {
                    MultiLayerNetwork net = model.get();
                    return timedFit(b -> net.fit(new ListDataSetIterator<>(b, 1)), batches);
                },
                () -> new AsyncPipelineWrapper.Builder(model.get()).partition(partition));
    }

    /**
     * A {@link DecoderTransformer}, cut once by {@code stages(STAGES)} (automatic cuts, op costs estimated on
     * {@code sample}); every pipeline reuses those cuts. Plain fit is {@code sd.fit} after
     * {@link DecoderTransformer#prepareForFit}.
     */
    static Case transformer(TransformerConfig c, DataSet sample) {
        List<String> cuts;
        int[] ops;
        try (AsyncPipelineWrapper probe = new AsyncPipelineWrapper.Builder(sameDiff(c)).stages(STAGES)
                .profileWith(sample).build()) {
            cuts = probe.cuts().cutAfter();
            ops = probe.cuts().partition();
        }
        String[] cutAfter = cuts.toArray(new String[0]);
        String name = String.format("Transformer V%d T%d d%d h%d L%d untied %s, automatic cut after %s (ops per stage %s)",
                c.vocabSize(), c.contextLength(), c.modelDim(), c.heads(), c.layers(), c.dataType(), cuts, Arrays.toString(ops));
        return new Case(name,
                batches -> {
                    SameDiff sd = sameDiff(c);
                    DecoderTransformer.prepareForFit(sd);
                    return timedFit(b -> sd.fit(new ListDataSetIterator<>(b, 1), 1), batches);
                },
                () -> new AsyncPipelineWrapper.Builder(sameDiff(c)).cutAfter(cutAfter));
    }

    private static SameDiff sameDiff(TransformerConfig c) {
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(DiscountedNadam.builder().learningRate(3e-4).build()));
        return sd;
    }

    /** Token ids [n, T+1] drawn uniformly from the vocabulary with a fixed seed. */
    static INDArray tokenIds(int n, TransformerConfig c, long seed) {
        Random rng = new Random(seed);
        float[] v = new float[n * (c.contextLength() + 1)];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(c.vocabSize());
        }
        return Nd4j.create(v, new long[] {n, c.contextLength() + 1}, DataType.FLOAT);
    }

    /** Consecutive batches of {@code size} rows: features the first T ids [b,T], labels the next-token one-hot [b,T,V]. */
    static List<DataSet> sequenceBatches(INDArray ids, int size, TransformerConfig c) {
        int t = c.contextLength();
        List<DataSet> out = new ArrayList<>();
        for (long from = 0; from < ids.size(0); from += size) {
            INDArray rows = ids.get(NDArrayIndex.interval(from, Math.min(ids.size(0), from + size)), NDArrayIndex.all());
            INDArray x = rows.get(NDArrayIndex.all(), NDArrayIndex.interval(0, t)).castTo(c.dataType()).dup();
            INDArray next = rows.get(NDArrayIndex.all(), NDArrayIndex.interval(1, t + 1));
            out.add(new DataSet(x, DecoderTransformer.oneHot(next, c.vocabSize(), c.dataType())));
        }
        return out;
    }

    /**
     * {@code rounds} rounds of: plain fit on the micro-batches and on the mini-batches (M micro-batches each,
     * the same updates as GPIPE), GPIPE M=4 on the mini-batches, ASYNC_1F1B on the micro-batches; each on a
     * fresh model after a warm-up on (up to) two batches.
     */
    static Result measure(Case c, List<DataSet> micro, List<DataSet> mini, int rounds, boolean stash) {
        return measure(c, micro, mini, rounds, stash, false, Progress.none());
    }

    /**
     * As above, one {@code progress} step per timed fit; with {@code trace} the pipelines record their timelines
     * (two clock reads per channel hand-off), which the last round's metrics then hold.
     */
    static Result measure(Case c, List<DataSet> micro, List<DataSet> mini, int rounds, boolean stash, boolean trace,
                          Progress progress) {
        double[][] rates = new double[4][rounds];
        PipelineMetrics gpipe = null;
        PipelineMetrics async = null;
        List<Round> all = new ArrayList<>();
        long examples = examples(micro);
        for (int r = 0; r < rounds; r++) {
            rates[0][r] = c.plainRate().applyAsDouble(micro);
            progress.step(1, examples);
            rates[1][r] = c.plainRate().applyAsDouble(mini);
            progress.step(1, examples);
            gpipe = pipelined(c.pipeline().get().recordTimeline(trace), Schedule.GPIPE, mini, stash);
            rates[2][r] = gpipe.throughput();
            progress.step(1, examples);
            async = pipelined(c.pipeline().get().recordTimeline(trace), Schedule.ASYNC_1F1B, micro, stash);
            rates[3][r] = async.throughput();
            progress.step(1, examples);
            all.add(new Round(rates[0][r], rates[1][r], rates[2][r], rates[3][r], gpipe, async));
        }
        return new Result(median(rates[0]), median(rates[1]), median(rates[2]), median(rates[3]), gpipe, async,
                List.copyOf(all));
    }

    /** Warm-up {@code fit} on the first two batches, then examples/s of {@code fit} on all of them. */
    static double timedFit(Consumer<List<DataSet>> fit, List<DataSet> batches) {
        int cores = Runtime.getRuntime().availableProcessors();
        Nd4j.getEnvironment().setMaxThreads(cores);
        Nd4j.getEnvironment().setMaxMasterThreads(cores);
        fit.accept(warmUp(batches));
        long t0 = System.nanoTime();
        fit.accept(batches);
        return examples(batches) / ((System.nanoTime() - t0) / 1e9);
    }

    private static PipelineMetrics pipelined(AsyncPipelineWrapper.Builder b, Schedule s, List<DataSet> batches, boolean stash) {
        try (AsyncPipelineWrapper w = b.schedule(s).microBatches(M).weightStashing(stash).build()) {
            w.fit(new ListDataSetIterator<>(warmUp(batches), 1));
            w.fit(new ListDataSetIterator<>(batches, 1));
            return w.metrics();
        }
    }

    private static List<DataSet> warmUp(List<DataSet> batches) {
        return batches.subList(0, Math.min(2, batches.size()));
    }

    private static long examples(List<DataSet> batches) {
        long n = 0;
        for (DataSet d : batches) {
            n += d.numExamples();
        }
        return n;
    }

    private static void report(String name, Result r, List<DataSet> micro, List<DataSet> mini, String data) {
        int batch = micro.get(0).numExamples();
        System.out.printf("%n== %s ==%n   %d %s, micro-batch %d%n", name, examples(micro), data, batch);
        System.out.printf("%-12s %12s %8s  %s%n", "mode", "examples/s", "ratio", "per-stage utilisation (last round)");
        System.out.printf("%-12s %12.1f %8.2f   (batch %d: the baseline of ASYNC_1F1B, one update per %d examples)%n",
                "plain fit", r.plain(), 1.0, batch, batch);
        System.out.printf("%-12s %12.1f %8.2f   (batch %d: the baseline of GPIPE, same updates)%n", "plain fit", r.plainMini(),
                r.plainMini() / r.plain(), batch * M);
        System.out.printf("%-12s %12.1f %8.2f  %s  (ideal M/(M+P-1) = %.1f%%); vs plain fit on its batch: %.2f%n",
                "GPIPE M=" + M, r.gpipe(), r.gpipe() / r.plain(), utilisation(r.gpipeMetrics()),
                100.0 * M / (M + STAGES - 1), r.gpipe() / r.plainMini());
        System.out.printf("%-12s %12.1f %8.2f  %s%n", "ASYNC_1F1B", r.async(), r.async() / r.plain(),
                utilisation(r.asyncMetrics()));
        System.out.printf("simulator (measured op costs): GPIPE %.1f%% vs measured %.1f%%; ASYNC_1F1B %.1f%% vs measured %.1f%%%n",
                100 * predicted(r.gpipeMetrics(), Schedules.gpipe(STAGES, M, mini.size())),
                100 * r.gpipeMetrics().meanUtilisation(),
                100 * predicted(r.asyncMetrics(), Schedules.async1F1B(STAGES, micro.size())),
                100 * r.asyncMetrics().meanUtilisation());
    }

    /** Mean utilisation the simulator predicts from the run's measured mean op costs per stage. */
    private static double predicted(PipelineMetrics m, StagePlan plan) {
        return TimingSimulator.simulate(plan, MeasuredCosts.of(m)).meanUtilisation();
    }

    private static String utilisation(PipelineMetrics m) {
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < m.stages().size(); k++) {
            parts.add(String.format("stage %d %.1f%%", k, 100 * m.utilisation(k)));
        }
        return String.join(", ", parts);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /**
     * {@value #CSV}, {@value #PLOT_THROUGHPUT} and {@value #PLOT_UTILISATION} for the models measured so far, and
     * {@value #PLOT_PARALLEL_WRAPPER}{@code <model>.png} for each model with a ParallelWrapper comparison.
     */
    /** The file of one case's Chrome trace: {@code trace-<model>-<gpipe|async>.json}. */
    static String traceFile(String model, String schedule) {
        return "trace-" + model + "-" + schedule + ".json";
    }

    /** The last round's timelines of {@code m}'s two pipelines as Chrome traces, when they were recorded. */
    static void writeTraces(Path dir, Measured m) {
        Result r = m.result();
        for (String s : List.of("gpipe", "async")) {
            PipelineMetrics pm = s.equals("gpipe") ? r.gpipeMetrics() : r.asyncMetrics();
            if (pm != null && pm.timeline().recorded()) {
                try {
                    pm.timeline().writeChromeTrace(dir.resolve(traceFile(m.model(), s)));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write " + dir.resolve(traceFile(m.model(), s)), e);
                }
            }
        }
    }

    static void writeResults(Path dir, List<Measured> measured) {
        for (Measured m : measured) {
            writeTraces(dir, m);
        }
        Csv csv = new Csv(csvHeader());
        for (Measured m : measured) {
            csvRows(csv, m);
        }
        try {
            csv.write(dir.resolve(CSV));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(CSV), e);
        }
        List<Plots.Panel> panels = new ArrayList<>();
        List<String> runs = new ArrayList<>();
        Map<String, double[]> stages = new LinkedHashMap<>();
        for (int k = 0; k < STAGES; k++) {
            stages.put("stage " + k, new double[2 * measured.size()]);
        }
        for (int i = 0; i < measured.size(); i++) {
            Measured m = measured.get(i);
            Result r = m.result();
            panels.add(new Plots.Panel(m.model(), List.of("fit " + m.batch(), "fit " + m.batch() * M, "GPIPE", "ASYNC"),
                    new double[] {r.plain(), r.plainMini(), r.gpipe(), r.async()}));
            runs.add(m.model() + " GPIPE");
            runs.add(m.model() + " ASYNC");
            for (int k = 0; k < STAGES; k++) {
                stages.get("stage " + k)[2 * i] = 100 * r.gpipeMetrics().utilisation(k);
                stages.get("stage " + k)[2 * i + 1] = 100 * r.asyncMetrics().utilisation(k);
            }
        }
        Plots.barPanels(dir.resolve(PLOT_THROUGHPUT), "examples/s (median of rounds)", panels);
        Plots.bars(dir.resolve(PLOT_UTILISATION), "Per-stage utilisation, last round", null, "busy / wall time (%)", runs,
                stages);
        for (Measured m : measured) {
            if (m.comparison() != null) {
                comparisonPlot(dir.resolve(PLOT_PARALLEL_WRAPPER + m.model() + ".png"), m.model(), m.comparison());
            }
        }
    }

    /** Two panels: median examples/s and median test accuracy per variant (0 for a variant that failed every round). */
    private static void comparisonPlot(Path png, String model, ParallelWrapperComparison.Result r) {
        ParallelWrapperComparison.Variant[] variants = ParallelWrapperComparison.Variant.values();
        List<String> names = Arrays.stream(variants).map(ParallelWrapperComparison.Variant::shortName).toList();
        double[] rates = new double[variants.length];
        double[] accuracies = new double[variants.length];
        for (ParallelWrapperComparison.Variant v : variants) {
            rates[v.ordinal()] = Double.isNaN(r.rate(v)) ? 0 : r.rate(v);
            accuracies[v.ordinal()] = Double.isNaN(r.accuracy(v)) ? 0 : r.accuracy(v);
        }
        Plots.barPanels(png, "median of rounds (PW n: ParallelWrapper averaging every n)", List.of(
                new Plots.Panel(model + ": examples/s, " + r.epochs() + (r.epochs() == 1 ? " epoch" : " epochs"), names,
                        rates),
                new Plots.Panel(model + ": test accuracy", names, accuracies)));
    }

    static String[] csvHeader() {
        List<String> h = new ArrayList<>(List.of("model", "description", "variant", "batch", "round", "examples",
                "examples_per_s", "ratio_to_plain_fit", "ratio_to_plain_fit_mini"));
        for (int k = 0; k < STAGES; k++) {
            h.add("utilisation_stage_" + k);
        }
        h.add("mean_utilisation");
        h.addAll(List.of("table", "epochs", "test_accuracy", "param_change", "error"));
        return h.toArray(new String[0]);
    }

    /**
     * One row per round and timed fit: the rate, its ratio to plain fit on the micro-batches (the baseline of
     * ASYNC_1F1B) and on the mini-batches (the baseline of GPIPE) of the same round, and for the pipelines the
     * utilisation of each stage and their mean (fractions of the wall time; empty for plain fit); table
     * {@value #TABLE_THROUGHPUT}, one epoch. Then the ParallelWrapper comparison's rows, if any.
     */
    private static void csvRows(Csv csv, Measured m) {
        List<Round> rounds = m.result().rounds();
        for (int r = 0; r < rounds.size(); r++) {
            Round round = rounds.get(r);
            for (int i = 0; i < MODES.size(); i++) {
                boolean mini = i == 1 || i == 2;
                List<Object> row = new ArrayList<>(List.of(m.model(), m.description(), MODES.get(i),
                        mini ? m.batch() * M : m.batch(), r + 1, m.examples(), round.rate(i),
                        round.rate(i) / round.plain(), round.rate(i) / round.plainMini()));
                PipelineMetrics pm = round.metrics(i);
                for (int k = 0; k < STAGES; k++) {
                    row.add(pm == null ? null : pm.utilisation(k));
                }
                row.add(pm == null ? null : pm.meanUtilisation());
                row.addAll(Arrays.asList(TABLE_THROUGHPUT, 1, null, null, null));
                csv.row(row.toArray());
            }
        }
        if (m.comparison() != null) {
            comparisonRows(csv, m);
        }
    }

    /**
     * Table {@value #TABLE_PARALLEL_WRAPPER}: one row per round and variant: examples/s over all epochs, its ratio to
     * plain fit of the same round, the epochs, the test accuracy, the relative parameter change and the failure (rate,
     * ratio, accuracy and change empty then). {@code examples} counts one epoch; {@code batch} is per worker for
     * ParallelWrapper and the mini-batch for GPIPE; the mini-batch ratio and utilisations are empty.
     */
    private static void comparisonRows(Csv csv, Measured m) {
        ParallelWrapperComparison.Result c = m.comparison();
        for (int r = 0; r < c.rounds().size(); r++) {
            ParallelWrapperComparison.Run[] runs = c.rounds().get(r);
            double plain = runs[ParallelWrapperComparison.Variant.PLAIN.ordinal()].rate();
            for (ParallelWrapperComparison.Run run : runs) {
                List<Object> row = new ArrayList<>(List.of(m.model(), m.description(), run.variant().csv,
                        run.variant().batch(c.batch()), r + 1, c.examplesPerEpoch(), run.rate(), run.rate() / plain));
                row.add(null);
                for (int k = 0; k <= STAGES; k++) {
                    row.add(null);
                }
                row.addAll(Arrays.asList(TABLE_PARALLEL_WRAPPER, c.epochs(), run.accuracy(), run.paramChange(), run.error()));
                csv.row(row.toArray());
            }
        }
    }
}
