package io.asyncpipeline.examples;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.NativeMemoryGuard;
import io.asyncpipeline.examples.TransformerComparison.Curve;
import io.asyncpipeline.examples.TransformerComparison.Hyper;
import io.asyncpipeline.examples.TransformerComparison.Options;
import io.asyncpipeline.examples.data.EuroparlText;
import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.schedule.Schedules;
import io.asyncpipeline.schedule.StagePlan;
import io.asyncpipeline.schedule.TimingSimulator;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.DiscountedNadam;
import io.asyncpipeline.updater.WarmupCosineSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.WeightDecay;

/**
 * Trains one variant of the transformer comparison: the data or updates protocol in chunks, a validation measurement
 * after each, the simulated time on P devices from each chunk's measured op costs, each variant's optimiser.
 */
final class ComparisonTraining {

    private ComparisonTraining() {
    }

    /** One variant, as {@link #run(ComparisonVariant, Options, EuroparlText, List, Consumer)} with no callback. */
    static Curve run(String variant, Options o, EuroparlText text, List<DataSet> validation) {
        return run(ComparisonVariant.named(variant), o, text, validation, partial -> { });
    }

    /**
     * One variant, inside a {@link NativeMemoryGuard}: {@code sd.fit} of the single variant and the validation passes
     * of every variant run outside the pipeline's own memory pacing (without it, {@code --variants single --batch 64}
     * grew to 16 GB resident). {@code evaluated} receives the curve so far after every validation measurement.
     */
    static Curve run(ComparisonVariant v, Options o, EuroparlText text, List<DataSet> validation, Consumer<Curve> evaluated) {
        try (NativeMemoryGuard guard = NativeMemoryGuard.open()) {
            return runGuarded(v, o, text, validation, evaluated);
        }
    }

    private static Curve runGuarded(ComparisonVariant v, Options o, EuroparlText text, List<DataSet> validation,
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
    private static Curve train(ComparisonVariant v, Options o, EuroparlText text, List<DataSet> validation, SameDiff sd,
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
    static List<DataSet> batches(ComparisonVariant v, Options o, EuroparlText text, int done, int n) {
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
    static double simulatedSeconds(ComparisonVariant v, Options o, PipelineMetrics m, int dataSets) {
        int p = m.stages().size();
        StagePlan plan = v.gpipe() ? Schedules.gpipe(p, o.micro(), dataSets) : Schedules.async1F1B(p, dataSets);
        return TimingSimulator.simulate(plan, MeasuredCosts.of(m)).makespan() / 1e9;
    }

    /**
     * The variant's optimiser: warm-up then cosine decay to 0.1× of its peak rate over its own updates (GPipe: M times
     * fewer in the data protocol).
     */
    static IUpdater updater(ComparisonVariant v, Options o) {
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
}
