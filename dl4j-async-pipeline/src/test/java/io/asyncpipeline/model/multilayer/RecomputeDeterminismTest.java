package io.asyncpipeline.model.multilayer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.asyncpipeline.transport.Message;
import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.stage.StageOptions;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.StageThreadState;
import java.util.Arrays;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Dropout draws from the thread's RNG: reseeding with the micro-batch's seed makes a recompute see the same mask. */
class RecomputeDeterminismTest {

    @AfterEach
    void freeStageWorkspaces() {
        StageThreadState.freeStageWorkspaces();
    }

    @Test
    void sameSeedSameDropoutMaskOtherSeedOtherMask() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).dropOut(0.5).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(32).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(32).nOut(32).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(32).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        StageComputation stage0 = MultiLayerPipelineModel.split(net, new int[] {2, 1}).stages().get(0);
        DataSet ds = Iris.all(DataType.DOUBLE);
        Message m = new Message(5, 0, 150, new INDArray[] {ds.getFeatures()}, new INDArray[] {ds.getLabels()}, null, null);
        StageOptions opts = new StageOptions(0, true, 0, 42);
        Nd4j.getRandom().setSeed(opts.seedFor(0, 5));
        double[] first = stage0.forward(m, 0, 0, 0)[0].ravel().toDoubleVector();
        Nd4j.getRandom().setSeed(12345);
        Nd4j.rand(3, 3); // other work on the thread in between
        Nd4j.getRandom().setSeed(opts.seedFor(0, 5));
        double[] recompute = stage0.forward(m, 0, 0, 0)[0].ravel().toDoubleVector();
        Nd4j.getRandom().setSeed(opts.seedFor(0, 6));
        double[] other = stage0.forward(m, 0, 0, 0)[0].ravel().toDoubleVector();
        assertArrayEquals(first, recompute, 0.0);
        assertFalse(Arrays.equals(first, other), "a different micro-batch gets a different mask");
    }
}
