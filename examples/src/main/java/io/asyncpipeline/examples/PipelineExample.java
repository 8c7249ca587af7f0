package io.asyncpipeline.examples;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.updater.DiscountedNadam;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * The main example: trains a Fashion-MNIST MLP split into two pipeline stages with the asynchronous
 * 1F1B schedule and the discounted NAdam updater, on CPU, then evaluates it like any DL4J network.
 *
 * <pre>./examples/run.sh [--train 12000] [--test 5000] [--epochs 2] [--batch 64] [--stages 2] [--schedule ASYNC_1F1B]</pre>
 */
public final class PipelineExample {

    private PipelineExample() {
    }

    public static void main(String[] args) {
        int train = PipelineBenchmark.intArg(args, "--train", 12000);
        int test = PipelineBenchmark.intArg(args, "--test", 5000);
        int epochs = PipelineBenchmark.intArg(args, "--epochs", 2);
        int batch = PipelineBenchmark.intArg(args, "--batch", 64);
        int stages = PipelineBenchmark.intArg(args, "--stages", 2);
        Schedule schedule = Schedule.valueOf(stringArg(args, "--schedule", "ASYNC_1F1B"));
        FashionMnist data = new FashionMnist();
        data.requireAvailable();
        DataSetIterator trainIt = data.iterator(FashionMnist.Split.TRAIN, train, FashionMnist.Layout.FLAT,
                schedule.isSynchronous() ? batch * 4 : batch, 7L);
        DataSetIterator testIt = data.iterator(FashionMnist.Split.TEST, test, FashionMnist.Layout.FLAT, 500, null);

        MultiLayerNetwork net = Models.mlp(DiscountedNadam.builder().learningRate(1e-3).build(), 3, 512, 42);
        // DL4J listeners run on the last stage's thread; this one prints to stdout (exec:java runs inside
        // Maven, whose quiet logger would swallow ScoreIterationListener's log lines)
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
        try (AsyncPipelineWrapper pipeline = new AsyncPipelineWrapper.Builder(net)
                .stages(stages)
                .schedule(schedule)
                .microBatches(4)
                .weightStashing(true)
                .build()) {
            long t0 = System.nanoTime();
            pipeline.fit(trainIt, epochs);
            System.out.printf("trained in %.1f s; partition (layers per stage) %s%n%s",
                    (System.nanoTime() - t0) / 1e9, java.util.Arrays.toString(pipeline.partition()), pipeline.metrics());
        }
        Evaluation eval = net.evaluate(testIt);
        System.out.printf("test accuracy on %d images: %.4f (iterations %d, epochs %d)%n", test, eval.accuracy(),
                net.getIterationCount(), net.getEpochCount());
    }

    static String stringArg(String[] args, String name, String dflt) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return dflt;
    }
}
