package io.asyncpipeline.examples;

import io.asyncpipeline.Schedule;
import io.asyncpipeline.arbiter.DelayCorrectedNesterovSpace;
import io.asyncpipeline.arbiter.DiscountedNadamSpace;
import io.asyncpipeline.arbiter.PipelineCandidate;
import io.asyncpipeline.arbiter.PipelineCandidateSpace;
import io.asyncpipeline.arbiter.PipelineSpace;
import io.asyncpipeline.arbiter.PipelineTaskCreator;
import io.asyncpipeline.arbiter.SameDiffLossScoreFunction;
import io.asyncpipeline.arbiter.Trial;
import io.asyncpipeline.examples.data.EuroparlDataSource;
import io.asyncpipeline.examples.data.EuroparlText;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.DiscountedNadam;
import org.deeplearning4j.arbiter.optimize.api.CandidateGenerator;
import org.deeplearning4j.arbiter.optimize.api.OptimizationResult;
import org.deeplearning4j.arbiter.optimize.api.ParameterSpace;
import org.deeplearning4j.arbiter.optimize.api.termination.MaxCandidatesCondition;
import org.deeplearning4j.arbiter.optimize.api.termination.MaxTimeCondition;
import org.deeplearning4j.arbiter.optimize.api.termination.TerminationCondition;
import org.deeplearning4j.arbiter.optimize.config.OptimizationConfiguration;
import org.deeplearning4j.arbiter.optimize.generator.GridSearchCandidateGenerator;
import org.deeplearning4j.arbiter.optimize.generator.RandomSearchGenerator;
import org.deeplearning4j.arbiter.optimize.runner.CandidateInfo;
import org.deeplearning4j.arbiter.optimize.runner.CandidateStatus;
import org.deeplearning4j.arbiter.optimize.runner.IOptimizationRunner;
import org.deeplearning4j.arbiter.optimize.runner.LocalOptimizationRunner;
import org.deeplearning4j.arbiter.optimize.runner.listener.BaseStatusListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Arbiter searches over learning rate, momentum and discount for the two delay-correcting updaters, each candidate
 * trained by the asynchronous pipeline (1F1B, weight stashing) on the Europarl character model, cut into
 * {@code --stages} stages, and scored by validation loss. For {@link DiscountedNadam} the momentum is β1 and the
 * discount the momentum decay ψ (how fast μ_t, and so the gradient discount 1 - μ_t, reaches its target); for
 * {@link DelayCorrectedNesterov} they are γ and δ (method.md §3-4).
 *
 * <p>Writes to {@code --out}: {@value #CSV} and {@value #MARKDOWN} (every candidate, sorted by validation loss, failed
 * ones last with their reason), {@code heatmap-<updater>.png} (validation loss over momentum × discount at the
 * updater's best learning rate) and {@value #BEST} (the best candidate with the model, data and budget it was trained
 * with). {@code --retrain FILE} trains such a file again and compares the score: with {@code --dtype double
 * --replay yes} it is the same to the bit.
 */
@Command(name = "TuneDelayCorrection", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Arbiter search over learning rate, momentum and discount of the delay-correcting updaters,"
                + " through the asynchronous pipeline.")
public final class TuneDelayCorrection implements Callable<Integer> {

    static final String CSV = "tuning.csv";
    static final String MARKDOWN = "tuning.md";
    static final String BEST = "best.json";
    static final List<String> UPDATERS = List.of("nadam", "nesterov");

    @Option(names = "--stages", description = "pipeline stages (4 or 8 in the README). Default: ${DEFAULT-VALUE}")
    int stages = 4;

    @Option(names = "--layers", description = "transformer blocks, a multiple of --stages (the same model at 4 or 8"
            + " stages by default). Default: ${DEFAULT-VALUE}")
    int layers = 8;

    @Option(names = "--dim", description = "model width. Default: ${DEFAULT-VALUE}")
    int dim = 32;

    @Option(names = "--heads", description = "attention heads. Default: ${DEFAULT-VALUE}")
    int heads = 4;

    @Option(names = "--context", description = "characters per window. Default: ${DEFAULT-VALUE}")
    int context = 32;

    @Option(names = "--batch", description = "windows per micro-batch (one update each). Default: ${DEFAULT-VALUE}")
    int batch = 16;

    @Option(names = "--steps", description = "training steps per candidate. Default: ${DEFAULT-VALUE}")
    int steps = 300;

    @Option(names = "--val-windows", description = "validation windows. Default: ${DEFAULT-VALUE}")
    int valWindows = 256;

    @Option(names = "--search", description = "random or grid. Default: ${DEFAULT-VALUE}")
    String search = "random";

    @Option(names = "--grid-points", description = "values per hyperparameter (grid search; also the heat map's bins"
            + " for a random search). Default: ${DEFAULT-VALUE}")
    int gridPoints = 3;

    @Option(names = "--candidates", description = "candidates per updater (random search). Default: ${DEFAULT-VALUE}")
    int candidates = 12;

    @Option(names = "--updaters", split = ",", description = "comma-separated, from nadam (DiscountedNadam) and nesterov"
            + " (DelayCorrectedNesterov). Default: nadam,nesterov")
    List<String> updaters = UPDATERS;

    @Option(names = "--nadam-lr", paramLabel = "<min:max>", description = "DiscountedNadam learning rates (log scale)."
            + " Default: ${DEFAULT-VALUE}")
    String nadamLr = "3e-4:3e-3";

    @Option(names = "--nesterov-lr", paramLabel = "<min:max>", description = "DelayCorrectedNesterov learning rates (log"
            + " scale). Default: ${DEFAULT-VALUE}")
    String nesterovLr = "0.03:0.3";

    @Option(names = "--momentum", paramLabel = "<min:max>", description = "β1 / γ (linear). Default: ${DEFAULT-VALUE}")
    String momentum = "0.9:0.99";

    @Option(names = "--decay", paramLabel = "<min:max>", description = "DiscountedNadam's momentum decay ψ (log scale)."
            + " Default: ${DEFAULT-VALUE}")
    String decay = "0.004:0.4";

    @Option(names = "--discount", paramLabel = "<min:max>", description = "DelayCorrectedNesterov's discount δ (log scale)."
            + " Default: ${DEFAULT-VALUE}")
    String discount = "0.01:0.3";

    @Option(names = "--dtype", description = "float or double. Default: ${DEFAULT-VALUE}")
    String dtype = "float";

    @Option(names = "--replay", description = "yes: train each candidate single-threaded in the pipeline's order (the"
            + " same bits as threads, reproducible); no: stage threads. Default: ${DEFAULT-VALUE}")
    String replay = "no";

    @Option(names = "--seed", description = "model and data seed. Default: ${DEFAULT-VALUE}")
    long seed = 1;

    @Option(names = "--max-minutes", description = "stop each updater's search after this long (0: no limit)."
            + " Default: ${DEFAULT-VALUE}")
    int maxMinutes;

    @Option(names = "--out", paramLabel = "DIR", description = "results directory, created if missing."
            + " Default: ${DEFAULT-VALUE}")
    Path out = Path.of("tuning-results");

    @Option(names = "--retrain", paramLabel = "FILE", description = "train the candidate of a " + BEST + " again"
            + " (with its model, data and budget; the other options are ignored) and compare its score")
    Path retrain;

    @Spec
    CommandSpec spec;

    /** The lowest validation loss so far, over every updater's search (for the progress display). */
    private double best = Double.NaN;

    public static void main(String[] args) {
        System.exit(Cli.execute(new TuneDelayCorrection(), args));
    }

    /** The settings one search's candidates are trained with: everything {@value #BEST} needs to train one again. */
    record Setup(int stages, int layers, int dim, int heads, int context, int batch, int steps, int valWindows,
                 DataType dtype, boolean replay, long seed) {

        TransformerConfig model() {
            return TransformerConfig.builder().vocabSize(EuroparlText.VOCAB_SIZE).contextLength(context).modelDim(dim)
                    .heads(heads).layers(layers).tiedOutputHead(false).seed(seed).dataType(dtype).build();
        }

        Properties data() {
            return EuroparlDataSource.properties(context, batch, steps, seed, dtype, valWindows);
        }

        PipelineTaskCreator tasks() {
            return PipelineTaskCreator.builder().transformer(model()).stepsPerCandidate(steps).seed(seed)
                    .singleThreadedReplay(replay).reportEvery(0).build();
        }

        PipelineSpace pipeline() {
            return PipelineSpace.builder().schedule(Schedule.ASYNC_1F1B).weightStashing(true).stages(stages).build();
        }
    }

    @Override
    public Integer call() throws IOException {
        if (retrain != null) {
            return retrain(retrain);
        }
        Setup s = setup();
        Files.createDirectories(out);
        int total = 0;
        for (String u : updaters) {
            total += search.equals("grid") ? (int) Math.pow(gridPoints, updaterSpace(u).numParameters()) : candidates;
        }
        System.out.printf(Locale.ROOT, "TuneDelayCorrection: %s search, %d candidates (%s); transformer %d"
                        + " blocks, d %d, %d heads, context %d on %d async stages with stashing; %d steps of %d windows"
                        + " per candidate, %s, replay %s%n", search, total, String.join(",", updaters), s.layers(),
                s.dim(), s.heads(), s.context(), s.stages(), s.steps(), s.batch(), s.dtype(), s.replay());
        List<Row> rows = new ArrayList<>();
        best = Double.NaN;
        try (Progress progress = Progress.start("search", total, "candidates")) {
            for (String u : updaters) {
                rows.addAll(search(u, s, progress));
            }
        }
        rows.sort(Row.ORDER);
        writeTables(rows, s);
        for (String u : updaters) {
            writeHeatMap(u, rows);
        }
        Row best = rows.isEmpty() || !rows.get(0).trial().completed() ? null : rows.get(0);
        System.out.println();
        System.out.print(markdown(rows, s, 10));
        if (best != null) {
            writeBest(best, s);
            System.out.printf(Locale.ROOT, "%nbest: %s, validation loss %.6f%n", best.describe(), best.trial().score());
        } else {
            System.out.println("\nno candidate completed: see the failures above");
        }
        System.out.println("results written to " + out.toAbsolutePath() + ": " + CSV + ", " + MARKDOWN
                + ", heatmap-<updater>.png" + (best != null ? ", " + BEST : ""));
        return best != null ? Cli.OK : 1;
    }

    private Setup setup() {
        Cli.positive(spec, "--stages", stages);
        if (stages < 2) {
            throw Cli.invalid(spec, "--stages must be at least 2, got " + stages);
        }
        int blocks = layers;
        if (layers < 1 || blocks % stages != 0) {
            throw Cli.invalid(spec, "--layers " + layers + " must be a multiple of --stages " + stages);
        }
        if (!search.equals("grid") && !search.equals("random")) {
            throw Cli.invalid(spec, "--search must be grid or random, got " + search);
        }
        Cli.positive(spec, "--grid-points", gridPoints);
        Cli.positive(spec, "--candidates", candidates);
        for (String u : updaters) {
            if (!UPDATERS.contains(u)) {
                throw Cli.invalid(spec, "--updaters: unknown updater '" + u + "', choose from " + UPDATERS);
            }
        }
        if (!replay.equals("yes") && !replay.equals("no")) {
            throw Cli.invalid(spec, "--replay must be yes or no, got " + replay);
        }
        DataType dt = switch (dtype) {
            case "float" -> DataType.FLOAT;
            case "double" -> DataType.DOUBLE;
            default -> throw Cli.invalid(spec, "--dtype must be float or double, got " + dtype);
        };
        if (maxMinutes < 0) {
            throw Cli.invalid(spec, "--max-minutes must be at least 0, got " + maxMinutes);
        }
        // every range against the updater's own rules now, not when its updater's search starts
        checkRange("--nadam-lr", nadamLr, true, r -> DiscountedNadamSpace.builder().learningRate(r).build());
        checkRange("--nesterov-lr", nesterovLr, true, r -> DelayCorrectedNesterovSpace.builder().learningRate(r).build());
        checkRange("--momentum", momentum, false, r -> DiscountedNadamSpace.builder().beta1(r).build());
        checkRange("--momentum", momentum, false, r -> DelayCorrectedNesterovSpace.builder().momentum(r).build());
        checkRange("--decay", decay, true, r -> DiscountedNadamSpace.builder().momentumDecay(r).build());
        checkRange("--discount", discount, true, r -> DelayCorrectedNesterovSpace.builder().discount(r).build());
        return new Setup(stages, blocks, Cli.positive(spec, "--dim", dim), Cli.positive(spec, "--heads", heads),
                Cli.positive(spec, "--context", context), Cli.positive(spec, "--batch", batch),
                Cli.positive(spec, "--steps", steps), Cli.positive(spec, "--val-windows", valWindows), dt,
                replay.equals("yes"), seed);
    }

    /** A MIN:MAX option as a space: log-uniform or uniform; a single value is fixed. */
    private ParameterSpace<Double> range(String option, String value, boolean log) {
        return SearchRange.parse(spec, option, value, log, true);
    }

    private void checkRange(String option, String value, boolean log,
                            java.util.function.Consumer<ParameterSpace<Double>> check) {
        try {
            check.accept(range(option, value, log));
        } catch (IllegalArgumentException e) {
            throw Cli.invalid(spec, option + " " + value + ": " + e.getMessage());
        }
    }

    private ParameterSpace<IUpdater> updaterSpace(String u) {
        try {
            return u.equals("nadam")
                    ? DiscountedNadamSpace.builder().learningRate(range("--nadam-lr", nadamLr, true))
                    .beta1(range("--momentum", momentum, false)).momentumDecay(range("--decay", decay, true)).build()
                    : DelayCorrectedNesterovSpace.builder().learningRate(range("--nesterov-lr", nesterovLr, true))
                    .momentum(range("--momentum", momentum, false)).discount(range("--discount", discount, true)).build();
        } catch (IllegalArgumentException e) {
            throw Cli.invalid(spec, e.getMessage());
        }
    }

    private List<Row> search(String u, Setup s, Progress progress) {
        PipelineCandidateSpace space = PipelineCandidateSpace.sameDiff(updaterSpace(u), s.pipeline());
        CandidateGenerator generator = search.equals("grid")
                ? new GridSearchCandidateGenerator(space, gridPoints, GridSearchCandidateGenerator.Mode.Sequential, null)
                : new RandomSearchGenerator(space, null);
        int n = search.equals("grid") ? (int) Math.pow(gridPoints, space.numParameters()) : candidates;
        List<TerminationCondition> stop = new ArrayList<>(List.of(new MaxCandidatesCondition(n)));
        if (maxMinutes > 0) {
            stop.add(new MaxTimeCondition(maxMinutes, TimeUnit.MINUTES));
        }
        OptimizationConfiguration conf = new OptimizationConfiguration.Builder().candidateGenerator(generator)
                .dataSource(EuroparlDataSource.class, s.data()).scoreFunction(new SameDiffLossScoreFunction())
                .terminationConditions(stop).rngSeed(s.seed()).build();
        PipelineTaskCreator tasks = s.tasks();
        IOptimizationRunner runner = new LocalOptimizationRunner(conf, tasks);
        runner.addListeners(new BaseStatusListener() {
            @Override
            public void onCandidateStatusChange(CandidateInfo info, IOptimizationRunner r, OptimizationResult result) {
                if (info.getCandidateStatus() == CandidateStatus.Complete || info.getCandidateStatus() == CandidateStatus.Failed) {
                    Object summary = result == null ? null : result.getModelSpecificResults();
                    progress.step(1, summary instanceof io.asyncpipeline.arbiter.RunSummary rs ? rs.examples() : 0);
                    Double score = info.getScore();
                    if (score != null && !(score >= best)) {
                        best = score;
                        progress.loss("best val loss", best);
                    }
                }
            }
        });
        runner.execute();
        List<Row> rows = new ArrayList<>();
        for (Trial t : tasks.trials()) {
            rows.add(new Row(u, t));
        }
        return rows;
    }

    /** One candidate of one updater's search, with its hyperparameters read back from the trained updater. */
    record Row(String updater, Trial trial) {
        static final Comparator<Row> ORDER = Comparator.comparing((Row r) -> !r.trial().completed())
                .thenComparingDouble(r -> r.trial().completed() ? r.trial().score() : 0)
                .thenComparing(Row::updater).thenComparingInt(r -> r.trial().index());

        /** The candidate's updater, or null when the candidate could not even be made. */
        IUpdater u() {
            return trial.candidate() == null ? null : trial.candidate().updater();
        }

        double lr() {
            return u() instanceof DiscountedNadam n ? n.getLearningRate(0, 0)
                    : u() instanceof DelayCorrectedNesterov d ? d.getLearningRate(0, 0) : Double.NaN;
        }

        double momentum() {
            return u() instanceof DiscountedNadam n ? n.getBeta1()
                    : u() instanceof DelayCorrectedNesterov d ? d.getMomentum() : Double.NaN;
        }

        double discount() {
            if (u() instanceof DiscountedNadam n) {
                return n.getMomentumDecay();
            }
            if (u() instanceof DelayCorrectedNesterov d) {
                return d.getDiscount() == null ? 1 - d.getMomentum() : d.getDiscount();
            }
            return Double.NaN;
        }

        String discountName() {
            return updater.equals("nadam") ? "ψ" : "δ";
        }

        String describe() {
            return String.format(Locale.ROOT, "%s lr %.3g, momentum %.4f, %s %.3g", updater, lr(), momentum(),
                    discountName(), discount());
        }
    }

    private void writeTables(List<Row> rows, Setup s) throws IOException {
        Csv csv = new Csv("updater", "candidate", "learning_rate", "momentum", "discount", "validation_loss", "status",
                "failure", "examples_per_second", "mean_utilisation", "seconds");
        for (Row r : rows) {
            Trial t = r.trial();
            csv.row(r.updater(), t.index(), r.lr(), r.momentum(), r.discount(), t.score(), t.completed() ? "complete" : "failed",
                    t.failure(), t.summary() == null ? null : t.summary().examplesPerSecond(),
                    t.summary() == null ? null : t.summary().meanUtilisation(), t.seconds());
        }
        csv.write(out.resolve(CSV));
        Files.writeString(out.resolve(MARKDOWN), markdown(rows, s, Integer.MAX_VALUE), StandardCharsets.UTF_8);
    }

    static String markdown(List<Row> rows, Setup s, int limit) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "Validation loss after %d steps of %d windows,"
                + " %d-block transformer (d %d) on %d async stages with stashing (%s)%n%n", s.steps(), s.batch(),
                s.layers(), s.dim(), s.stages(), s.dtype().name().toLowerCase(Locale.ROOT)));
        sb.append("| # | updater | learning rate | momentum (β1 / γ) | discount (ψ / δ) | validation loss | examples/s |\n");
        sb.append("|---|---|---|---|---|---|---|\n");
        int i = 0;
        for (Row r : rows) {
            if (i++ >= limit) {
                sb.append(String.format(Locale.ROOT, "| | ... %d more | | | | | |%n", rows.size() - limit));
                break;
            }
            Trial t = r.trial();
            sb.append(String.format(Locale.ROOT, "| %d | %s | %.3g | %.4f | %s %.3g | %s | %s |%n", i,
                    r.updater().equals("nadam") ? "DiscountedNadam" : "DelayCorrectedNesterov", r.lr(), r.momentum(),
                    r.discountName(), r.discount(), t.completed() ? String.format(Locale.ROOT, "%.4f", t.score())
                            : "failed: " + t.failure().replace('|', '/'),
                    t.summary() == null ? "" : String.format(Locale.ROOT, "%.0f", t.summary().examplesPerSecond())));
        }
        return sb.toString();
    }

    /**
     * Validation loss over momentum × discount at the updater's best learning rate: for a grid search the grid at that
     * rate; for a random search the lowest loss in each of --grid-points × --grid-points bins, over the candidates
     * whose rate lies in the best one's bin (--grid-points bins of the rate's range, log scale).
     */
    private void writeHeatMap(String u, List<Row> all) {
        List<Row> rows = all.stream().filter(r -> r.updater().equals(u)).toList();
        Row best = rows.stream().filter(r -> r.trial().completed()).min(Comparator.comparingDouble(r -> r.trial().score()))
                .orElse(null);
        if (best == null) {
            return;
        }
        if (search.equals("random")) {
            writeBinnedHeatMap(u, rows, best);
            return;
        }
        List<Row> atLr = rows.stream().filter(r -> Math.abs(Math.log(r.lr() / best.lr())) < 1e-9).toList();
        TreeSet<Double> ms = new TreeSet<>();
        TreeSet<Double> ds = new TreeSet<>();
        atLr.forEach(r -> {
            ms.add(r.momentum());
            ds.add(r.discount());
        });
        List<Double> mList = new ArrayList<>(ms);
        List<Double> dList = new ArrayList<>(ds);
        double[][] z = new double[dList.size()][mList.size()];
        for (double[] line : z) {
            java.util.Arrays.fill(line, Double.NaN);
        }
        for (Row r : atLr) {
            if (r.trial().completed()) {
                z[dList.indexOf(r.discount())][mList.indexOf(r.momentum())] = r.trial().score();
            }
        }
        String name = u.equals("nadam") ? "DiscountedNadam" : "DelayCorrectedNesterov";
        Plots.heatMap(out.resolve("heatmap-" + u + ".png"), String.format(Locale.ROOT,
                        "%s: validation loss at learning rate %.3g (%d stages)", name, best.lr(), stages),
                u.equals("nadam") ? "momentum β1" : "momentum γ", u.equals("nadam") ? "momentum decay ψ" : "discount δ",
                mList.stream().map(v -> String.format(Locale.ROOT, "%.4f", v)).toList(),
                dList.stream().map(v -> String.format(Locale.ROOT, "%.3g", v)).toList(), z, 3);
    }

    private void writeBinnedHeatMap(String u, List<Row> all, Row best) {
        // the candidates whose learning rate falls in the best one's bin (of --grid-points, log scale)
        double[] l = bounds(u.equals("nadam") ? nadamLr : nesterovLr);
        int lrBin = bin(best.lr(), l[0], l[1], gridPoints, true);
        List<Row> rows = all.stream().filter(r -> bin(r.lr(), l[0], l[1], gridPoints, true) == lrBin).toList();
        double[] m = bounds(momentum);
        double[] d = bounds(u.equals("nadam") ? decay : discount);
        int n = gridPoints;
        double[][] z = new double[n][n];
        for (double[] line : z) {
            java.util.Arrays.fill(line, Double.NaN);
        }
        for (Row r : rows) {
            if (r.trial().completed()) {
                int x = bin(r.momentum(), m[0], m[1], n, false);
                int y = bin(r.discount(), d[0], d[1], n, true);
                if (!(z[y][x] <= r.trial().score())) {
                    z[y][x] = r.trial().score();
                }
            }
        }
        List<String> xs = new ArrayList<>();
        List<String> ys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            xs.add(String.format(Locale.ROOT, "%.3f-%.3f", edge(m, i, n, false), edge(m, i + 1, n, false)));
            ys.add(String.format(Locale.ROOT, "%.3g-%.3g", edge(d, i, n, true), edge(d, i + 1, n, true)));
        }
        String name = u.equals("nadam") ? "DiscountedNadam" : "DelayCorrectedNesterov";
        Plots.heatMap(out.resolve("heatmap-" + u + ".png"), String.format(Locale.ROOT,
                        "%s: lowest validation loss per bin, learning rate %.3g-%.3g (%d stages)", name,
                        edge(l, lrBin, gridPoints, true), edge(l, lrBin + 1, gridPoints, true), stages),
                u.equals("nadam") ? "momentum β1" : "momentum γ", u.equals("nadam") ? "momentum decay ψ" : "discount δ",
                xs, ys, z, 3);
    }

    private static double[] bounds(String range) {
        String[] p = range.split(":");
        double lo = Double.parseDouble(p[0]);
        return new double[]{lo, p.length > 1 ? Double.parseDouble(p[1]) : lo};
    }

    private static double edge(double[] b, int i, int n, boolean log) {
        return log ? b[0] * Math.pow(b[1] / b[0], (double) i / n) : b[0] + (b[1] - b[0]) * i / n;
    }

    private static int bin(double v, double lo, double hi, int n, boolean log) {
        if (hi <= lo) {
            return 0;
        }
        double f = log ? Math.log(v / lo) / Math.log(hi / lo) : (v - lo) / (hi - lo);
        return Math.max(0, Math.min(n - 1, (int) (f * n)));
    }

    private void writeBest(Row best, Setup s) throws IOException {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = m.createObjectNode();
        root.put("updater", best.updater());
        root.put("validationLoss", best.trial().score());
        root.set("candidate", m.readTree(best.trial().candidate().toJson()));
        root.set("setup", m.valueToTree(new java.util.LinkedHashMap<String, Object>() {{
            put("stages", s.stages());
            put("layers", s.layers());
            put("dim", s.dim());
            put("heads", s.heads());
            put("context", s.context());
            put("batch", s.batch());
            put("steps", s.steps());
            put("valWindows", s.valWindows());
            put("dtype", s.dtype().name());
            put("replay", s.replay());
            put("seed", s.seed());
        }}));
        Files.writeString(out.resolve(BEST), m.writeValueAsString(root), StandardCharsets.UTF_8);
    }

    /** Trains the candidate of a {@value #BEST} again and compares its validation loss with the recorded one. */
    private int retrain(Path file) throws IOException {
        ObjectMapper m = new ObjectMapper();
        JsonNode root;
        try {
            root = m.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw Cli.invalid(spec, "--retrain " + file + ": cannot read it: " + e.getMessage());
        }
        JsonNode st = root.path("setup");
        if (!root.has("candidate") || !st.isObject()) {
            throw Cli.invalid(spec, "--retrain " + file + ": not a " + BEST + " of TuneDelayCorrection (no candidate/setup)");
        }
        Setup s = new Setup(st.path("stages").asInt(), st.path("layers").asInt(), st.path("dim").asInt(),
                st.path("heads").asInt(), st.path("context").asInt(), st.path("batch").asInt(), st.path("steps").asInt(),
                st.path("valWindows").asInt(), DataType.valueOf(st.path("dtype").asText()), st.path("replay").asBoolean(),
                st.path("seed").asLong());
        PipelineCandidate c;
        try {
            c = PipelineCandidate.fromJson(root.get("candidate").toString());
        } catch (IllegalArgumentException e) {
            throw Cli.invalid(spec, "--retrain " + file + ": " + e.getMessage());
        }
        double recorded = root.path("validationLoss").asDouble(Double.NaN);
        System.out.printf(Locale.ROOT, "retraining %s: %s%n", file, c);
        Trial t = s.tasks().run(c, EuroparlDataSource.class, s.data(), new SameDiffLossScoreFunction());
        if (!t.completed()) {
            System.out.println("the candidate failed: " + t.failure());
            return 1;
        }
        System.out.printf(Locale.ROOT, "validation loss %.17g (recorded %.17g): %s%n", t.score(), recorded,
                t.score() == recorded ? "identical" : String.format(Locale.ROOT, "differs by %.3g", t.score() - recorded));
        return Cli.OK;
    }
}
