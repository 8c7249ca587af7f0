package io.asyncpipeline.model.multilayer;

import io.asyncpipeline.Schedule;
import io.asyncpipeline.AsyncPipelineWrapper;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.updater.DiscountedNadam;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Convolutions (with preprocessors from an InputType), LSTMs with masks, and dropout in the pipeline. */
class LayerSupportTest {

    private static MultiLayerNetwork cnn(long seed) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.DOUBLE)
                .updater(DiscountedNadam.builder().learningRate(0.01).build()).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().nOut(12).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(8, 8, 1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static DataSetIterator images(int batches, int batchSize) {
        Random r = new Random(1);
        List<DataSet> list = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            INDArray x = Nd4j.rand(DataType.DOUBLE, batchSize, 64);
            INDArray y = Nd4j.zeros(DataType.DOUBLE, batchSize, 3);
            for (int i = 0; i < batchSize; i++) {
                int c = r.nextInt(3);
                y.putScalar(i, c, 1.0);
                x.getRow(i).addi(c * 0.5);
            }
            list.add(new DataSet(x, y));
        }
        return new ListDataSetIterator<>(list, 1);
    }

    @Test
    void convolutionalNetworkGpipeEqualsPlainFit() {
        MultiLayerNetwork plain = cnn(5);
        MultiLayerNetwork piped = cnn(5);
        DataSetIterator it = images(6, 16);
        double before = plain.score(it.next());
        it.reset();
        plain.fit(it, 5);
        it.reset();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).partition(2, 2)
                .schedule(Schedule.GPIPE).microBatches(4).build()) {
            w.fit(it, 5);
        }
        assertArrayEquals(plain.params().toDoubleVector(), piped.params().toDoubleVector(), 1e-10);
        it.reset();
        assertTrue(piped.score(it.next()) < before, "training lowered the loss");
    }

    private static MultiLayerNetwork lstm(long seed, double dropout) {
        // Dropout as a layer option: DL4J's own DropoutLayer rejects masked time series (also in plain fit).
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.DOUBLE)
                .updater(DiscountedNadam.builder().learningRate(0.01).build()).list()
                .layer(lstmLayer(3, 6, dropout))
                .layer(lstmLayer(6, 5, dropout))
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(2)
                        .activation(Activation.SOFTMAX).build());
        MultiLayerNetwork net = new MultiLayerNetwork(b.build());
        net.init();
        return net;
    }

    private static LSTM lstmLayer(int in, int out, double dropout) {
        LSTM.Builder b = new LSTM.Builder().nIn(in).nOut(out).activation(Activation.TANH);
        if (dropout > 0) {
            b.dropOut(1 - dropout); // DL4J takes the retain probability
        }
        return b.build();
    }

    /** Time series of length 7 with per-example lengths 3..7 (feature and label masks). */
    private static DataSetIterator sequences(int batches, int batchSize) {
        Random r = new Random(2);
        List<DataSet> list = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            INDArray x = Nd4j.rand(DataType.DOUBLE, batchSize, 3, 7);
            INDArray y = Nd4j.zeros(DataType.DOUBLE, batchSize, 2, 7);
            INDArray mask = Nd4j.zeros(DataType.DOUBLE, batchSize, 7);
            for (int i = 0; i < batchSize; i++) {
                int len = 3 + r.nextInt(5);
                for (int t = 0; t < 7; t++) {
                    y.putScalar(new int[] {i, r.nextInt(2), t}, 1.0);
                    if (t < len) {
                        mask.putScalar(i, t, 1.0);
                    }
                }
            }
            list.add(new DataSet(x, y, mask, mask));
        }
        return new ListDataSetIterator<>(list, 1);
    }

    @Test
    void maskedLstmGpipeEqualsPlainFit() {
        MultiLayerNetwork plain = lstm(9, 0);
        MultiLayerNetwork piped = lstm(9, 0);
        DataSetIterator it = sequences(5, 8);
        plain.fit(it);
        it.reset();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).partition(1, 2)
                .schedule(Schedule.ONE_F_ONE_B).microBatches(2).build()) {
            w.fit(it);
        }
        assertArrayEquals(plain.params().toDoubleVector(), piped.params().toDoubleVector(), 1e-10);
    }

    @Test
    void dropoutMasksRepeatOnRecomputeSoAllExecutionModesGiveTheSameBits() {
        DataSetIterator it = sequences(12, 4);
        double[] reference = null;
        for (int run = 0; run < 4; run++) {
            boolean replay = run % 2 == 1;
            boolean recompute = run >= 2;
            MultiLayerNetwork net = lstm(4, 0.3);
            it.reset();
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 2)
                    .singleThreadedReplay(replay).recomputeActivations(recompute).build()) {
                w.fit(it);
                int recomputes = w.metrics().stage(0).recomputes();
                assertTrue(recompute ? recomputes > 0 : recomputes == 0, "stage 0 recomputes: " + recomputes);
            }
            double[] params = net.params().toDoubleVector();
            if (reference == null) {
                reference = params;
            } else {
                assertArrayEquals(reference, params, 0.0, "replay=" + replay + " recompute=" + recompute);
            }
        }
    }
}
