package io.asyncpipeline.examples;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.NativeMemoryGuard;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.examples.data.EuroparlText;
import io.asyncpipeline.examples.data.MissingDatasetException;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DiscountedNadam;
import io.asyncpipeline.updater.WarmupCosineSchedule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.WeightDecay;

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
 * <pre>
 * Options:
 *   --steps N        optimizer steps per variant                 default 1200
 *   --stages P       pipeline stages                               default 8
 *   --layers L       transformer blocks (a multiple of P; L/P per stage) default P
 *   --batch B        windows per step                              default 16
 *   --context T      characters per window                         default 64
 *   --dim D          model width                                   default 64
 *   --heads H        attention heads                               default 4
 *   --micro M        GPipe micro-batches per step                  default 4
 *   --lr X           peak learning rate (all variants)             default 1e-3
 *   --warmup N       linear warm-up steps                          default 100
 *   --pipemare N     T_c of the PipeMare correction (nostash)      default steps/4
 *   --eval-every N   steps between validation measurements         default 200
 *   --val-windows N  validation windows                            default 256
 *   --seed N         weights and data seed                         default 7
 *   --variants LIST  comma-separated, from the list above          default gpipe,stash,nostash,pipedream
 *   --replay yes|no  run the async schedules single-threaded (same bits, no thread contention) default no
 * </pre>
 */
public final class TransformerComparison {

    private static final int EXIT_NO_DATA = 2;
    static final List<String> VARIANTS = List.of("single", "gpipe", "stash", "nostash", "pipedream",
            "nostash-plain");

    private TransformerComparison() {
    }

    record Options(int steps, int stages, int layers, int batch, int context, int dim, int heads, int micro, double lr,
                   int warmup, int pipeMare, int evalEvery, int valWindows, long seed, List<String> variants,
                   boolean replay) {

        static Options parse(String[] argv) {
            Map<String, String> d = new LinkedHashMap<>();
            d.put("steps", "1200");
            d.put("stages", "8");
            d.put("layers", "0");
            d.put("batch", "16");
            d.put("context", "64");
            d.put("dim", "64");
            d.put("heads", "4");
            d.put("micro", "4");
            d.put("lr", "1e-3");
            d.put("warmup", "100");
            d.put("pipemare", "0");
            d.put("eval-every", "200");
            d.put("val-windows", "256");
            d.put("seed", "7");
            d.put("variants", "gpipe,stash,nostash,pipedream");
            d.put("replay", "no");
            Args a = Args.parse(argv, d);
            int steps = a.positiveInt("steps");
            List<String> variants = List.of(a.string("variants").split(","));
            for (String v : variants) {
                if (!VARIANTS.contains(v)) {
                    throw new IllegalArgumentException("unknown variant '" + v + "'; choose from " + VARIANTS);
                }
            }
            int batch = a.positiveInt("batch");
            int micro = a.positiveInt("micro");
            if (batch % micro != 0) {
                throw new IllegalArgumentException("--micro " + micro + " must divide --batch " + batch);
            }
            int warmup = Integer.parseInt(a.string("warmup"));
            if (warmup < 0 || warmup >= steps) {
                throw new IllegalArgumentException("--warmup must be in [0, steps), got " + warmup);
            }
            int pipeMare = Integer.parseInt(a.string("pipemare"));
            String replay = a.string("replay");
            if (!replay.equals("yes") && !replay.equals("no")) {
                throw new IllegalArgumentException("--replay takes yes or no, got '" + replay + "'");
            }
            int stages = a.positiveInt("stages");
            if (stages < 2) {
                throw new IllegalArgumentException("--stages must be at least 2, got " + stages);
            }
            int layers = Integer.parseInt(a.string("layers"));
            layers = layers > 0 ? layers : stages;
            if (layers % stages != 0) {
                throw new IllegalArgumentException("--layers " + layers + " must be a multiple of --stages " + stages
                        + " (each stage holds the same number of blocks)");
            }
            return new Options(steps, stages, layers, batch, a.positiveInt("context"), a.positiveInt("dim"),
                    a.positiveInt("heads"), micro, a.positiveDouble("lr"), warmup,
                    pipeMare > 0 ? pipeMare : Math.max(1, steps / 4), a.positiveInt("eval-every"),
                    a.positiveInt("val-windows"), a.longValue("seed"), variants, replay.equals("yes"));
        }

        /** Cuts: after every (layers / stages)-th block. */
        String[] cuts() {
            String[] all = DecoderTransformer.blockCuts(model());
            int per = layers / stages;
            String[] cuts = new String[stages - 1];
            for (int k = 0; k < cuts.length; k++) {
                cuts[k] = all[(k + 1) * per - 1];
            }
            return cuts;
        }

        TransformerConfig model() {
            return TransformerConfig.builder().vocabSize(EuroparlText.VOCAB_SIZE).contextLength(context).modelDim(dim)
                    .heads(heads).layers(layers).tiedOutputHead(false).seed(seed).dataType(DataType.FLOAT).build();
        }
    }

    /** Validation loss after each chunk, and the training wall time. */
    record Curve(String variant, List<Integer> steps, List<Double> loss, double seconds) {

        double last() {
            return loss.get(loss.size() - 1);
        }
    }

    public static void main(String[] args) {
        Options o = Args.orExit(() -> Options.parse(args), "TransformerComparison [--steps N] [--stages P] [--layers L]"
                + " [--batch B] [--context T] [--dim D] [--heads H] [--micro M] [--lr X] [--warmup N] [--pipemare N]"
                + " [--eval-every N] [--val-windows N] [--seed N] [--variants " + String.join(",", VARIANTS) + "]"
                + " [--replay yes|no]");
        EuroparlText text;
        try {
            text = EuroparlText.load(0.1);
        } catch (MissingDatasetException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(EXIT_NO_DATA);
            return;
        }
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
        List<Curve> curves = new ArrayList<>();
        for (String v : o.variants()) {
            curves.add(run(v, o, c, text, validation));
        }
        System.out.println();
        System.out.println(table(curves, o));
    }

    /**
     * One variant, inside a {@link NativeMemoryGuard}: {@code sd.fit} of the single variant and the validation passes
     * of every variant run outside the pipeline's own memory pacing (without it, {@code --variants single --batch 64}
     * grew to 16 GB resident).
     */
    static Curve run(String variant, Options o, TransformerConfig c, EuroparlText text, List<DataSet> validation) {
        try (NativeMemoryGuard guard = NativeMemoryGuard.open()) {
            return runGuarded(variant, o, c, text, validation);
        }
    }

    private static Curve runGuarded(String variant, Options o, TransformerConfig c, EuroparlText text,
                                    List<DataSet> validation) {
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(updater(variant, o), new WeightDecay(0.01, true)));
        AsyncPipelineWrapper.Builder b = new AsyncPipelineWrapper.Builder(sd)
                .cutAfter(o.cuts()).seed(o.seed()).singleThreadedReplay(o.replay());
        if (variant.equals("single")) {
            DecoderTransformer.prepareForFit(sd);
            return train(variant, o, text, validation, sd, it -> sd.fit(it, 1));
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
        try (AsyncPipelineWrapper w = b.build()) {
            System.out.printf(Locale.ROOT, "%-13s pipeline built in %.1f s%n", variant, (System.nanoTime() - t0) / 1e9);
            return train(variant, o, text, validation, sd, w::fit);
        }
    }

    /** Trains in chunks of {@code --eval-every} steps with {@code fit}, measuring the validation loss after each. */
    private static Curve train(String variant, Options o, EuroparlText text, List<DataSet> validation, SameDiff sd,
                               java.util.function.Consumer<org.nd4j.linalg.dataset.api.iterator.DataSetIterator> fit) {
        List<Integer> at = new ArrayList<>();
        List<Double> loss = new ArrayList<>();
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
            System.out.printf(Locale.ROOT, "%-13s step %5d  validation loss %.6f  (%.1f s training, %.1f s evaluation)%n",
                    variant, done, l, nanos / 1e9, evalSeconds);
        }
        return new Curve(variant, at, loss, nanos / 1e9);
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
}
