package io.asyncpipeline.examples;

import io.asyncpipeline.arbiter.DelayCorrectedNesterovSpace;
import io.asyncpipeline.examples.ComparisonVariant.Optimiser;
import io.asyncpipeline.examples.TransformerComparison.Curve;
import io.asyncpipeline.examples.TransformerComparison.Hyper;
import io.asyncpipeline.examples.TransformerComparison.Options;
import io.asyncpipeline.examples.data.EuroparlText;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deeplearning4j.arbiter.optimize.api.ParameterSpace;
import org.deeplearning4j.arbiter.optimize.generator.RandomSearchGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The paper's comparison on the paper's protocol (method.md §7), as a resumable sweep of {@link TransformerComparison}
 * runs: for every stage count of {@code --stages} and every variant,
 *
 * <ol>
 *   <li><b>tune</b>: an Arbiter random search ({@link RandomSearchGenerator}, seeded with {@code --tune-seed}) of
 *       {@code --candidates} candidates over the variant's peak learning rate, and for the Nesterov variants its
 *       momentum γ and discount δ, each candidate trained on {@code --tune-micro-batches} micro-batches with the tuning
 *       seed and scored by its final validation loss. Every variant gets the same budget and seed. The best candidate of
 *       each variant goes to {@code tuned-P<p>.json};</li>
 *   <li><b>final</b>: each variant at its tuned values on every seed of {@code --seeds} (not the tuning seed), the full
 *       {@code --micro-batches};</li>
 *   <li><b>report</b> ({@link PaperReport}): mean ± standard deviation over seeds of the final validation loss, the
 *       simulated time on P devices to reach GPipe (AdamW)'s final loss, GPipe's loss at the simulated time each variant
 *       finished, verdicts per variant against GPipe at equal data and at equal device time that claim a difference
 *       only when the gap exceeds both spreads, and plots of loss against data and against simulated device time with
 *       a seed band.</li>
 * </ol>
 *
 * Every run is single-threaded replay (the same bits as stage threads; the op costs that feed the device-time simulator
 * are then measured without contention). Results are written as each run finishes, and a run whose file exists is not
 * repeated, so the sweep can be stopped and resumed, and split over processes or sessions by {@code --stages} and
 * {@code --seeds}.
 */
@Command(name = "PaperComparison", mixinStandardHelpOptions = true, sortOptions = false,
        description = "The paper's comparison on the paper's protocol: per stage count, an equal-budget Arbiter search"
                + " for every variant, the tuned variants on fresh seeds, and a report with mean ± sd, device time and"
                + " plots. Resumable: runs already in --out are skipped.")
public final class PaperComparison implements Callable<Integer> {

    static final String TUNED = "tuned-P%d.json";
    static final String REPORT = "report.md";
    static final String SUMMARY = "summary.csv";
    static final String SETTINGS = "settings.json";

    /** Values of {@code --phase}. */
    enum Phase { all, tune, finals, report }

    @Option(names = "--out", paramLabel = "DIR", description = "results directory (created if missing; runs already"
            + " in it are skipped). Default: ${DEFAULT-VALUE}")
    Path out = Path.of("paper-comparison");

    @Option(names = "--phase", description = "${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}")
    Phase phase = Phase.all;

    @Option(names = "--stages", split = ",", description = "stage counts (each a divisor of --layers). Default: 2,4,8")
    List<Integer> stages = List.of(2, 4, 8);

    @Option(names = "--seeds", split = ",", description = "seeds of the final runs. Default: 11,12,13")
    List<Long> seeds = List.of(11L, 12L, 13L);

    @Option(names = "--tune-seed", description = "seed of every tuning run. Default: ${DEFAULT-VALUE}")
    long tuneSeed = 1;

    @Option(names = "--candidates", description = "Arbiter candidates per variant and stage count. Default: ${DEFAULT-VALUE}")
    int candidates = 6;

    @Option(names = "--tune-micro-batches", description = "micro-batches per tuning run (a multiple of --micro), with"
            + " its own warm-up and cosine over them; 0 means a quarter of --micro-batches. Default: ${DEFAULT-VALUE}")
    int tuneMicroBatches = 0;

    @Option(names = "--variants", split = ",", description = "variants (see TransformerComparison --help). Default: "
            + ComparisonVariant.DEFAULT_DATA)
    List<String> variants = List.of(ComparisonVariant.DEFAULT_DATA.split(","));

    @Option(names = "--micro-batches", description = "micro-batches every final run trains on. Default: ${DEFAULT-VALUE}")
    int microBatches = 6000;

    @Option(names = "--layers", description = "transformer blocks. Default: ${DEFAULT-VALUE}")
    int layers = 8;

    @Option(names = "--dim", description = "model width. Default: ${DEFAULT-VALUE}")
    int dim = 32;

    @Option(names = "--heads", description = "attention heads. Default: ${DEFAULT-VALUE}")
    int heads = 4;

    @Option(names = "--context", description = "characters per window. Default: ${DEFAULT-VALUE}")
    int context = 32;

    @Option(names = "--batch", description = "windows per micro-batch. Default: ${DEFAULT-VALUE}")
    int batch = 8;

    @Option(names = "--micro", description = "M: GPipe's micro-batches per update. Default: ${DEFAULT-VALUE}")
    int micro = 4;

    @Option(names = "--eval-every", description = "micro-batches between validation measurements of a final run (a"
            + " multiple of --micro); 0 means a twelfth of the run. Default: ${DEFAULT-VALUE}")
    int evalEvery = 0;

    @Option(names = "--val-windows", description = "validation windows. Default: ${DEFAULT-VALUE}")
    int valWindows = 256;

    @Option(names = "--clip", description = "gradient norm clipping per stage; 0: none. Default: ${DEFAULT-VALUE}")
    double clip = 10;

    @Option(names = "--lr", paramLabel = "<min:max>", description = "learning rates searched for the Adam and NAdam"
            + " variants (log scale). Default: ${DEFAULT-VALUE}")
    String lr = "2e-4:2e-2";

    @Option(names = "--nesterov-lr", paramLabel = "<min:max>", description = "learning rates searched for nesterov"
            + " (log scale; its step is lr · δ). Default: ${DEFAULT-VALUE}")
    String nesterovLr = "0.03:1";

    @Option(names = "--no-discount-lr", paramLabel = "<min:max>", description = "learning rates searched for"
            + " nesterov-no-discount (log scale; δ = 1). Default: ${DEFAULT-VALUE}")
    String noDiscountLr = "1e-3:0.1";

    @Option(names = "--momentum", paramLabel = "<min:max>", description = "momentum γ searched for the Nesterov variants."
            + " Default: ${DEFAULT-VALUE}")
    String momentum = "0.9:0.99";

    @Option(names = "--discount", paramLabel = "<min:max>", description = "discount δ searched for nesterov (log scale)."
            + " Default: ${DEFAULT-VALUE}")
    String discount = "0.01:0.3";

    /** How the replay measures the op costs that feed the device-time simulator. */
    enum OpCosts { cpu, wall }

    @Option(names = "--op-costs", description = "${COMPLETION-CANDIDATES}: the replay charges each forward, backward and"
            + " update its thread's CPU time (cpu: other work on the machine does not inflate the simulated device"
            + " time; ND4J must compute on one thread, as OMP_NUM_THREADS=1 makes it) or its elapsed time (wall)."
            + " Not a sweep setting: runs that ran either way can be resumed. Default: ${DEFAULT-VALUE}")
    OpCosts opCosts = OpCosts.cpu;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(Cli.execute(new PaperComparison(), args));
    }

    /** The sweep's fixed settings: a resumed sweep must use the same (its runs would not be comparable otherwise). */
    record Settings(int microBatches, int tuneMicroBatches, int layers, int dim, int heads, int context, int batch,
                    int micro, int evalEvery, int valWindows, double clip, long tuneSeed, int candidates, String lr,
                    String nesterovLr, String noDiscountLr, String momentum, String discount) {
    }

    private Settings settings() {
        Cli.positive(spec, "--micro-batches", microBatches);
        Cli.positive(spec, "--candidates", candidates);
        if (tuneMicroBatches < 0) {
            throw Cli.invalid(spec, "--tune-micro-batches must be at least 0 (0: a quarter of --micro-batches), got "
                    + tuneMicroBatches);
        }
        for (int p : stages) {
            if (p < 2 || layers % p != 0) {
                throw Cli.invalid(spec, "--stages " + p + ": needs at least 2 stages dividing --layers " + layers);
            }
        }
        for (long s : seeds) {
            if (s == tuneSeed) {
                throw Cli.invalid(spec, "--seeds must not hold the tuning seed " + tuneSeed + ": the final rows run on"
                        + " fresh seeds");
            }
        }
        for (String v : variants) {
            if (!ComparisonVariant.NAMES.contains(v) || v.equals("single")) {
                throw Cli.invalid(spec, "--variants: unknown or unpipelined variant '" + v + "', choose from "
                        + ComparisonVariant.NAMES.subList(1, ComparisonVariant.NAMES.size()));
            }
        }
        if (clip < 0) {
            throw Cli.invalid(spec, "--clip must be at least 0, got " + clip);
        }
        int tune = tuneMicroBatches > 0 ? tuneMicroBatches : Math.max(micro, microBatches / 4 - microBatches / 4 % micro);
        Settings s = new Settings(microBatches, tune, layers, dim, heads, context, batch, micro, evalEvery,
                valWindows, clip, tuneSeed, candidates, lr, nesterovLr, noDiscountLr, momentum, discount);
        // the options of a run, checked once by TransformerComparison's own rules
        for (int p : stages) {
            options(s, p, tuneSeed, ComparisonVariant.named(variants.get(0)), null, tune);
        }
        for (String v : variants) {
            space(ComparisonVariant.named(v), s);
        }
        return s;
    }

    /**
     * The options of one run: the data protocol, single-threaded replay, the given variant with {@code hyper} (null:
     * TransformerComparison's defaults).
     */
    Options options(Settings s, int p, long seed, ComparisonVariant v, Hyper hyper, int length) {
        List<String> args = new ArrayList<>(List.of("--protocol", "data", "--micro-batches", String.valueOf(length),
                "--stages", String.valueOf(p), "--layers", String.valueOf(s.layers()), "--dim", String.valueOf(s.dim()),
                "--heads", String.valueOf(s.heads()), "--context", String.valueOf(s.context()), "--batch",
                String.valueOf(s.batch()), "--micro", String.valueOf(s.micro()), "--val-windows",
                String.valueOf(s.valWindows()), "--seed", String.valueOf(seed), "--variants", v.name(), "--replay", "yes",
                "--clip", String.valueOf(s.clip())));
        // a tuning run measures its loss once, at the end; a final run a twelfth of the way (or --eval-every)
        int eval = length == s.microBatches() ? s.evalEvery() : length;
        args.addAll(List.of("--eval-every", String.valueOf(eval)));
        TransformerComparison tc = new TransformerComparison();
        try {
            Cli.commandLine(tc).parseArgs(args.toArray(new String[0]));
            Options o = tc.options();
            return hyper == null ? o : o.withHyper(v, hyper);
        } catch (picocli.CommandLine.ParameterException e) {
            throw Cli.invalid(spec, e.getMessage());
        }
    }

    /** The Arbiter space a variant's candidates are drawn from. */
    ParameterSpace<?> space(ComparisonVariant v, Settings s) {
        try {
            return switch (v.optimiser()) {
                case NESTEROV -> DelayCorrectedNesterovSpace.builder().learningRate(range("--nesterov-lr", s.nesterovLr(), true))
                        .momentum(range("--momentum", s.momentum(), false))
                        .discount(range("--discount", s.discount(), true)).build();
                case NESTEROV_NO_DISCOUNT -> DelayCorrectedNesterovSpace.builder()
                        .learningRate(range("--no-discount-lr", s.noDiscountLr(), true))
                        .momentum(range("--momentum", s.momentum(), false))
                        .discount(new org.deeplearning4j.arbiter.optimize.parameter.FixedValue<>(1.0)).build();
                default -> range("--lr", s.lr(), true);
            };
        } catch (IllegalArgumentException e) {
            throw Cli.invalid(spec, e.getMessage());
        }
    }

    private ParameterSpace<Double> range(String option, String value, boolean log) {
        return SearchRange.parse(spec, option, value, log, false);
    }

    /** The variant's candidates, in the order the seeded Arbiter generator draws them. */
    List<Hyper> candidates(ComparisonVariant v, Settings s) {
        RandomSearchGenerator g = new RandomSearchGenerator(space(v, s), null);
        g.setRngSeed(s.tuneSeed());
        List<Hyper> out = new ArrayList<>();
        for (int i = 0; i < s.candidates(); i++) {
            Object value = g.getCandidate().getValue();
            if (value instanceof DelayCorrectedNesterov n) {
                out.add(new Hyper(n.getLearningRate(0, 0), n.getMomentum(),
                        v.optimiser() == Optimiser.NESTEROV_NO_DISCOUNT ? null : n.getDiscount()));
            } else {
                out.add(new Hyper((Double) value, null, null));
            }
        }
        return out;
    }

    @Override
    public Integer call() throws IOException {
        if (phase == Phase.report) {
            new PaperReport(out).write(landedSettings());
            return Cli.OK;
        }
        adoptLandedSettings();
        Settings s = settings();
        System.setProperty(io.asyncpipeline.runtime.PipelineRun.REPLAY_COSTS_PROPERTY, opCosts.name());
        Files.createDirectories(out);
        checkSettings(s);
        EuroparlText text = EuroparlText.load(0.1);
        List<DataSet> validation = text.validationBatches(s.batch(), s.context(), s.valWindows(), DataType.FLOAT);
        List<ComparisonVariant> vs = variants.stream().map(ComparisonVariant::named).toList();
        if (phase == Phase.all || phase == Phase.tune) {
            for (int p : stages) {
                tune(s, p, vs, text, validation);
            }
        }
        if (phase == Phase.all || phase == Phase.finals) {
            for (int p : stages) {
                finals(s, p, vs, text, validation);
            }
        }
        if (phase == Phase.all) {
            new PaperReport(out).write(s);
        }
        return Cli.OK;
    }

    /**
     * The settings of the sweep in {@code --out}, as its {@value #SETTINGS} holds them: a report describes the runs that
     * landed, whatever options the report command was given.
     */
    private Settings landedSettings() throws IOException {
        Path f = out.resolve(SETTINGS);
        if (!Files.exists(f)) {
            throw Cli.invalid(spec, "--out " + out + " holds no sweep (no " + SETTINGS + "): run --phase tune or finals"
                    + " first");
        }
        try {
            return new ObjectMapper().readValue(Files.readString(f, StandardCharsets.UTF_8), Settings.class);
        } catch (org.nd4j.shade.jackson.core.JsonProcessingException e) {
            throw Cli.invalid(spec, f + " is not a sweep's settings file: " + e.getOriginalMessage());
        }
    }

    /**
     * Resuming a sweep: every sweep setting not given on the command line is taken from {@code --out}'s
     * {@value #SETTINGS}, so that a resume needs only {@code --out} and what to run ({@code --stages}, {@code --seeds},
     * {@code --variants}); a setting given that differs is still refused by {@link #checkSettings}.
     */
    private void adoptLandedSettings() throws IOException {
        if (!Files.exists(out.resolve(SETTINGS))) {
            return;
        }
        Settings l = landedSettings();
        picocli.CommandLine.ParseResult pr = spec.commandLine().getParseResult();
        if (pr == null) {
            return;                      // not parsed from a command line: the fields are what the caller set
        }
        java.util.function.Predicate<String> free = o -> !pr.hasMatchedOption(o);
        List<String> taken = new ArrayList<>();
        java.util.function.BiConsumer<String, Runnable> take = (o, set) -> {
            if (free.test(o)) {
                set.run();
                taken.add(o);
            }
        };
        take.accept("--micro-batches", () -> microBatches = l.microBatches());
        take.accept("--tune-micro-batches", () -> tuneMicroBatches = l.tuneMicroBatches());
        take.accept("--layers", () -> layers = l.layers());
        take.accept("--dim", () -> dim = l.dim());
        take.accept("--heads", () -> heads = l.heads());
        take.accept("--context", () -> context = l.context());
        take.accept("--batch", () -> batch = l.batch());
        take.accept("--micro", () -> micro = l.micro());
        take.accept("--eval-every", () -> evalEvery = l.evalEvery());
        take.accept("--val-windows", () -> valWindows = l.valWindows());
        take.accept("--clip", () -> clip = l.clip());
        take.accept("--tune-seed", () -> tuneSeed = l.tuneSeed());
        take.accept("--candidates", () -> candidates = l.candidates());
        take.accept("--lr", () -> lr = l.lr());
        take.accept("--nesterov-lr", () -> nesterovLr = l.nesterovLr());
        take.accept("--no-discount-lr", () -> noDiscountLr = l.noDiscountLr());
        take.accept("--momentum", () -> momentum = l.momentum());
        take.accept("--discount", () -> discount = l.discount());
        if (!taken.isEmpty()) {
            System.out.println("resuming the sweep in " + out + " with " + SETTINGS + "'s " + String.join(", ", taken));
        }
    }

    /** Writes {@value #SETTINGS}, or checks that an existing one matches (a resumed sweep must not change them). */
    private void checkSettings(Settings s) throws IOException {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Path f = out.resolve(SETTINGS);
        String mine = m.writeValueAsString(s);
        if (Files.exists(f)) {
            JsonNode theirs = m.readTree(Files.readString(f, StandardCharsets.UTF_8));
            if (!theirs.equals(m.readTree(mine))) {
                throw Cli.invalid(spec, "--out " + out + " holds a sweep with other settings (" + f + "): "
                        + theirs + "; give another --out, or the same settings to resume it");
            }
        } else {
            Files.writeString(f, mine, StandardCharsets.UTF_8);
        }
    }

    private Path tuneFile(int p, ComparisonVariant v) {
        return out.resolve("tune").resolve("P" + p).resolve(v.name() + ".csv");
    }

    private Path finalFile(int p, long seed, ComparisonVariant v) {
        return out.resolve("final").resolve("P" + p).resolve("seed" + seed).resolve(v.name() + ".csv");
    }

    /** The tuning runs of stage count p that are not on disk yet, then {@code tuned-P<p>.json} from all of them. */
    private void tune(Settings s, int p, List<ComparisonVariant> vs, EuroparlText text, List<DataSet> validation) throws IOException {
        for (ComparisonVariant v : vs) {
            Path f = tuneFile(p, v);
            List<Map<String, String>> done = Files.exists(f) ? readCsv(f) : new ArrayList<>();
            List<Hyper> cs = candidates(v, s);
            for (int i = done.size(); i < cs.size(); i++) {
                Hyper h = cs.get(i);
                Options o = options(s, p, s.tuneSeed(), v, h, s.tuneMicroBatches());
                long t0 = System.nanoTime();
                String status = "complete";
                double loss;
                try {
                    loss = ComparisonTraining.run(v, o, text, validation, c -> { }).last();
                } catch (RuntimeException e) {
                    status = "failed: " + rootMessage(e);
                    loss = Double.NaN;
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                Map<String, String> row = new LinkedHashMap<>();
                row.put("candidate", String.valueOf(i));
                row.put("lr", String.valueOf(h.lr()));
                row.put("momentum", h.momentum() == null ? "" : String.valueOf(h.momentum()));
                row.put("discount", h.discount() == null ? "" : String.valueOf(h.discount()));
                row.put("val_loss", Double.isNaN(loss) ? "" : String.valueOf(loss));
                row.put("status", status);
                row.put("seconds", String.format(Locale.ROOT, "%.1f", seconds));
                done.add(row);
                writeRows(f, done);
                System.out.printf(Locale.ROOT, "tune P=%d %s candidate %d/%d (%s): %s, %.0f s%n", p, v.name(), i + 1,
                        cs.size(), ComparisonOutput.hyperCell(v, o), Double.isNaN(loss) ? status
                                : String.format(Locale.ROOT, "validation loss %.4f", loss), seconds);
            }
        }
        writeTuned(s, p);
    }

    /** {@code tuned-P<p>.json}: each variant's best completed candidate (variants not fully tuned are left out). */
    /**
     * {@code tuned-P<p>.json}: the best candidate of every variant whose search in {@code tune/P<p>} is complete
     * (all {@code --candidates} tried), whichever command tuned it, in the variants' order.
     */
    private void writeTuned(Settings s, int p) throws IOException {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = m.createObjectNode();
        ObjectNode variantsNode = root.putObject("variants");
        for (ComparisonVariant v : ComparisonVariant.ALL) {
            Path f = tuneFile(p, v);
            if (!Files.exists(f)) {
                continue;
            }
            List<Map<String, String>> candidatesTried = readCsv(f);
            if (candidatesTried.size() < s.candidates()) {
                continue;
            }
            Map<String, String> best = null;
            for (Map<String, String> r : candidatesTried) {
                if (!r.get("val_loss").isEmpty()
                        && (best == null || Double.parseDouble(r.get("val_loss")) < Double.parseDouble(best.get("val_loss")))) {
                    best = r;
                }
            }
            if (best == null) {
                continue;
            }
            ObjectNode n = variantsNode.putObject(v.name());
            n.put("lr", Double.parseDouble(best.get("lr")));
            if (!best.get("momentum").isEmpty()) {
                n.put("momentum", Double.parseDouble(best.get("momentum")));
            }
            if (!best.get("discount").isEmpty()) {
                n.put("discount", Double.parseDouble(best.get("discount")));
            }
            n.put("tuningLoss", Double.parseDouble(best.get("val_loss")));
            n.put("candidate", Integer.parseInt(best.get("candidate")));
        }
        Path f = out.resolve(String.format(Locale.ROOT, TUNED, p));
        byte[] json = m.writeValueAsBytes(root);
        ResultFiles.replace(f, o -> o.write(json));      // atomic: another sweep process may be reading it
    }

    /** Reads the per-variant values of a tuned.json (see {@link #writeTuned}). */
    static Map<String, Hyper> readTuned(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readString(file, StandardCharsets.UTF_8));
        JsonNode vs = root.get("variants");
        if (vs == null || !vs.isObject()) {
            throw new IllegalArgumentException("no \"variants\" object");
        }
        Map<String, Hyper> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = vs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!ComparisonVariant.NAMES.contains(e.getKey())) {
                throw new IllegalArgumentException("unknown variant '" + e.getKey() + "'");
            }
            JsonNode n = e.getValue();
            if (!n.has("lr") || !(n.get("lr").asDouble() > 0)) {
                throw new IllegalArgumentException(e.getKey() + ": needs a positive \"lr\"");
            }
            out.put(e.getKey(), new Hyper(n.get("lr").asDouble(), n.has("momentum") ? n.get("momentum").asDouble() : null,
                    n.has("discount") ? n.get("discount").asDouble() : null));
        }
        return out;
    }

    /** The final runs of stage count p not on disk yet, each at its variant's tuned values. */
    private void finals(Settings s, int p, List<ComparisonVariant> vs, EuroparlText text, List<DataSet> validation)
            throws IOException {
        Path tunedFile = out.resolve(String.format(Locale.ROOT, TUNED, p));
        Map<String, Hyper> tuned = Files.exists(tunedFile) ? readTuned(tunedFile) : Map.of();
        for (long seed : seeds) {
            for (ComparisonVariant v : vs) {
                Path f = finalFile(p, seed, v);
                if (Files.exists(f)) {
                    continue;
                }
                Hyper h = tuned.get(v.name());
                if (h == null) {
                    System.out.printf("final P=%d seed %d %s: not tuned yet (run --phase tune first), skipped%n", p, seed,
                            v.name());
                    continue;
                }
                Options o = options(s, p, seed, v, h, s.microBatches());
                long t0 = System.nanoTime();
                Curve c = ComparisonTraining.run(v, o, text, validation, cv -> { });
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("stages", p);
                extra.put("seed", seed);
                extra.put("lr", h.lr());
                extra.put("momentum", h.momentum());
                extra.put("discount", h.discount());
                extra.put("psi", v.optimiser().nadam() ? o.psi(v) : null);
                extra.put("op_costs", opCosts.name());
                Files.createDirectories(f.getParent());
                Path tmp = f.resolveSibling(f.getFileName() + ".partial");
                ComparisonOutput.csv(List.of(c), o, extra).write(tmp);
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                System.out.printf(Locale.ROOT, "final P=%d seed %d %s (%s): validation loss %.4f, %.0f s%n", p, seed,
                        v.name(), ComparisonOutput.hyperCell(v, o), c.last(), (System.nanoTime() - t0) / 1e9);
            }
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return m.replace('\n', ' ').replace(',', ';');
    }

    // ------------------------------------------------------------------------------------------------ CSV

    static List<Map<String, String>> readCsv(Path f) throws IOException {
        List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        List<Map<String, String>> rows = new ArrayList<>();
        if (lines.isEmpty()) {
            return rows;
        }
        String[] header = lines.get(0).split(",", -1);
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] cells = line.split(",", -1);
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < header.length; i++) {
                row.put(header[i], i < cells.length ? cells[i] : "");
            }
            rows.add(row);
        }
        return rows;
    }

    private static void writeRows(Path f, List<Map<String, String>> rows) {
        try {
            Files.createDirectories(f.getParent());
            Csv csv = new Csv(rows.get(0).keySet().toArray(new String[0]));
            for (Map<String, String> r : rows) {
                csv.row(r.values().toArray());
            }
            csv.write(f);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + f, e);
        }
    }
}
