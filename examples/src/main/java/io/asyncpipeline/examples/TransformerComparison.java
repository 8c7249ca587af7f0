package io.asyncpipeline.examples;

import io.asyncpipeline.transport.BoundaryCompression;
import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.NativeMemoryGuard;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.examples.data.EuroparlText;
import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.schedule.Schedules;
import io.asyncpipeline.schedule.StagePlan;
import io.asyncpipeline.schedule.TimingSimulator;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
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
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The paper's comparison (method.md §7) at small scale: one decoder-only transformer, {@code --layers} blocks spread
 * evenly over {@code --stages} stages, trained by several variants on the same English Europarl character stream.
 *
 * <p><b>Protocols.</b> {@code --protocol data} (the default) is the paper's: every variant sees the same
 * {@code --micro-batches} micro-batches of {@code --batch} windows, in the same order. The asynchronous variants update
 * every stage after every micro-batch; GPipe groups {@code --micro} (M) consecutive micro-batches into one update, so
 * it makes M times fewer, M times larger updates on the same data, and its learning-rate schedule runs over its own
 * update count. {@code --protocol updates} is the earlier comparison at equal updates: every variant makes
 * {@code --steps} updates of {@code --batch} windows (GPipe splits each batch into M micro-batches), which hands GPipe
 * exactly unsplit sequential training; it answers a different question and is labelled so in every output.
 *
 * <p><b>Variants</b> ({@link #ALL}): {@code single} (no pipeline, {@code sd.fit}), GPipe with AdamW and with
 * {@link DiscountedNadam}, the asynchronous method with and without stashing (§5 settings), PipeDream (stashing, Adam),
 * no stashing and no §5, {@link DelayCorrectedNesterov} with its discount and with δ = 1, and DiscountedNadam with
 * β1 0.9. Every variant starts from the same initial weights, uses linear warm-up then cosine decay to 0.1× of its
 * peak rate over its own updates, decoupled weight decay 0.01, and (data protocol) clips each stage's gradient at
 * L2 norm {@code --clip}. Each takes its peak learning rate (and the Nesterov variants their momentum and discount)
 * from {@code --tuned FILE} when given (as {@link PaperComparison} writes it), else from {@code --lr} /
 * {@code --nesterov-lr}, {@code --momentum}, {@code --discount}.
 *
 * <p><b>Time.</b> Besides the wall time of this machine, each pipelined variant is charged the time it would take on
 * {@code --stages} devices: after each chunk, the schedule simulator replays the chunk's schedule with the per-stage
 * forward, backward and update costs measured in that chunk (GPipe pays its bubble, the asynchronous schedule its
 * fill and drain). With {@code --replay yes} those costs are measured without thread contention.
 *
 * <p>Training runs in chunks of {@code --eval-every} (micro-batches, or steps), after each of which the validation
 * loss (mean cross-entropy per character, nats) is measured on the unsplit model; each chunk is one {@code fit} call,
 * so an asynchronous pipeline drains and refills between chunks. {@code --out DIR} writes {@value #CSV} (one row per
 * validation measurement), {@value #JSON} (the configuration and each variant's resolved optimiser) and PNG plots
 * of validation loss against data seen, wall time and simulated device time. A progress display on standard error
 * follows each variant. {@code --help} lists the options; exit codes as in {@link Cli}.
 */
@Command(name = "TransformerComparison", mixinStandardHelpOptions = true, sortOptions = false,
        description = "The paper's comparison at small scale: one decoder-only transformer on Europarl characters,"
                + " trained by each variant on the same micro-batches (--protocol data, the paper's protocol: GPipe"
                + " makes one update per --micro micro-batches, the asynchronous variants one per micro-batch) or with"
                + " the same updates (--protocol updates).")
public final class TransformerComparison implements Callable<Integer> {

    static final String CSV = "comparison.csv";
    static final String JSON = "comparison.json";
    static final String PLOT_EXAMPLES = "comparison-loss-vs-examples.png";
    static final String PLOT_TIME = "comparison-loss-vs-time.png";
    static final String PLOT_DEVICE_TIME = "comparison-loss-vs-device-time.png";
    /** NAdam's momentum decay ψ as PyTorch sets it (tuned for 50k steps). */
    static final double DEFAULT_PSI = 0.004;
    /** ψ · updates for a ψ scaled to the run: the paper's μ_t trajectory (ψ 0.004 over 50k steps) in relative time. */
    static final double PSI_TIMES_UPDATES = 200;

    /** The optimiser of a variant. */
    enum Optimiser {
        /** Adam (β1 0.9, β2 0.999, ε 1e-8); with the decoupled weight decay every variant has, AdamW. */
        ADAM,
        /** {@link DiscountedNadam} with β1 0.99 and ψ as {@code --psi} says. */
        NADAM,
        /** {@link DiscountedNadam} with β1 0.99 and ψ = 0.004 whatever {@code --psi} says. */
        NADAM_FIXED_PSI,
        /** {@link DiscountedNadam} with β1 0.9 (the paper's ablation). */
        NADAM_BETA1_09,
        /** {@link DelayCorrectedNesterov} with momentum γ and discount δ. */
        NESTEROV,
        /** {@link DelayCorrectedNesterov} with δ = 1: plain Nesterov on stale gradients (the paper's ablation). */
        NESTEROV_NO_DISCOUNT;

        boolean nesterov() {
            return this == NESTEROV || this == NESTEROV_NO_DISCOUNT;
        }

        boolean nadam() {
            return this == NADAM || this == NADAM_FIXED_PSI || this == NADAM_BETA1_09;
        }
    }

    /**
     * A variant of the comparison.
     *
     * @param schedule null for {@code single} (no pipeline)
     * @param section5 delay-aware momentum and the PipeMare learning-rate correction (method.md §5)
     */
    record Variant(String name, Schedule schedule, boolean stash, boolean section5, Optimiser optimiser,
                   String description) {

        boolean gpipe() {
            return schedule == Schedule.GPIPE;
        }

        boolean pipelined() {
            return schedule != null;
        }
    }

    static final List<Variant> ALL = List.of(
            new Variant("single", null, false, false, Optimiser.NADAM,
                    "no pipeline: sd.fit of the unsplit graph, DiscountedNadam, one update per batch"),
            new Variant("gpipe-adamw", Schedule.GPIPE, false, false, Optimiser.ADAM,
                    "GPipe, AdamW (beta1 0.9): the paper's baseline"),
            new Variant("gpipe-nadam", Schedule.GPIPE, false, false, Optimiser.NADAM, "GPipe, DiscountedNadam"),
            new Variant("stash", Schedule.ASYNC_1F1B, true, false, Optimiser.NADAM,
                    "ours: async 1F1B, weight stashing, DiscountedNadam (beta1 0.99)"),
            new Variant("stash-fixed-psi", Schedule.ASYNC_1F1B, true, false, Optimiser.NADAM_FIXED_PSI,
                    "ours with stashing, NAdam's default psi 0.004 (not scaled to the run)"),
            new Variant("nostash", Schedule.ASYNC_1F1B, false, true, Optimiser.NADAM,
                    "ours without stashing, with the method.md section 5 settings"),
            new Variant("nostash-plain", Schedule.ASYNC_1F1B, false, false, Optimiser.NADAM,
                    "no stashing and no section 5 settings"),
            new Variant("pipedream", Schedule.ASYNC_1F1B, true, false, Optimiser.ADAM,
                    "PipeDream: async 1F1B, weight stashing, Adam (beta1 0.9)"),
            new Variant("nesterov", Schedule.ASYNC_1F1B, true, false, Optimiser.NESTEROV,
                    "weight stashing, DelayCorrectedNesterov with its discount delta"),
            new Variant("nesterov-no-discount", Schedule.ASYNC_1F1B, true, false, Optimiser.NESTEROV_NO_DISCOUNT,
                    "weight stashing, DelayCorrectedNesterov with delta = 1 (ablation)"),
            new Variant("nadam-beta1-0.9", Schedule.ASYNC_1F1B, true, false, Optimiser.NADAM_BETA1_09,
                    "weight stashing, DiscountedNadam with beta1 0.9 (ablation)"));

    static final List<String> VARIANTS = ALL.stream().map(Variant::name).toList();
    static final String DEFAULT_DATA_VARIANTS = "gpipe-adamw,gpipe-nadam,stash,stash-fixed-psi,nostash,nostash-plain,"
            + "pipedream,nesterov,nesterov-no-discount,nadam-beta1-0.9";
    static final String DEFAULT_UPDATES_VARIANTS = "gpipe-nadam,stash,nostash,pipedream";

    static Variant variant(String name) {
        for (Variant v : ALL) {
            if (v.name().equals(name)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown variant '" + name + "', choose from " + VARIANTS);
    }

    /** Values of {@code --protocol}. */
    enum Protocol { data, updates }

    /** Values of {@code --replay}. */
    enum YesNo { yes, no }

    @Option(names = "--protocol", description = "data: the paper's protocol, equal micro-batches (GPipe updates once"
            + " per --micro of them); updates: equal updates of --batch windows. Default: updates when --steps is"
            + " given, else data")
    Protocol protocol;

    @Option(names = "--micro-batches", description = "data protocol: micro-batches every variant trains on."
            + " Default: ${DEFAULT-VALUE}")
    int microBatches = 6000;

    @Option(names = "--steps", description = "updates protocol: optimizer steps per variant. Default: ${DEFAULT-VALUE}")
    int steps = 1200;

    @Option(names = "--stages", description = "pipeline stages, at least 2. Default: ${DEFAULT-VALUE}")
    int stages = 8;

    @Option(names = "--layers", description = "transformer blocks, a multiple of --stages (the same number per stage);"
            + " 0 means as many as --stages. Default: ${DEFAULT-VALUE}")
    int layers = 0;

    @Option(names = "--batch", description = "windows per micro-batch (data protocol) or per step (updates protocol)."
            + " Default: ${DEFAULT-VALUE}")
    int batch = 16;

    @Option(names = "--context", description = "characters per window. Default: ${DEFAULT-VALUE}")
    int context = 64;

    @Option(names = "--dim", description = "model width. Default: ${DEFAULT-VALUE}")
    int dim = 64;

    @Option(names = "--heads", description = "attention heads. Default: ${DEFAULT-VALUE}")
    int heads = 4;

    @Option(names = "--micro", description = "M: GPipe's micro-batches per update (data protocol), or per step, dividing"
            + " --batch (updates protocol). Default: ${DEFAULT-VALUE}")
    int micro = 4;

    @Option(names = "--lr", description = "peak learning rate of the Adam and NAdam variants without a --tuned value."
            + " Default: ${DEFAULT-VALUE}")
    double lr = 1e-3;

    @Option(names = "--nesterov-lr", description = "peak learning rate of the Nesterov variants without a --tuned"
            + " value. Default: ${DEFAULT-VALUE}")
    double nesterovLr = 0.3;

    @Option(names = "--momentum", description = "momentum γ of the Nesterov variants without a --tuned value."
            + " Default: ${DEFAULT-VALUE}")
    double momentum = 0.95;

    @Option(names = "--discount", description = "discount δ of the nesterov variant without a --tuned value; 0 means"
            + " 1 - γ. Default: ${DEFAULT-VALUE}")
    double discount = 0;

    @Option(names = "--tuned", paramLabel = "FILE", description = "per-variant learning rate, momentum and discount,"
            + " as PaperComparison writes them (tuned.json); variants it lists override --lr, --nesterov-lr,"
            + " --momentum and --discount. Default: none")
    Path tuned;

    @Option(names = "--psi", description = "DiscountedNadam's momentum decay ψ: a number, or 'scaled' for"
            + " " + "200 / the variant's updates (the paper's μ_t trajectory in relative time). Default: scaled (data"
            + " protocol), 0.004 (updates protocol)")
    String psi;

    @Option(names = "--clip", description = "L2 norm each stage clips its gradient to; 0: no clipping. Default: 10 (data"
            + " protocol), 0 (updates protocol, whose single variant, sd.fit, cannot clip)")
    Double clip;

    @Option(names = "--warmup", description = "linear warm-up, in micro-batches (data protocol; GPipe's is M times"
            + " fewer updates) or steps; -1 means 6%% of the run. Default: ${DEFAULT-VALUE}")
    int warmup = -1;

    @Option(names = "--pipemare", description = "T_c of the PipeMare correction (nostash), in updates; 0 means a quarter"
            + " of the run. Default: ${DEFAULT-VALUE}")
    int pipeMare = 0;

    @Option(names = "--eval-every", description = "micro-batches (data protocol, a multiple of --micro) or steps between"
            + " validation measurements; 0 means a twelfth of the run. Default: ${DEFAULT-VALUE}")
    int evalEvery = 0;

    @Option(names = "--val-windows", description = "validation windows. Default: ${DEFAULT-VALUE}")
    int valWindows = 256;

    @Option(names = "--seed", description = "weights and data seed. Default: ${DEFAULT-VALUE}")
    long seed = 7;

    @Option(names = "--variants", split = ",", paramLabel = "<variant>", completionCandidates = VariantNames.class,
            description = "comma-separated, from ${COMPLETION-CANDIDATES}. Default: every one but single (data"
                    + " protocol); " + DEFAULT_UPDATES_VARIANTS + " (updates protocol)")
    List<String> variants;

    @Option(names = "--replay", description = "run the pipelines single-threaded (same bits, no thread contention, so"
            + " the measured op costs are clean): ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}")
    YesNo replay = YesNo.no;

    @Option(names = "--boundary-compression", description = "how the pipelines' activations and gradients cross the"
            + " stage boundaries: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}")
    BoundaryCompression boundaryCompression = BoundaryCompression.NONE;

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

    /**
     * A variant's optimiser values.
     *
     * @param lr       peak learning rate
     * @param momentum γ of the Nesterov variants (null for the others)
     * @param discount δ of the {@code nesterov} variant (null: 1 - γ, or not a Nesterov variant)
     */
    record Hyper(double lr, Double momentum, Double discount) {

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lr", lr);
            if (momentum != null) {
                m.put("momentum", momentum);
            }
            if (discount != null) {
                m.put("discount", discount);
            }
            return m;
        }
    }

    /**
     * Checked options. {@code length}, {@code warmup} and {@code evalEvery} are in the protocol's unit: micro-batches
     * (data) or steps (updates); every value is resolved (no 0 or -1 left).
     */
    record Options(Protocol protocol, int length, int stages, int layers, int batch, int context, int dim, int heads,
                   int micro, int warmup, int pipeMareUpdates, int evalEvery, int valWindows, long seed,
                   List<Variant> variants, boolean replay, String psi, double clip, Map<String, Hyper> hypers,
                   BoundaryCompression compression) {

        /** Cuts: after every (layers / stages)-th block. */
        String[] cuts() {
            return DecoderTransformer.blockCuts(model(), stages);
        }

        TransformerConfig model() {
            return TransformerConfig.builder().vocabSize(EuroparlText.VOCAB_SIZE).contextLength(context).modelDim(dim)
                    .heads(heads).layers(layers).tiedOutputHead(false).seed(seed).dataType(DataType.FLOAT).build();
        }

        boolean data() {
            return protocol == Protocol.data;
        }

        /** Updates {@code v} makes over {@code units} of the protocol (micro-batches or steps). */
        int updates(Variant v, int units) {
            return data() && v.gpipe() ? units / micro : units;
        }

        /** Micro-batches {@code v} has trained on after {@code units}: GPipe splits a step into M (updates protocol). */
        long microBatches(Variant v, long units) {
            return !data() && v.gpipe() ? units * micro : units;
        }

        /** Windows seen after {@code units}. */
        long examples(long units) {
            return units * batch;
        }

        /** DiscountedNadam's ψ for {@code v}. */
        double psi(Variant v) {
            if (v.optimiser() == Optimiser.NADAM_FIXED_PSI) {
                return DEFAULT_PSI;
            }
            if (psi.equals("scaled")) {
                return PSI_TIMES_UPDATES / updates(v, length);
            }
            return Double.parseDouble(psi);
        }

        Hyper hyper(Variant v) {
            return hypers.get(v.name());
        }

        /** These options with {@code v}'s optimiser values set to {@code h}. */
        Options withHyper(Variant v, Hyper h) {
            Map<String, Hyper> m = new LinkedHashMap<>(hypers);
            m.put(v.name(), h);
            return new Options(protocol, length, stages, layers, batch, context, dim, heads, micro, warmup,
                    pipeMareUpdates, evalEvery, valWindows, seed, variants, replay, psi, clip, Map.copyOf(m), compression);
        }

        /** The chunks' sizes in protocol units. */
        List<Integer> chunks() {
            List<Integer> c = new ArrayList<>();
            for (int done = 0; done < length; done += evalEvery) {
                c.add(Math.min(evalEvery, length - done));
            }
            return c;
        }
    }

    private boolean given(String option) {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        return parsed != null && parsed.hasMatchedOption(option);
    }

    /** The parsed options, checked (a usage error naming the option otherwise). */
    Options options() {
        Protocol protocol = this.protocol != null ? this.protocol : given("--steps") ? Protocol.updates : Protocol.data;
        boolean data = protocol == Protocol.data;
        if (data && given("--steps")) {
            throw Cli.invalid(spec, "--steps counts updates of the updates protocol; with --protocol data give"
                    + " --micro-batches");
        }
        if (!data && given("--micro-batches")) {
            throw Cli.invalid(spec, "--micro-batches is for --protocol data; with --protocol updates give --steps");
        }
        int length = data ? Cli.positive(spec, "--micro-batches", microBatches) : Cli.positive(spec, "--steps", steps);
        String unit = data ? "--micro-batches" : "--steps";
        List<String> names = variants != null ? variants
                : List.of((data ? DEFAULT_DATA_VARIANTS : DEFAULT_UPDATES_VARIANTS).split(","));
        List<Variant> vs = new ArrayList<>();
        for (String n : names) {
            if (!VARIANTS.contains(n)) {
                throw Cli.invalid(spec, "--variants: unknown variant '" + n + "', choose from " + VARIANTS);
            }
            if (vs.stream().noneMatch(v -> v.name().equals(n))) {
                vs.add(variant(n));
            }
        }
        Cli.positive(spec, "--batch", batch);
        Cli.positive(spec, "--micro", micro);
        if (!data && batch % micro != 0) {
            throw Cli.invalid(spec, "--micro " + micro + " must divide --batch " + batch + " (updates protocol: GPipe"
                    + " splits each step's batch into --micro micro-batches)");
        }
        if (data && length % micro != 0) {
            throw Cli.invalid(spec, "--micro-batches " + length + " must be a multiple of --micro " + micro
                    + " (GPipe updates once per --micro micro-batches)");
        }
        int eval = evalEvery > 0 ? evalEvery : Math.max(1, length / 12);
        if (evalEvery < 0) {
            throw Cli.invalid(spec, "--eval-every must be at least 0 (0: a twelfth of the run), got " + evalEvery);
        }
        if (data && evalEvery == 0) {
            eval = Math.max(micro, eval - eval % micro);
        }
        if (data && eval % micro != 0) {
            throw Cli.invalid(spec, "--eval-every " + eval + " must be a multiple of --micro " + micro
                    + " (GPipe's updates must not straddle a validation measurement)");
        }
        int warm = warmup >= 0 ? warmup : (int) Math.round(0.06 * length);
        if (warmup < -1 || warm >= length) {
            throw Cli.invalid(spec, "--warmup must be -1 (6% of the run) or in [0, " + unit + "), got " + warmup);
        }
        if (pipeMare < 0) {
            throw Cli.invalid(spec, "--pipemare must be at least 0 (0: a quarter of the run), got " + pipeMare);
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
        String ps = psi != null ? psi.trim() : data ? "scaled" : String.valueOf(DEFAULT_PSI);
        if (!ps.equals("scaled")) {
            double value;
            try {
                value = Double.parseDouble(ps);
            } catch (NumberFormatException e) {
                throw Cli.invalid(spec, "--psi must be a number or 'scaled', got '" + psi + "'");
            }
            if (!(value > 0 && value < Double.POSITIVE_INFINITY)) {
                throw Cli.invalid(spec, "--psi must be positive, got " + psi);
            }
        }
        double cl = clip != null ? clip : data ? 10 : 0;
        if (!(cl >= 0 && cl < Double.POSITIVE_INFINITY)) {
            throw Cli.invalid(spec, "--clip must be a norm >= 0 (0: no clipping), got " + clip);
        }
        if (cl > 0 && vs.stream().anyMatch(v -> !v.pipelined())) {
            throw Cli.invalid(spec, "--variants single is sd.fit, which cannot clip gradients: give --clip 0 with it");
        }
        Cli.positive(spec, "--lr", lr);
        Cli.positive(spec, "--nesterov-lr", nesterovLr);
        if (!(momentum >= 0 && momentum < 1)) {
            throw Cli.invalid(spec, "--momentum must be in [0, 1), got " + momentum);
        }
        if (!(discount >= 0 && discount <= 1)) {
            throw Cli.invalid(spec, "--discount must be in (0, 1], or 0 for 1 - γ, got " + discount);
        }
        Map<String, Hyper> fromFile = tuned == null ? Map.of() : readTuned(tuned);
        Map<String, Hyper> hypers = new LinkedHashMap<>();
        for (Variant v : ALL) {             // every variant, so a caller may run one not in --variants
            Hyper h = fromFile.get(v.name());
            if (h == null) {
                h = switch (v.optimiser()) {
                    case NESTEROV -> new Hyper(nesterovLr, momentum, discount > 0 ? discount : null);
                    case NESTEROV_NO_DISCOUNT -> new Hyper(nesterovLr, momentum, null);
                    default -> new Hyper(lr, null, null);
                };
            }
            hypers.put(v.name(), h);
        }
        int updatesRun = length;
        return new Options(protocol, length, stages, blocks, batch, Cli.positive(spec, "--context", context),
                Cli.positive(spec, "--dim", dim), Cli.positive(spec, "--heads", heads), micro, warm,
                pipeMare > 0 ? pipeMare : Math.max(1, updatesRun / 4), eval,
                Cli.positive(spec, "--val-windows", valWindows), seed, List.copyOf(vs), replay == YesNo.yes, ps, cl,
                Map.copyOf(hypers), boundaryCompression);
    }

    /** Reads a tuned.json: {@code {"variants": {"stash": {"lr": 1e-3}, "nesterov": {"lr": 0.2, "momentum": ...}}}}. */
    private Map<String, Hyper> readTuned(Path file) {
        try {
            return PaperComparison.readTuned(file);
        } catch (IOException | IllegalArgumentException e) {
            throw Cli.invalid(spec, "--tuned " + file + ": " + e.getMessage());
        }
    }

    /**
     * Validation loss after each chunk, the training wall time up to it (seconds, evaluations excluded), and the
     * simulated time on {@code stages} devices up to it (seconds; a variant without a pipeline: its wall time).
     *
     * @param units micro-batches (data protocol) or steps (updates protocol) trained after each chunk
     */
    record Curve(String variant, List<Integer> units, List<Double> loss, List<Double> trainSeconds,
                 List<Double> deviceSeconds) {

        double last() {
            return loss.get(loss.size() - 1);
        }

        /** Training wall time of the whole curve. */
        double seconds() {
            return trainSeconds.isEmpty() ? 0 : trainSeconds.get(trainSeconds.size() - 1);
        }

        double deviceTotal() {
            return deviceSeconds.isEmpty() ? 0 : deviceSeconds.get(deviceSeconds.size() - 1);
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
        long parameters = parameters(c);
        System.out.println(describe(o, c, parameters));
        List<DataSet> validation = text.validationBatches(o.batch(), o.context(), o.valWindows(), DataType.FLOAT);
        if (dir != null) {
            ResultFiles.writeConfiguration(dir.resolve(JSON), spec, resolved(o, parameters, text));
        }
        List<Curve> curves = new ArrayList<>();
        for (Variant v : o.variants()) {
            // the CSV is rewritten after every validation measurement, the plots after every variant
            Curve cv = run(v, o, text, validation, partial -> {
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
                    + PLOT_EXAMPLES + ", " + PLOT_TIME + ", " + PLOT_DEVICE_TIME);
        }
        System.out.println();
        System.out.println(table(curves, o));
        return Cli.OK;
    }

    static long parameters(TransformerConfig c) {
        long parameters = 0;
        for (org.nd4j.autodiff.samediff.SDVariable v : DecoderTransformer.build(c).variables()) {
            if (v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE) {
                parameters += v.getArr().length();
            }
        }
        return parameters;
    }

    static String describe(Options o, TransformerConfig c, long parameters) {
        String protocol = o.data()
                ? String.format(Locale.ROOT, "protocol data (the paper's): %d micro-batches of %d windows x %d"
                + " characters for every variant; GPipe updates once per %d micro-batches", o.length(), o.batch(),
                o.context(), o.micro())
                : String.format(Locale.ROOT, "protocol updates (equal updates, not the paper's): %d steps of %d windows"
                + " x %d characters; GPipe splits each into %d micro-batches", o.length(), o.batch(), o.context(),
                o.micro());
        return String.format(Locale.ROOT, "model: %s, %d parameters; %d stages (%d blocks each, cut after %s)%n%s;"
                        + " warm-up %d, clip %s", c, parameters, o.stages(), o.layers() / o.stages(),
                String.join(", ", o.cuts()), protocol, o.warmup(), o.clip() > 0 ? String.valueOf(o.clip()) : "none");
    }

    /** The resolved values {@value #JSON} records beside the options: each variant's optimiser among them. */
    static Map<String, Object> resolved(Options o, long parameters, EuroparlText text) {
        Map<String, Object> resolved = new LinkedHashMap<>();
        resolved.put("protocol", o.protocol().name());
        resolved.put("layers", o.layers());
        resolved.put("warmup", o.warmup());
        resolved.put("evalEvery", o.evalEvery());
        resolved.put("clip", o.clip());
        resolved.put("boundaryCompression", o.compression().name());
        resolved.put("pipemare", o.pipeMareUpdates());
        resolved.put("cutAfter", List.of(o.cuts()));
        resolved.put("parameters", parameters);
        resolved.put("trainCharacters", text.trainLength());
        resolved.put("validationCharacters", text.validationLength());
        Map<String, Object> vs = new LinkedHashMap<>();
        for (Variant v : o.variants()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("description", v.description());
            m.put("updates", o.updates(v, o.length()));
            m.put("optimiser", updater(v, o).toString());
            m.putAll(o.hyper(v).json());
            if (v.optimiser().nadam()) {
                m.put("psi", o.psi(v));
            }
            vs.put(v.name(), m);
        }
        resolved.put("variants", vs);
        return resolved;
    }

    /** One variant, as {@link #run(Variant, Options, EuroparlText, List, Consumer)} with no callback. */
    static Curve run(String variant, Options o, EuroparlText text, List<DataSet> validation) {
        return run(variant(variant), o, text, validation, partial -> { });
    }

    /**
     * One variant, inside a {@link NativeMemoryGuard}: {@code sd.fit} of the single variant and the validation passes
     * of every variant run outside the pipeline's own memory pacing (without it, {@code --variants single --batch 64}
     * grew to 16 GB resident). {@code evaluated} receives the curve so far after every validation measurement.
     */
    static Curve run(Variant v, Options o, EuroparlText text, List<DataSet> validation, Consumer<Curve> evaluated) {
        try (NativeMemoryGuard guard = NativeMemoryGuard.open()) {
            return runGuarded(v, o, text, validation, evaluated);
        }
    }

    private static Curve runGuarded(Variant v, Options o, EuroparlText text, List<DataSet> validation,
                                    Consumer<Curve> evaluated) {
        SameDiff sd = DecoderTransformer.build(o.model());
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(updater(v, o), new WeightDecay(0.01, true)));
        int total = o.updates(v, o.length());
        String unit = !o.data() ? "steps" : v.gpipe() ? "updates" : "micro-batches";
        if (!v.pipelined()) {
            DecoderTransformer.prepareForFit(sd);
            try (Progress progress = Progress.start(v.name(), total, unit)) {
                sd.addListeners(progress.sameDiffListener());
                return train(v, o, text, validation, sd, it -> {
                    sd.fit(it, 1);
                    return null;
                }, progress, evaluated);
            }
        }
        AsyncPipelineWrapper.Builder b = new AsyncPipelineWrapper.Builder(sd)
                .cutAfter(o.cuts()).seed(o.seed()).singleThreadedReplay(o.replay()).schedule(v.schedule());
        if (v.gpipe()) {
            b.microBatches(o.micro());
        } else {
            b.weightStashing(v.stash());
        }
        if (v.section5()) {
            b.delayAwareMomentum(0.9).pipeMareLearningRate(o.pipeMareUpdates());
        }
        if (o.clip() > 0) {
            b.clipGradientNorm(o.clip());
        }
        b.boundaryCompression(o.compression());
        long t0 = System.nanoTime();
        try (AsyncPipelineWrapper w = b.build();
             Progress progress = Progress.start(v.name(), total, unit)) {
            System.out.printf(Locale.ROOT, "%-20s pipeline built in %.1f s%n", v.name(), (System.nanoTime() - t0) / 1e9);
            // SameDiff pipelines call no listener: count the batches the first stage reads
            return train(v, o, text, validation, sd, it -> {
                w.fit(progress.counting(it));
                return w.metrics();
            }, progress, evaluated);
        }
    }

    /**
     * Trains in chunks of {@code --eval-every} with {@code fit} (which returns the chunk's pipeline metrics, or null),
     * measuring the validation loss after each.
     */
    private static Curve train(Variant v, Options o, EuroparlText text, List<DataSet> validation, SameDiff sd,
                               java.util.function.Function<org.nd4j.linalg.dataset.api.iterator.DataSetIterator,
                                       PipelineMetrics> fit, Progress progress, Consumer<Curve> evaluated) {
        List<Integer> at = new ArrayList<>();
        List<Double> loss = new ArrayList<>();
        List<Double> seconds = new ArrayList<>();
        List<Double> device = new ArrayList<>();
        long nanos = 0;
        double deviceSeconds = 0;
        int done = 0;
        for (int n : o.chunks()) {
            List<DataSet> batches = batches(v, o, text, done, n);
            long t0 = System.nanoTime();
            PipelineMetrics m = fit.apply(new ListDataSetIterator<>(batches, 1));      // one DataSet = one update
            long took = System.nanoTime() - t0;
            nanos += took;
            deviceSeconds += m == null ? took / 1e9 : simulatedSeconds(v, o, m, batches.size());
            done += n;
            long e0 = System.nanoTime();
            double l = validationLoss(sd, validation);
            double evalSeconds = (System.nanoTime() - e0) / 1e9;
            at.add(done);
            loss.add(l);
            seconds.add(nanos / 1e9);
            device.add(deviceSeconds);
            progress.loss("val loss", l);
            evaluated.accept(new Curve(v.name(), List.copyOf(at), List.copyOf(loss), List.copyOf(seconds),
                    List.copyOf(device)));
            System.out.printf(Locale.ROOT, "%-20s %s %6d  validation loss %.6f  (%.1f s training, %.1f s on %d"
                            + " devices, %.1f s evaluation)%n", v.name(), o.data() ? "micro-batch" : "step", done, l,
                    nanos / 1e9, deviceSeconds, o.stages(), evalSeconds);
        }
        return new Curve(v.name(), at, loss, seconds, device);
    }

    /**
     * The training data of the chunk that starts after {@code done} protocol units and holds {@code n}: it depends only
     * on (seed, done), so every variant sees the same windows in the same order. Data protocol: n micro-batches of
     * --batch windows, which GPipe receives M at a time (its pipeline splits each back into the same micro-batches);
     * updates protocol: n batches of --batch windows.
     */
    static List<DataSet> batches(Variant v, Options o, EuroparlText text, int done, int n) {
        List<DataSet> micro = text.trainBatches(n, o.batch(), o.context(), o.seed() * 1_000_003L + done, DataType.FLOAT);
        if (!o.data() || !v.gpipe()) {
            return micro;
        }
        List<DataSet> grouped = new ArrayList<>(n / o.micro());
        for (int i = 0; i < n; i += o.micro()) {
            org.nd4j.linalg.api.ndarray.INDArray[] f = new org.nd4j.linalg.api.ndarray.INDArray[o.micro()];
            org.nd4j.linalg.api.ndarray.INDArray[] l = new org.nd4j.linalg.api.ndarray.INDArray[o.micro()];
            for (int j = 0; j < o.micro(); j++) {
                f[j] = micro.get(i + j).getFeatures();
                l[j] = micro.get(i + j).getLabels();
            }
            grouped.add(new DataSet(Nd4j.concat(0, f), Nd4j.concat(0, l)));
        }
        return grouped;
    }

    /**
     * The time {@code updates} DataSets of the chunk would take on P devices: the schedule simulator with the chunk's
     * mean forward, backward (with any recompute) and update cost per stage, no transfer latency.
     */
    static double simulatedSeconds(Variant v, Options o, PipelineMetrics m, int dataSets) {
        int p = m.stages().size();
        StagePlan plan = v.gpipe() ? Schedules.gpipe(p, o.micro(), dataSets) : Schedules.async1F1B(p, dataSets);
        return TimingSimulator.simulate(plan, MeasuredCosts.of(m)).makespan() / 1e9;
    }

    /**
     * The variant's optimiser: warm-up then cosine decay to 0.1× of its peak rate over its own updates (GPipe: M times
     * fewer in the data protocol).
     */
    static IUpdater updater(Variant v, Options o) {
        int updates = o.updates(v, o.length());
        int warm = o.updates(v, o.warmup());
        Hyper h = o.hyper(v);
        WarmupCosineSchedule schedule = new WarmupCosineSchedule(h.lr(), warm, updates, 0.1);
        return switch (v.optimiser()) {
            case ADAM -> Adam.builder().learningRateSchedule(schedule).beta1(0.9).beta2(0.999).epsilon(1e-8).build();
            case NADAM, NADAM_FIXED_PSI -> DiscountedNadam.builder().learningRateSchedule(schedule)
                    .momentumDecay(o.psi(v)).build();
            case NADAM_BETA1_09 -> DiscountedNadam.builder().learningRateSchedule(schedule).beta1(0.9)
                    .momentumDecay(o.psi(v)).build();
            case NESTEROV -> {
                DelayCorrectedNesterov.Builder nb = DelayCorrectedNesterov.builder().learningRateSchedule(schedule)
                        .momentum(h.momentum());
                yield (h.discount() != null ? nb.discount(h.discount()) : nb.discountFromMomentum()).build();
            }
            case NESTEROV_NO_DISCOUNT -> DelayCorrectedNesterov.builder().learningRateSchedule(schedule)
                    .momentum(h.momentum()).discount(1.0).build();
        };
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

    /** The optimiser values of {@code v} as a table cell. */
    static String hyperCell(Variant v, Options o) {
        Hyper h = o.hyper(v);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "lr %.3g", h.lr()));
        if (v.optimiser().nesterov()) {
            sb.append(String.format(Locale.ROOT, ", γ %.3f, δ %s", h.momentum(),
                    v.optimiser() == Optimiser.NESTEROV_NO_DISCOUNT ? "1"
                            : h.discount() == null ? "1-γ" : String.format(Locale.ROOT, "%.3g", h.discount())));
        }
        if (v.optimiser().nadam()) {
            sb.append(String.format(Locale.ROOT, ", ψ %.3g", o.psi(v)));
        }
        return sb.toString();
    }

    static String table(List<Curve> curves, Options o) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "| variant | optimiser | updates | val. loss (nats/char) | bits/char |"
                + " perplexity | train s | s on %d devices |%n", o.stages()));
        sb.append("|---|---|---|---|---|---|---|---|\n");
        for (Curve cv : curves) {
            Variant v = variant(cv.variant());
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %.4f | %.3f | %.2f | %.0f | %.0f |%n", cv.variant(),
                    hyperCell(v, o), o.updates(v, cv.units().get(cv.units().size() - 1)), cv.last(),
                    cv.last() / Math.log(2), Math.exp(cv.last()), cv.seconds(), cv.deviceTotal()));
        }
        sb.append(o.data()
                ? String.format(Locale.ROOT, "(protocol data: every variant saw %d micro-batches of %d windows of %d"
                + " characters; GPipe updated once per %d; %d blocks on %d stages)%n", o.length(), o.batch(),
                o.context(), o.micro(), o.layers(), o.stages())
                : String.format(Locale.ROOT, "(protocol updates, not the paper's: %d steps x %d windows of %d"
                + " characters for every variant; %d blocks on %d stages)%n", o.length(), o.batch(), o.context(),
                o.layers(), o.stages()));
        return sb.toString();
    }

    /**
     * {@value #CSV}: one row per validation measurement: protocol, variant, updates, micro-batches, examples seen
     * (windows of --context characters), characters seen, training seconds so far (evaluations excluded), simulated
     * seconds on --stages devices, validation loss.
     */
    static void writeCsv(Path file, List<Curve> curves, Options o) {
        try {
            csv(curves, o, Map.of()).write(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** The rows of {@link #writeCsv}, with {@code extra} columns (name, value) first on every row. */
    static Csv csv(List<Curve> curves, Options o, Map<String, Object> extra) {
        List<String> header = new ArrayList<>(extra.keySet());
        header.addAll(List.of("protocol", "variant", "updates", "micro_batches", "examples", "characters",
                "train_seconds", "device_seconds", "val_loss"));
        Csv csv = new Csv(header.toArray(new String[0]));
        for (Curve cv : curves) {
            Variant v = variant(cv.variant());
            for (int i = 0; i < cv.units().size(); i++) {
                int units = cv.units().get(i);
                long examples = o.examples(units);
                List<Object> row = new ArrayList<>(extra.values());
                row.addAll(List.of(o.protocol().name(), cv.variant(), o.updates(v, units), o.microBatches(v, units),
                        examples, examples * o.context(), cv.trainSeconds().get(i), cv.deviceSeconds().get(i),
                        cv.loss().get(i)));
                csv.row(row.toArray());
            }
        }
        return csv;
    }

    /** {@value #PLOT_EXAMPLES}, {@value #PLOT_TIME} and {@value #PLOT_DEVICE_TIME}: validation loss per variant. */
    static void writePlots(Path dir, List<Curve> curves, Options o) {
        List<Plots.Series> byExamples = new ArrayList<>();
        List<Plots.Series> byTime = new ArrayList<>();
        List<Plots.Series> byDevice = new ArrayList<>();
        for (Curve cv : curves) {
            int n = cv.units().size();
            double[] examples = new double[n];
            double[] seconds = new double[n];
            double[] deviceSeconds = new double[n];
            double[] loss = new double[n];
            for (int i = 0; i < n; i++) {
                examples[i] = o.examples(cv.units().get(i));
                seconds[i] = cv.trainSeconds().get(i);
                deviceSeconds[i] = cv.deviceSeconds().get(i);
                loss[i] = cv.loss().get(i);
            }
            byExamples.add(new Plots.Series(cv.variant(), examples, loss));
            byTime.add(new Plots.Series(cv.variant(), seconds, loss));
            byDevice.add(new Plots.Series(cv.variant(), deviceSeconds, loss));
        }
        String title = String.format(Locale.ROOT, "Validation loss, %d blocks on %d stages (%s)", o.layers(), o.stages(),
                o.data() ? "equal data" : "equal updates");
        String y = "validation loss (nats per character)";
        Plots.lines(dir.resolve(PLOT_EXAMPLES), title, "examples seen (windows of " + o.context() + " characters)", y,
                byExamples);
        Plots.lines(dir.resolve(PLOT_TIME), title, "training time on this machine (s, evaluations excluded)", y, byTime);
        Plots.lines(dir.resolve(PLOT_DEVICE_TIME), title, "simulated time on " + o.stages() + " devices (s)", y,
                byDevice);
    }
}
