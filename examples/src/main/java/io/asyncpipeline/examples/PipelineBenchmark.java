package io.asyncpipeline.examples;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.schedule.OpCosts;
import io.asyncpipeline.schedule.Schedules;
import io.asyncpipeline.schedule.StagePlan;
import io.asyncpipeline.schedule.TimingSimulator;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Throughput of plain {@code net.fit}, GPIPE (M = 4) and ASYNC_1F1B on two stages, side by side in one
 * JVM, on Fashion-MNIST: a balanced MLP and a CNN. Prints median samples/s over rounds, the ratios to
 * plain fit, per-stage utilisation, and the timing simulator's prediction from the measured op costs.
 *
 * <pre>./examples/run.sh io.asyncpipeline.examples.PipelineBenchmark [--examples 4096] [--batch 64] [--rounds 3]
 *     [--models mlp,cnn] [--hidden 4] [--stash true]</pre>
 */
public final class PipelineBenchmark {

    private static final int STAGES = 2;
    private static final int M = 4;
    private static boolean stash = true;

    private PipelineBenchmark() {
    }

    public static void main(String[] args) {
        int examples = intArg(args, "--examples", 6144);
        int batch = intArg(args, "--batch", 64);
        int rounds = intArg(args, "--rounds", 3);
        stash = !"false".equals(PipelineExample.stringArg(args, "--stash", "true"));
        String models = PipelineExample.stringArg(args, "--models", "mlp,cnn");
        int hidden = intArg(args, "--hidden", 4);
        FashionMnist data = new FashionMnist();
        data.requireAvailable();
        DataSet flat = data.load(FashionMnist.Split.TRAIN, examples, FashionMnist.Layout.FLAT);
        System.out.printf("PipelineBenchmark: %d Fashion-MNIST examples, micro-batch %d, P=%d, GPIPE M=%d, %d rounds, %d cores%n",
                examples, batch, STAGES, M, rounds, Runtime.getRuntime().availableProcessors());
        if (models.contains("mlp")) {
            run("MLP 784-1024x" + hidden + "-10", () -> Models.mlp(DiscountedNadam.builder().build(), hidden, 1024, 1), flat,
                    batch, rounds);
        }
        if (models.contains("cnn")) {
            run("CNN conv16-conv32-pool-conv32-conv64-pool-128", () -> Models.cnn(DiscountedNadam.builder().build(), 1), flat, batch, rounds);
        }
    }

    private static void run(String name, Supplier<MultiLayerNetwork> model, DataSet data, int batch, int rounds) {
        List<DataSet> micro = data.batchBy(batch);
        List<DataSet> mini = data.batchBy(batch * M);
        DataSet sample = micro.get(0);
        int[] partition;
        try (AsyncPipelineWrapper probe = new AsyncPipelineWrapper.Builder(model.get()).stages(STAGES).profileWith(sample).build()) {
            partition = probe.partition();
        }
        double[][] rates = new double[4][rounds];
        PipelineMetrics gpipe = null;
        PipelineMetrics async = null;
        int cores = Runtime.getRuntime().availableProcessors();
        for (int r = 0; r < rounds; r++) {
            MultiLayerNetwork plain = model.get();
            Nd4j.getEnvironment().setMaxThreads(cores);
            Nd4j.getEnvironment().setMaxMasterThreads(cores);
            plain.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(micro.subList(0, 2), 1));
            long t0 = System.nanoTime();
            plain.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(micro, 1));
            rates[0][r] = data.numExamples() / ((System.nanoTime() - t0) / 1e9);
            MultiLayerNetwork plainMini = model.get();
            plainMini.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(mini.subList(0, 1), 1));
            t0 = System.nanoTime();
            plainMini.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(mini, 1));
            rates[3][r] = data.numExamples() / ((System.nanoTime() - t0) / 1e9);
            gpipe = pipelined(model.get(), partition, Schedule.GPIPE, mini);
            rates[1][r] = gpipe.throughput();
            async = pipelined(model.get(), partition, Schedule.ASYNC_1F1B, micro);
            rates[2][r] = async.throughput();
        }
        double plainRate = median(rates[0]);
        System.out.printf("%n== %s, partition %s ==%n", name, Arrays.toString(partition));
        System.out.printf("%-12s %12s %8s  %s%n", "mode", "samples/s", "ratio", "per-stage utilisation (last round)");
        System.out.printf("%-12s %12.1f %8.2f   (batch %d: the baseline of ASYNC_1F1B, one update per %d examples)%n",
                "plain fit", plainRate, 1.0, batch, batch);
        double miniRate = median(rates[3]);
        System.out.printf("%-12s %12.1f %8.2f   (batch %d: the baseline of GPIPE, same updates)%n", "plain fit", miniRate,
                miniRate / plainRate, batch * M);
        System.out.printf("%-12s %12.1f %8.2f  %s  (ideal M/(M+P-1) = %.1f%%); vs plain fit on its batch: %.2f%n",
                "GPIPE M=" + M, median(rates[1]), median(rates[1]) / plainRate, utilisation(gpipe),
                100.0 * M / (M + STAGES - 1), median(rates[1]) / miniRate);
        System.out.printf("%-12s %12.1f %8.2f  %s%n", "ASYNC_1F1B", median(rates[2]), median(rates[2]) / plainRate,
                utilisation(async));
        System.out.printf("simulator (measured op costs): GPIPE %.1f%% vs measured %.1f%%; ASYNC_1F1B %.1f%% vs measured %.1f%%%n",
                100 * predicted(gpipe, Schedules.gpipe(STAGES, M, mini.size())), 100 * gpipe.meanUtilisation(),
                100 * predicted(async, Schedules.async1F1B(STAGES, micro.size())), 100 * async.meanUtilisation());
    }

    private static PipelineMetrics pipelined(MultiLayerNetwork net, int[] partition, Schedule s, List<DataSet> batches) {
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(partition).schedule(s)
                .microBatches(M).weightStashing(stash).build()) {
            w.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(batches.subList(0, 2), 1));
            w.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(batches, 1));
            return w.metrics();
        }
    }

    /** Mean utilisation the simulator predicts from the run's measured mean op costs per stage. */
    private static double predicted(PipelineMetrics m, StagePlan plan) {
        int p = m.stages().size();
        double[] f = new double[p];
        double[] b = new double[p];
        double[] u = new double[p];
        for (int k = 0; k < p; k++) {
            StageMetrics s = m.stage(k);
            f[k] = s.forwardNanos() / (double) Math.max(1, s.forwards());
            b[k] = (s.backwardNanos() + s.recomputeNanos()) / (double) Math.max(1, s.backwards());
            u[k] = s.updateNanos() / (double) Math.max(1, s.updates());
        }
        return TimingSimulator.simulate(plan, OpCosts.of(f, b, u, new double[p - 1])).meanUtilisation();
    }

    private static String utilisation(PipelineMetrics m) {
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < m.stages().size(); k++) {
            parts.add(String.format("stage %d %.1f%%", k, 100 * m.utilisation(k)));
        }
        return String.join(", ", parts);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static int intArg(String[] args, String name, int dflt) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return Integer.parseInt(args[i + 1]);
            }
        }
        return dflt;
    }
}
