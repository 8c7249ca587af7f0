package example.consumer;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.Locale;
import java.util.Random;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A user's program: a small MultiLayerNetwork trained in two asynchronous pipeline stages on data made
 * here (three Gaussian clusters in four dimensions), then evaluated as usual. Prints one line starting
 * with "consumer-result" and exits with status 1 if training did not happen.
 */
public final class Main {

    static final int EXAMPLES = 150;
    static final int MICRO_BATCH = 10;
    static final int EPOCHS = 8;

    public static void main(String[] args) {
        DataSet data = clusters(EXAMPLES, 42);
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(7)
                .updater(DiscountedNadam.builder().learningRate(0.01).build()).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();

        INDArray paramsBefore = net.params().dup();
        double lossBefore = net.score(data);
        int updates;
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).stages(2)
                .schedule(Schedule.ASYNC_1F1B).build()) {
            w.fit(new ListDataSetIterator<>(data.asList(), MICRO_BATCH), EPOCHS);
            updates = w.metrics().stage(0).updates();
        }
        double lossAfter = net.score(data);
        double paramChange = net.params().sub(paramsBefore).norm2Number().doubleValue();
        Evaluation eval = net.evaluate(new ListDataSetIterator<>(data.asList(), 50));

        String library = AsyncPipelineWrapper.class.getProtectionDomain().getCodeSource().getLocation().toString();
        System.out.printf(Locale.ROOT, "consumer-result iterations=%d epochs=%d stage0Updates=%d lossBefore=%.5f lossAfter=%.5f"
                        + " paramChange=%.5f accuracy=%.4f library=%s%n",
                net.getIterationCount(), net.getEpochCount(), updates, lossBefore, lossAfter, paramChange,
                eval.accuracy(), library);

        int expectedIterations = EXAMPLES / MICRO_BATCH * EPOCHS;
        if (net.getIterationCount() != expectedIterations || !(lossAfter < lossBefore) || !(paramChange > 0)) {
            System.err.println("consumer: training did not happen as expected (" + expectedIterations
                    + " iterations, falling loss, changed parameters)");
            System.exit(1);
        }
    }

    /** n examples, one-hot labels, three clusters centred at distinct points with unit noise. */
    static DataSet clusters(int n, long seed) {
        double[][] centres = {{2, 0, 0, 1}, {-2, 1, 0, -1}, {0, -2, 2, 0}};
        Random random = new Random(seed);
        double[][] x = new double[n][4];
        double[][] y = new double[n][3];
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            for (int j = 0; j < 4; j++) {
                x[i][j] = centres[c][j] + 0.7 * random.nextGaussian();
            }
            y[i][c] = 1;
        }
        return new DataSet(Nd4j.create(x).castTo(Nd4j.defaultFloatingPointType()),
                Nd4j.create(y).castTo(Nd4j.defaultFloatingPointType()));
    }
}
