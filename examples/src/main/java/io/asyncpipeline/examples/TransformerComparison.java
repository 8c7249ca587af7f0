package io.asyncpipeline.examples;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.NativeMemoryGuard;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.examples.data.EuroparlText;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DiscountedNadam;
import io.asyncpipeline.updater.WarmupCosineSchedule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The paper's comparison (method.md §7) at small scale: one decoder-only transformer, {@code --layers}
 * blocks spread evenly over {@code --stages} stages, trained for the same number of steps on the same English Europarl character stream with
 *
 * <ul>
 *   <li>{@code single} — no pipeline: {@code sd.fit} on the unsplit graph in one thread (the reference the
 *       synchronous schedules must equal);</li>
 *   <li>{@code gpipe} — synchronous GPipe, each batch split into {@code --micro} micro-batches, one update
 *       per batch (the same maths as unsplit {@code sd.fit});</li>
 *   <li>{@code stash} — asynchronous 1F1B with weight stashing and {@link DiscountedNadam} (the paper's
 *       method);</li>
 *   <li>{@code nostash} — asynchronous 1F1B without stashing, DiscountedNadam with the per-stage settings
 *       of method.md §5 ({@code delayAwareMomentum(0.9)}, {@code pipeMareLearningRate(--pipemare)});</li>
 *   <li>{@code pipedream} — asynchronous 1F1B with stashing and Adam (β1 = 0.9), the PipeDream baseline;</li>
 *   <li>{@code nostash-plain} — asynchronous 1F1B without stashing and without the §5 settings.</li>
 * </ul>
 *
 * Every variant sees the same batches in the same order (one batch of {@code --batch} windows per step)
 * and starts from the same initial weights; all use the same warm-up + cosine learning-rate shape and
 * decoupled weight decay 0.01. Training runs in chunks of {@code --eval-every} steps, after each of which
 * the validation loss (mean cross-entropy per character, nats) is measured on the unsplit model; each
 * chunk is one {@code fit} call, so the asynchronous pipeline drains and refills between chunks (the
 * first {@code P-1} micro-batches of a chunk see smaller delays).
 *
 * <p>A progress bar (or, without a console, periodic lines) on standard error follows each variant's steps, with the
 * latest validation loss: for {@code single} from a SameDiff listener, for the pipelines from the batches the first
 * stage reads (SameDiff pipelines call no listener). {@code --out DIR} writes
 * {@value #CSV} (one row per validation measurement), {@value #JSON} (the configuration) and two PNG plots of
 * validation loss, against examples seen and against training time.
 *
 * {@code --help} lists the options; exit codes as in {@link Cli}.
 */
@Command(name = "TransformerComparison", mixinStandardHelpOptions = true, sortOptions = false,
        description = "The paper's comparison at small scale: one decoder-only transformer on Europarl characters,"
                + " trained for the same steps by each variant (single: unsplit sd.fit; gpipe; stash: async 1F1B with"
                + " weight stashing and DiscountedNadam; nostash: without stashing, with the method.md §5 settings;"
                + " pipedream: stashing with Adam; nostash-plain: without stashing or the §5 settings).")
public final class TransformerComparison implements Callable<Integer> {

    static final List<String> VARIANTS = List.of("single", "gpipe", "stash", "nostash", "pipedream",
            "nostash-plain");
    static final String CSV = "comparison.csv";
    static final String JSON = "comparison.json";
    static final String PLOT_EXAMPLES = "comparison-loss-vs-examples.png";
    static final String PLOT_TIME = "comparison-loss-vs-time.png";

    /** Values of {@code --replay}. */
    enum YesNo { yes, no }

    @Option(names = "--steps", description = "optimizer steps per variant. Default: ${DEFAULT-VALUE}")
    int steps = 1200;

    @Option(names = "--stages", description = "pipeline stages, at least 2. Default: ${DEFAULT-VALUE}")
    int stages = 8;

    @Option(names = "--layers", description = "transformer blocks, a multiple of --stages (the same number per stage);"
            + " 0 means as many as --stages. Default: ${DEFAULT-VALUE}")
    int layers = 0;

    @Option(names = "--batch", description = "windows per step. Default: ${DEFAULT-VALUE}")
    int batch = 16;

    @Option(names = "--context", description = "characters per window. Default: ${DEFAULT-VALUE}")
    int context = 64;

    @Option(names = "--dim", description = "model width. Default: ${DEFAULT-VALUE}")
    int dim = 64;

    @Option(names = "--heads", description = "attention heads. Default: ${DEFAULT-VALUE}")
    int heads = 4;

    @Option(names = "--micro", description = "GPipe micro-batches per step (must divide --batch). Default: ${DEFAULT-VALUE}")
    int micro = 4;

    @Option(names = "--lr", description = "peak learning rate (all variants). Default: ${DEFAULT-VALUE}")
    double lr = 1e-3;

    @Option(names = "--warmup", description = "linear warm-up steps, in [0, --steps). Default: ${DEFAULT-VALUE}")
    int warmup = 100;

    @Option(names = "--pipemare", description = "T_c of the PipeMare correction (nostash); 0 means --steps / 4."
            + " Default: ${DEFAULT-VALUE}")
    int pipeMare = 0;

    @Option(names = "--eval-every", description = "steps between validation measurements. Default: ${DEFAULT-VALUE}")
    int evalEvery = 200;

    @Option(names = "--val-windows", description = "validation windows. Default: ${DEFAULT-VALUE}")
    int valWindows = 256;

    @Option(names = "--seed", description = "weights and data seed. Default: ${DEFAULT-VALUE}")
    long seed = 7;

    @Option(names = "--variants", split = ",", paramLabel = "<variant>", defaultValue = "gpipe,stash,nostash,pipedream",
            completionCandidates = VariantNames.class,
            description = "comma-separated, from ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}")
    List<String> variants;

    @Option(names = "--replay", description = "run the asynchronous schedules single-threaded (same bits, no thread"
            + " contention): ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}")
    YesNo replay = YesNo.no;

    @Option(names = "--out", paramLabel = "DIR", description = "write " + CSV + " (one row per validation measurement),"
            + " " + JSON + " (the configuration) and PNG plots of validation loss into DIR, created if missing."
            + " Default: none")
    Path out;

    @Spec
    CommandSpec spec;

    /** Where the Europarl resource is looked up (a seam for tests). */
    private final ClassLoader dataResources;

    public TransformerComparison() {
        this(TransformerComparison.class.getClassLoader());
    }

    TransformerComparison(ClassLoader dataResources) {
        this.dataResources = dataResources;
    }

    static final class VariantNames extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        VariantNames() {
            super(VARIANTS);
        }
    }

    /** Checked options; {@code layers} and {@code pipeMare} are resolved (never 0). */
    record Options(int steps, int stages, int layers, int batch, int context, int dim, int heads, int micro, double lr,
                   int warmup, int pipeMare, int evalEvery, int valWindows, long seed, List<String> variants,
                   boolean replay) {

        /** Cuts: after every (layers / stages)-th block. */
        String[] cuts() {
            return DecoderTransformer.blockCuts(model(), stages);
        }

        TransformerConfig model() {
            return TransformerConfig.builder().vocabSize(EuroparlText.VOCAB_SIZE).contextLength(context).modelDim(dim)
                    .heads(heads).layers(layers).tiedOutputHead(false).seed(seed).dataType(DataType.FLOAT).build();
        }
    }

    /** The parsed options, checked (a usage error naming the option otherwise). */
    Options options() {
        Cli.positive(spec, "--steps", steps);
        for (String v : variants) {
            if (!VARIANTS.contains(v)) {
                throw Cli.invalid(spec, "--variants: unknown variant '" + v + "', choose from " + VARIANTS);
            }
        }
        Cli.positive(spec, "--batch", batch);
        Cli.positive(spec, "--micro", micro);
        if (batch % micro != 0) {
            throw Cli.invalid(spec, "--micro " + micro + " must divide --batch " + batch);
        }
        if (warmup < 0 || warmup >= steps) {
            throw Cli.invalid(spec, "--warmup must be in [0, --steps), got " + warmup);
        }
        if (pipeMare < 0) {
            throw Cli.invalid(spec, "--pipemare must be at least 0 (0: --steps / 4), got " + pipeMare);
        }
        if (stages < 2) {
            throw Cli.invalid(spec, "--stages must be at least 2, got " + stages);
        }
        if (layers < 0) {
            throw Cli.invalid(spec, "--layers must be at least 0 (0: as many as --stages), got " + layers);
        }
        int blocks = layers > 0 ? layers : stages;
        if (blocks % stages != 0) {
            throw Cli.invalid(spec, "--layers " + blocks + " must be a multiple of --stages " + stages
                    + " (each stage holds the same number of blocks)");
        }
        return new Options(steps, stages, blocks, batch, Cli.positive(spec, "--context", context),
                Cli.positive(spec, "--dim", dim), Cli.positive(spec, "--heads", heads), micro,
                Cli.positive(spec, "--lr", lr), warmup, pipeMare > 0 ? pipeMare : Math.max(1, steps / 4),
                Cli.positive(spec, "--eval-every", evalEvery), Cli.positive(spec, "--val-windows", valWindows), seed,
                List.copyOf(variants), replay == YesNo.yes);
    }

    /** Validation loss after each chunk, and the training wall time up to it (seconds, evaluations excluded). */
    record Curve(String variant, List<Integer> steps, List<Double> loss, List<Double> trainSeconds) {

        double last() {
            return loss.get(loss.size() - 1);
        }

        /** Training wall time of the whole curve. */
        double seconds() {
            return trainSeconds.isEmpty() ? 0 : trainSeconds.get(trainSeconds.size() - 1);
        }
    }

    public static void main(String[] args) {
        System.exit(Cli.execute(new TransformerComparison(), args));
    }

    @Override
    public Integer call() {
        Options o = options();
        Path dir = out == null ? null : ResultFiles.directory(spec, out);
        EuroparlText text = EuroparlText.load(0.1, dataResources);
        TransformerConfig c = o.model();
        System.out.printf(Locale.ROOT, "Europarl English: %d documents, %d train / %d validation characters, vocabulary %d%n",
                text.documents(), text.trainLength(), text.validationLength(), EuroparlText.VOCAB_SIZE);
        long parameters = 0;
        for (org.nd4j.autodiff.samediff.SDVariable v : DecoderTransformer.build(c).variables()) {
            if (v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE) {
                parameters += v.getArr().length();
            }
        }
        System.out.printf(Locale.ROOT, "model: %s, %d parameters; %d stages (%d blocks each, cut after %s), %d steps of %d"
                + " windows x %d characters%n", c, parameters, o.stages(), o.layers() / o.stages(),
                String.join(", ", o.cuts()), o.steps(), o.batch(), o.context());
        List<DataSet> validation = text.validationBatches(o.batch(), o.context(), o.valWindows(), DataType.FLOAT);
        if (dir != null) {
            Map<String, Object> resolved = new LinkedHashMap<>();
            resolved.put("layers", o.layers());
            resolved.put("pipemare", o.pipeMare());
            resolved.put("cutAfter", List.of(o.cuts()));
            resolved.put("parameters", parameters);
            resolved.put("trainCharacters", text.trainLength());
            resolved.put("validationCharacters", text.validationLength());
            ResultFiles.writeConfiguration(dir.resolve(JSON), spec, resolved);
        }
        List<Curve> curves = new ArrayList<>();
        for (String v : o.variants()) {
            // the CSV is rewritten after every validation measurement, the plots after every variant
            Curve cv = run(v, o, c, text, validation, partial -> {
                if (dir != null) {
                    List<Curve> sofar = new ArrayList<>(curves);
                    sofar.add(partial);
                    writeCsv(dir.resolve(CSV), sofar, o);
                }
            });
            curves.add(cv);
            if (dir != null) {
                writePlots(dir, curves, o);
            }
        }
        if (dir != null) {
            System.out.println("results written to " + dir.toAbsolutePath() + ": " + CSV + ", " + JSON + ", "
                    + PLOT_EXAMPLES + ", " + PLOT_TIME);
        }
        System.out.println();
        System.out.println(table(curves, o));
        return Cli.OK;
    }

    /**
     * One variant, inside a {@link NativeMemoryGuard}: {@code sd.fit} of the single variant and the validation passes
     * of every variant run outside the pipeline's own memory pacing (without it, {@code --variants single --batch 64}
     * grew to 16 GB resident).
     */
    static Curve run(String variant, Options o, TransformerConfig c, EuroparlText text, List<DataSet> validation) {
        return run(variant, o, c, text, validation, partial -> { });
    }

    /** As above; {@code evaluated} receives the curve so far after every validation measurement. */
    static Curve run(String variant, Options o, TransformerConfig c, EuroparlText text, List<DataSet> validation,
                     Consumer<Curve> evaluated) {
        try (NativeMemoryGuard guard = NativeMemoryGuard.open()) {
            return runGuarded(variant, o, c, text, validation, evaluated);
        }
    }

    private static Curve runGuarded(String variant, Options o, TransformerConfig c, EuroparlText text,
                                    List<DataSet> validation, Consumer<Curve> evaluated) {
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(updater(variant, o), new WeightDecay(0.01, true)));
        AsyncPipelineWrapper.Builder b = new AsyncPipelineWrapper.Builder(sd)
                .cutAfter(o.cuts()).seed(o.seed()).singleThreadedReplay(o.replay());
        if (variant.equals("single")) {
            DecoderTransformer.prepareForFit(sd);
            try (Progress progress = Progress.start(variant, o.steps(), "steps")) {
                sd.addListeners(progress.sameDiffListener());
                return train(variant, o, text, validation, sd, it -> sd.fit(it, 1), progress, evaluated);
            }
        }
        switch (variant) {
            case "gpipe" -> b.schedule(Schedule.GPIPE).microBatches(o.micro());
            case "stash", "pipedream" -> b.schedule(Schedule.ASYNC_1F1B).weightStashing(true);
            case "nostash" -> b.schedule(Schedule.ASYNC_1F1B).weightStashing(false)
                    .delayAwareMomentum(0.9).pipeMareLearningRate(o.pipeMare());
            case "nostash-plain" -> b.schedule(Schedule.ASYNC_1F1B).weightStashing(false);
            default -> throw new IllegalArgumentException("unknown variant " + variant);
        }
        long t0 = System.nanoTime();
        try (AsyncPipelineWrapper w = b.build();
             Progress progress = Progress.start(variant, o.steps(), "steps")) {
            System.out.printf(Locale.ROOT, "%-13s pipeline built in %.1f s%n", variant, (System.nanoTime() - t0) / 1e9);
            // SameDiff pipelines call no listener: count the batches the first stage reads
            return train(variant, o, text, validation, sd, it -> w.fit(progress.counting(it)), progress, evaluated);
        }
    }

    /** Trains in chunks of {@code --eval-every} steps with {@code fit}, measuring the validation loss after each. */
    private static Curve train(String variant, Options o, EuroparlText text, List<DataSet> validation, SameDiff sd,
                               Consumer<org.nd4j.linalg.dataset.api.iterator.DataSetIterator> fit, Progress progress,
                               Consumer<Curve> evaluated) {
        List<Integer> at = new ArrayList<>();
        List<Double> loss = new ArrayList<>();
        List<Double> seconds = new ArrayList<>();
        long nanos = 0;
        for (int done = 0; done < o.steps(); ) {
            int n = Math.min(o.evalEvery(), o.steps() - done);
            // chunk k's batches depend only on (seed, k): every variant sees the same data
            List<DataSet> batches = text.trainBatches(n, o.batch(), o.context(), o.seed() * 1_000_003L + done,
                    DataType.FLOAT);
            long t0 = System.nanoTime();
            fit.accept(new ListDataSetIterator<>(batches, 1));      // one DataSet = one step
            nanos += System.nanoTime() - t0;
            done += n;
            long e0 = System.nanoTime();
            double l = validationLoss(sd, validation);
            double evalSeconds = (System.nanoTime() - e0) / 1e9;
            at.add(done);
            loss.add(l);
            seconds.add(nanos / 1e9);
            progress.loss("val loss", l);
            evaluated.accept(new Curve(variant, List.copyOf(at), List.copyOf(loss), List.copyOf(seconds)));
            System.out.printf(Locale.ROOT, "%-13s step %5d  validation loss %.6f  (%.1f s training, %.1f s evaluation)%n",
                    variant, done, l, nanos / 1e9, evalSeconds);
        }
        return new Curve(variant, at, loss, seconds);
    }

    static IUpdater updater(String variant, Options o) {
        WarmupCosineSchedule lr = new WarmupCosineSchedule(o.lr(), o.warmup(), o.steps(), 0.1);
        if (variant.equals("pipedream")) {
            return Adam.builder().learningRateSchedule(lr).beta1(0.9).beta2(0.999).epsilon(1e-8).build();
        }
        return DiscountedNadam.builder().learningRateSchedule(lr).build();
    }

    /** Mean per-character cross-entropy (nats) of the unsplit model over the validation batches. */
    static double validationLoss(SameDiff sd, List<DataSet> validation) {
        double sum = 0;
        for (DataSet ds : validation) {
            Map<String, org.nd4j.linalg.api.ndarray.INDArray> ph = Map.of(DecoderTransformer.TOKENS, ds.getFeatures(),
                    DecoderTransformer.LABELS, ds.getLabels());
            sum += sd.output(ph, DecoderTransformer.LOSS).get(DecoderTransformer.LOSS).getDouble(0);
        }
        return sum / validation.size();
    }

    static String table(List<Curve> curves, Options o) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "| variant | val. loss (nats/char) | bits/char | perplexity | train s |%n"));
        sb.append("|---|---|---|---|---|\n");
        for (Curve cv : curves) {
            sb.append(String.format(Locale.ROOT, "| %s | %.4f | %.3f | %.2f | %.0f |%n", cv.variant(), cv.last(),
                    cv.last() / Math.log(2), Math.exp(cv.last()), cv.seconds()));
        }
        sb.append(String.format(Locale.ROOT, "(%d blocks on %d stages, %d steps x %d windows of %d characters)%n",
                o.layers(), o.stages(),
                o.steps(), o.batch(), o.context()));
        return sb.toString();
    }

    /** Micro-batches a variant has trained on after {@code steps} steps: GPipe splits each step into --micro. */
    static long microBatches(String variant, int steps, Options o) {
        return variant.equals("gpipe") ? (long) steps * o.micro() : steps;
    }

    /**
     * {@value #CSV}: one row per validation measurement: variant, step, micro-batches, examples seen (windows of
     * --context characters), characters seen, training seconds so far (evaluations excluded), validation loss.
     */
    static void writeCsv(Path file, List<Curve> curves, Options o) {
        Csv csv = new Csv("variant", "step", "micro_batches", "examples", "characters", "train_seconds", "val_loss");
        for (Curve cv : curves) {
            for (int i = 0; i < cv.steps().size(); i++) {
                int step = cv.steps().get(i);
                long examples = (long) step * o.batch();
                csv.row(cv.variant(), step, microBatches(cv.variant(), step, o), examples, examples * o.context(),
                        cv.trainSeconds().get(i), cv.loss().get(i));
            }
        }
        try {
            csv.write(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** {@value #PLOT_EXAMPLES} and {@value #PLOT_TIME}: validation loss per variant against examples and time. */
    static void writePlots(Path dir, List<Curve> curves, Options o) {
        List<Plots.Series> byExamples = new ArrayList<>();
        List<Plots.Series> byTime = new ArrayList<>();
        for (Curve cv : curves) {
            int n = cv.steps().size();
            double[] examples = new double[n];
            double[] seconds = new double[n];
            double[] loss = new double[n];
            for (int i = 0; i < n; i++) {
                examples[i] = (double) cv.steps().get(i) * o.batch();
                seconds[i] = cv.trainSeconds().get(i);
                loss[i] = cv.loss().get(i);
            }
            byExamples.add(new Plots.Series(cv.variant(), examples, loss));
            byTime.add(new Plots.Series(cv.variant(), seconds, loss));
        }
        String title = String.format(Locale.ROOT, "Validation loss, %d blocks on %d stages", o.layers(), o.stages());
        String y = "validation loss (nats per character)";
        Plots.lines(dir.resolve(PLOT_EXAMPLES), title, "examples seen (windows of " + o.context() + " characters)", y,
                byExamples);
        Plots.lines(dir.resolve(PLOT_TIME), title, "training time (s, evaluations excluded)", y, byTime);
    }
}
