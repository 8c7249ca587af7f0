package io.asyncpipeline.examples;

import io.asyncpipeline.transport.BoundaryCompression;
import io.asyncpipeline.examples.data.EuroparlText;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.DiscountedNadam;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
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
 * <p><b>Variants</b> ({@link ComparisonVariant#ALL}): {@code single} (no pipeline, {@code sd.fit}), GPipe with AdamW and with
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

    @Option(names = "--variants", split = ",", paramLabel = "<variant>", completionCandidates = ComparisonVariant.Names.class,
            description = "comma-separated, from ${COMPLETION-CANDIDATES}. Default: every one but single (data"
                    + " protocol); " + ComparisonVariant.DEFAULT_UPDATES + " (updates protocol)")
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
                   List<ComparisonVariant> variants, boolean replay, String psi, double clip, Map<String, Hyper> hypers,
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
        int updates(ComparisonVariant v, int units) {
            return data() && v.gpipe() ? units / micro : units;
        }

        /** Micro-batches {@code v} has trained on after {@code units}: GPipe splits a step into M (updates protocol). */
        long microBatches(ComparisonVariant v, long units) {
            return !data() && v.gpipe() ? units * micro : units;
        }

        /** Windows seen after {@code units}. */
        long examples(long units) {
            return units * batch;
        }

        /** DiscountedNadam's ψ for {@code v}. */
        double psi(ComparisonVariant v) {
            if (v.optimiser() == ComparisonVariant.Optimiser.NADAM_FIXED_PSI) {
                return DEFAULT_PSI;
            }
            if (psi.equals("scaled")) {
                return PSI_TIMES_UPDATES / updates(v, length);
            }
            return Double.parseDouble(psi);
        }

        Hyper hyper(ComparisonVariant v) {
            return hypers.get(v.name());
        }

        /** These options with {@code v}'s optimiser values set to {@code h}. */
        Options withHyper(ComparisonVariant v, Hyper h) {
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
                : List.of((data ? ComparisonVariant.DEFAULT_DATA : ComparisonVariant.DEFAULT_UPDATES).split(","));
        List<ComparisonVariant> vs = new ArrayList<>();
        for (String n : names) {
            if (!ComparisonVariant.NAMES.contains(n)) {
                throw Cli.invalid(spec, "--variants: unknown variant '" + n + "', choose from " + ComparisonVariant.NAMES);
            }
            if (vs.stream().noneMatch(v -> v.name().equals(n))) {
                vs.add(ComparisonVariant.named(n));
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
        for (ComparisonVariant v : ComparisonVariant.ALL) {             // every variant, so a caller may run one not in --variants
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
        for (ComparisonVariant v : o.variants()) {
            // the CSV is rewritten after every validation measurement, the plots after every variant
            Curve cv = ComparisonTraining.run(v, o, text, validation, partial -> {
                if (dir != null) {
                    List<Curve> sofar = new ArrayList<>(curves);
                    sofar.add(partial);
                    ComparisonOutput.writeCsv(dir.resolve(CSV), sofar, o);
                }
            });
            curves.add(cv);
            if (dir != null) {
                ComparisonOutput.writePlots(dir, curves, o);
            }
        }
        if (dir != null) {
            System.out.println("results written to " + dir.toAbsolutePath() + ": " + CSV + ", " + JSON + ", "
                    + PLOT_EXAMPLES + ", " + PLOT_TIME + ", " + PLOT_DEVICE_TIME);
        }
        System.out.println();
        System.out.println(ComparisonOutput.table(curves, o));
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
        for (ComparisonVariant v : o.variants()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("description", v.description());
            m.put("updates", o.updates(v, o.length()));
            m.put("optimiser", ComparisonTraining.updater(v, o).toString());
            m.putAll(o.hyper(v).json());
            if (v.optimiser().nadam()) {
                m.put("psi", o.psi(v));
            }
            vs.put(v.name(), m);
        }
        resolved.put("variants", vs);
        return resolved;
    }

}
