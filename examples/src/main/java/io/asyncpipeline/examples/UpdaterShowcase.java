package io.asyncpipeline.examples;

import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.examples.data.ShuffledDataSetIterator;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.DiscountedNadam;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Trains one small Fashion-MNIST MLP (784-256-128-10) with DL4J's {@code Adam} and with this project's
 * {@link DiscountedNadam} and {@link DelayCorrectedNesterov}, on a single thread (no pipeline, so no
 * staleness), and prints final training loss, test accuracy and training time per updater.
 *
 * "final train loss" is the mean loss over all training examples after the last epoch; "seconds" is the
 * wall time of {@code fit} (after a short untimed warm-up per updater). Learning rates are the best of a
 * quick sweep at these defaults. {@code --out DIR} writes {@value #CSV} (training loss, test accuracy and training
 * time after every epoch; the evaluations are not timed) and {@value #JSON} (the configuration). {@code --help} lists
 * the options; exit codes as in {@link Cli}.
 */
@Command(name = "UpdaterShowcase", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Adam vs DiscountedNadam vs DelayCorrectedNesterov on one Fashion-MNIST MLP (784-256-128-10),"
                + " one thread, no pipeline: final training loss, test accuracy and training time per updater.")
public final class UpdaterShowcase implements Callable<Integer> {

    static final String CSV = "updaters.csv";
    static final String JSON = "updaters.json";

    @Option(names = "--train", description = "training examples (the first N of the train split). Default: ${DEFAULT-VALUE}")
    int train = 6000;

    @Option(names = "--test", description = "test examples (the first N of the test split). Default: ${DEFAULT-VALUE}")
    int test = 5000;

    @Option(names = "--epochs", description = "passes over the training examples. Default: ${DEFAULT-VALUE}")
    int epochs = 2;

    @Option(names = "--batch", description = "mini-batch size. Default: ${DEFAULT-VALUE}")
    int batch = 64;

    @Option(names = "--seed", description = "weight-init and shuffle seed. Default: ${DEFAULT-VALUE}")
    long seed = 12345;

    @Option(names = "--adam-lr", description = "Adam learning rate. Default: ${DEFAULT-VALUE}")
    double adamLr = 2e-3;

    @Option(names = "--nadam-lr", description = "DiscountedNadam learning rate (beta1 0.99). Default: ${DEFAULT-VALUE}")
    double nadamLr = 2e-3;

    @Option(names = "--dcn-lr", description = "DelayCorrectedNesterov learning rate (momentum 0.9)."
            + " Default: ${DEFAULT-VALUE}")
    double dcnLr = 0.5;

    @Option(names = "--out", paramLabel = "DIR", description = "write " + CSV + " (per updater and epoch: training loss,"
            + " test accuracy, training seconds) and " + JSON + " (the configuration) into DIR, created if missing."
            + " Default: none")
    Path out;

    @Spec
    CommandSpec spec;

    /** Checked options. */
    record Options(int train, int test, int epochs, int batch, long seed,
                   double adamLr, double nadamLr, double dcnLr) {
    }

    /** One row of the result table, and the same measurements after every epoch (the last equals the row). */
    record Result(String updater, double trainLoss, double testAccuracy, double seconds, List<Epoch> epochs) {
    }

    /** Training loss (mean over all training examples), test accuracy and training seconds so far, after an epoch. */
    record Epoch(int epoch, double trainLoss, double testAccuracy, double seconds) {
    }

    public static void main(String[] args) {
        System.exit(Cli.execute(new UpdaterShowcase(), args));
    }

    /** The parsed options; counts and learning rates must be above 0 (a usage error otherwise). */
    Options options() {
        return new Options(Cli.positive(spec, "--train", train), Cli.positive(spec, "--test", test),
                Cli.positive(spec, "--epochs", epochs), Cli.positive(spec, "--batch", batch), seed,
                Cli.positive(spec, "--adam-lr", adamLr), Cli.positive(spec, "--nadam-lr", nadamLr),
                Cli.positive(spec, "--dcn-lr", dcnLr));
    }

    @Override
    public Integer call() {
        Options opt = options();
        Path dir = out == null ? null : ResultFiles.directory(spec, out);
        if (dir != null) {
            ResultFiles.writeConfiguration(dir.resolve(JSON), spec, Map.of());
        }
        FashionMnist fashion = new FashionMnist();
        fashion.requireAvailable();
        DataSet trainSet = fashion.load(FashionMnist.Split.TRAIN, opt.train(), FashionMnist.Layout.FLAT);
        DataSet testSet = fashion.load(FashionMnist.Split.TEST, opt.test(), FashionMnist.Layout.FLAT);
        System.out.printf(Locale.ROOT, "Fashion-MNIST from %s: %d train / %d test examples,"
                        + " MLP 784-256-128-10, %d epochs, batch %d, seed %d%n",
                fashion.dir(), trainSet.numExamples(), testSet.numExamples(), opt.epochs(), opt.batch(), opt.seed());

        Map<String, IUpdater> updaters = new LinkedHashMap<>();
        updaters.put("Adam(lr=" + opt.adamLr() + ")", new Adam(opt.adamLr()));
        updaters.put("DiscountedNadam(lr=" + opt.nadamLr() + ", b1=0.99)",
                DiscountedNadam.builder().learningRate(opt.nadamLr()).beta1(0.99).build());
        updaters.put("DelayCorrectedNesterov(lr=" + opt.dcnLr() + ", m=0.9)",
                DelayCorrectedNesterov.builder().learningRate(opt.dcnLr()).momentum(0.9).build());

        List<Result> results = new ArrayList<>();
        for (Map.Entry<String, IUpdater> e : updaters.entrySet()) {
            System.out.println("training with " + e.getKey() + " ...");
            results.add(run(e.getKey(), e.getValue(), trainSet, testSet, opt, dir != null));
            if (dir != null) {
                writeCsv(dir.resolve(CSV), results);
            }
        }
        System.out.println();
        System.out.print(table(results));
        if (dir != null) {
            System.out.println("results written to " + dir.toAbsolutePath() + ": " + CSV + ", " + JSON);
        }
        return Cli.OK;
    }

    static MultiLayerNetwork mlp(IUpdater updater, long seed) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(updater)
                .weightInit(WeightInit.RELU)
                .list()
                .layer(new DenseLayer.Builder().nOut(256).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(FashionMnist.NUM_CLASSES).activation(Activation.SOFTMAX)
                        .weightInit(WeightInit.XAVIER).build())
                .setInputType(InputType.feedForward(FashionMnist.PIXELS))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /**
     * Trains one epoch at a time ({@code net.fit(iterator, n)} does the same: n calls of {@code fit(iterator)});
     * with {@code everyEpoch} the training loss and test accuracy are also measured after the epochs before the last,
     * outside the timed part.
     */
    static Result run(String name, IUpdater updater, DataSet train, DataSet test, Options opt, boolean everyEpoch) {
        warmUp(updater, train, opt);
        MultiLayerNetwork net = mlp(updater, opt.seed());
        // same seed for every updater: identical initial weights and batch order
        ShuffledDataSetIterator batches = new ShuffledDataSetIterator(train, opt.batch(), opt.seed());
        List<Epoch> epochs = new ArrayList<>();
        long nanos = 0;
        for (int e = 1; e <= opt.epochs(); e++) {
            long t0 = System.nanoTime();
            net.fit(batches);
            nanos += System.nanoTime() - t0;
            if (everyEpoch || e == opt.epochs()) {
                double trainLoss = net.score(train);
                Evaluation eval = net.evaluate(new ShuffledDataSetIterator(test, 500, null));
                epochs.add(new Epoch(e, trainLoss, eval.accuracy(), nanos / 1e9));
            }
        }
        Epoch last = epochs.get(epochs.size() - 1);
        return new Result(name, last.trainLoss(), last.testAccuracy(), last.seconds(), List.copyOf(epochs));
    }

    /** {@value #CSV}: one row per updater and epoch. */
    static void writeCsv(Path file, List<Result> results) {
        Csv csv = new Csv("updater", "epoch", "train_loss", "test_accuracy", "train_seconds");
        for (Result r : results) {
            for (Epoch e : r.epochs()) {
                csv.row(r.updater(), e.epoch(), e.trainLoss(), e.testAccuracy(), e.seconds());
            }
        }
        try {
            csv.write(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** A few steps on a throwaway net, so JIT warm-up is not charged to the first updater timed. */
    private static void warmUp(IUpdater updater, DataSet train, Options opt) {
        MultiLayerNetwork net = mlp(updater.clone(), opt.seed() + 1);
        ShuffledDataSetIterator batches = new ShuffledDataSetIterator(train, opt.batch(), opt.seed() + 1);
        for (int i = 0; i < 10 && batches.hasNext(); i++) {
            net.fit(batches.next());
        }
    }

    static String table(List<Result> results) {
        int w = "updater".length();
        for (Result r : results) {
            w = Math.max(w, r.updater().length());
        }
        String row = "%-" + w + "s | %16s | %13s | %7s%n";
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, row, "updater", "final train loss", "test accuracy", "seconds"));
        sb.append("-".repeat(w)).append("-+-").append("-".repeat(16)).append("-+-")
                .append("-".repeat(13)).append("-+-").append("-".repeat(7)).append('\n');
        for (Result r : results) {
            sb.append(String.format(Locale.ROOT, row, r.updater(), String.format(Locale.ROOT, "%.4f", r.trainLoss()),
                    String.format(Locale.ROOT, "%.4f", r.testAccuracy()), String.format(Locale.ROOT, "%.1f", r.seconds())));
        }
        return sb.toString();
    }
}
