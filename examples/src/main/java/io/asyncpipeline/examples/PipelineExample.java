package io.asyncpipeline.examples;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.metrics.PipelineTimeline;
import io.asyncpipeline.metrics.Span;
import io.asyncpipeline.updater.DiscountedNadam;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The main example: trains a Fashion-MNIST MLP split into two pipeline stages with the asynchronous
 * 1F1B schedule and the discounted NAdam updater, on CPU, then evaluates it like any DL4J network.
 *
 * <pre>./examples/run.sh [--train 12000] [--test 5000] [--epochs 2] [--batch 64] [--stages 2] [--schedule ASYNC_1F1B]
 *                   [--balance time] [--trace pipeline-trace.json]</pre>
 *
 * The layers are split into stages by their measured forward+backward time on one micro-batch
 * ({@code profileWith}); {@code --balance parameters} splits by parameter count instead.
 *
 * {@code --help} lists the options; exit codes as in {@link Cli}.
 */
@Command(name = "PipelineExample", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Trains a Fashion-MNIST MLP (784-512x3-10, DiscountedNadam) in pipeline stages, then evaluates it.")
public final class PipelineExample implements Callable<Integer> {

    @Option(names = "--train", description = "training images (the first N of the train split). Default: ${DEFAULT-VALUE}")
    int train = 12000;

    @Option(names = "--test", description = "test images (the first N of the test split). Default: ${DEFAULT-VALUE}")
    int test = 5000;

    @Option(names = "--epochs", description = "passes over the training images. Default: ${DEFAULT-VALUE}")
    int epochs = 2;

    @Option(names = "--batch", description = "images per micro-batch (a synchronous schedule reads mini-batches of 4"
            + " micro-batches). Default: ${DEFAULT-VALUE}")
    int batch = 64;

    @Option(names = "--stages", description = "pipeline stages. Default: ${DEFAULT-VALUE}")
    int stages = 2;

    @Option(names = "--schedule", description = "one of ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}")
    Schedule schedule = Schedule.ASYNC_1F1B;

    /** How the layers are split into stages. */
    enum Balance { time, parameters }

    @Option(names = "--balance", description = "split the layers into stages by measured forward+backward time per"
            + " layer on one micro-batch (time), or by parameter count (parameters); one of ${COMPLETION-CANDIDATES}."
            + " Default: ${DEFAULT-VALUE}")
    Balance balance = Balance.time;

    @Option(names = "--trace", paramLabel = "FILE", description = "record every stage's timeline and write it to FILE"
            + " as a Chrome trace (open it in ui.perfetto.dev or chrome://tracing); also prints a text excerpt."
            + " Default: no timeline")
    Path trace;

    /** Updates of stage 0 the printed excerpt of the timeline covers. */
    static final int EXCERPT_UPDATES = 8;

    /** Columns of the printed excerpt. */
    static final int EXCERPT_COLUMNS = 100;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(Cli.execute(new PipelineExample(), args));
    }

    @Override
    public Integer call() {
        validate();
        FashionMnist data = new FashionMnist();
        data.requireAvailable();
        DataSetIterator trainIt = data.iterator(FashionMnist.Split.TRAIN, train, FashionMnist.Layout.FLAT,
                schedule.isSynchronous() ? batch * 4 : batch, 7L);
        DataSetIterator testIt = data.iterator(FashionMnist.Split.TEST, test, FashionMnist.Layout.FLAT, 500, null);

        MultiLayerNetwork net = Models.mlp(DiscountedNadam.builder().learningRate(1e-3).build(), 3, 512, 42);
        // DL4J listeners run on the last stage's thread; this one prints to stdout with the other results
        // (log lines, such as the metrics the library logs after fit, go to stderr: src/main/resources/logback.xml)
        net.setListeners(new org.deeplearning4j.optimize.api.BaseTrainingListener() {
            @Override
            public void iterationDone(org.deeplearning4j.nn.api.Model model, int iteration, int epoch) {
                if (iteration % 50 == 0) {
                    System.out.printf("iteration %4d  epoch %d  loss %.4f%n", iteration, epoch, model.score());
                }
            }
        });
        System.out.printf("Training a 784-512x3-10 MLP on %d Fashion-MNIST images: %s, %d stages, %d epochs%n",
                train, schedule, stages, epochs);
        AsyncPipelineWrapper.Builder builder = new AsyncPipelineWrapper.Builder(net)
                .stages(stages)
                .schedule(schedule)
                .microBatches(4)
                .weightStashing(true)
                .recordTimeline(trace != null);
        if (balance == Balance.time) {
            // one micro-batch of the real data: the profile times each layer's forward and backward on it
            builder.profileWith(data.load(FashionMnist.Split.TRAIN, batch, FashionMnist.Layout.FLAT));
        }
        try (AsyncPipelineWrapper pipeline = builder.build()) {
            System.out.printf("partition (layers per stage, balanced by %s): %s%n",
                    balance == Balance.time ? "measured layer time" : "parameter count",
                    java.util.Arrays.toString(pipeline.partition()));
            long t0 = System.nanoTime();
            pipeline.fit(trainIt, epochs);
            System.out.printf("trained in %.1f s; per-stage utilisation (busy / wall time): %s%n%s",
                    (System.nanoTime() - t0) / 1e9, utilisation(pipeline.metrics()), pipeline.metrics());
            if (trace != null) {
                writeTrace(pipeline.metrics().timeline());
            }
        }
        Evaluation eval = net.evaluate(testIt);
        System.out.printf("test accuracy on %d images: %.4f (iterations %d, epochs %d)%n", test, eval.accuracy(),
                net.getIterationCount(), net.getEpochCount());
        return Cli.OK;
    }

    static String utilisation(io.asyncpipeline.metrics.PipelineMetrics m) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < m.stages().size(); k++) {
            sb.append(k == 0 ? "" : ", ").append(String.format(java.util.Locale.ROOT, "stage %d %.1f%%", k,
                    100 * m.utilisation(k)));
        }
        return sb.toString();
    }

    /** Writes the Chrome trace to {@link #trace} and prints the first {@value #EXCERPT_UPDATES} updates of stage 0 as text. */
    private void writeTrace(PipelineTimeline timeline) {
        try {
            timeline.writeChromeTrace(trace);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the trace to " + trace, e);
        }
        long to = excerptEnd(timeline, EXCERPT_UPDATES);
        System.out.printf("timeline of %d stages written to %s: open it in https://ui.perfetto.dev or chrome://tracing"
                + "%nthe first %.1f ms of %.1f ms (until stage 0's update %d):%n%s", timeline.stages(), trace, to / 1e6,
                timeline.endNanos() / 1e6, EXCERPT_UPDATES - 1, timeline.render(EXCERPT_COLUMNS, 0, to));
    }

    /** When stage 0 ended its {@code updates}-th update, or the end of the timeline if it made fewer. */
    static long excerptEnd(PipelineTimeline timeline, int updates) {
        return timeline.spans(0).stream().filter(s -> s.kind() == Span.Kind.UPDATE).skip(updates - 1L).findFirst()
                .map(Span::endNanos).orElse(Math.max(1, timeline.endNanos()));
    }

    /** Every count must be at least 1 (a usage error otherwise). */
    void validate() {
        Cli.positive(spec, "--train", train);
        Cli.positive(spec, "--test", test);
        Cli.positive(spec, "--epochs", epochs);
        Cli.positive(spec, "--batch", batch);
        Cli.positive(spec, "--stages", stages);
        Path dir = trace == null ? null : trace.toAbsolutePath().getParent();
        if (dir != null && !java.nio.file.Files.isDirectory(dir)) {
            throw Cli.invalid(spec, "--trace " + trace + ": the directory " + dir + " does not exist");
        }
    }
}
