package io.asyncpipeline.model.multilayer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.StageThreadState;
import io.asyncpipeline.transport.Message;
import java.util.List;
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
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * DL4J stages free the arrays they make for a micro-batch when nothing can read them any more (PassArrays): the
 * activations a stage sent on at the end of its own backward, the gradients it received at the end of the backward
 * that used them; never the training data, never before the last use.
 */
class StageArrayReleaseTest {

    /** The stages ran on this (the test) thread: free their workspaces, as a stage thread does when it ends. */
    @AfterEach
    void freeStageWorkspaces() {
        StageThreadState.freeStageWorkspaces();
    }

    private static MultiLayerNetwork net() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    private static Message data(int m, DataSet ds) {
        return new Message(m, 0, ds.numExamples(), new INDArray[] {ds.getFeatures()}, new INDArray[] {ds.getLabels()},
                null, null);
    }

    private static Message next(Message in, INDArray[] out) {
        return new Message(in.microBatch(), 0, in.examples(), out, in.labels(), null, null);
    }

    @Test
    void sentActivationsLiveUntilTheSendersBackwardAndReceivedGradientsUntilTheirUse() {
        List<StageComputation> stages = MultiLayerPipelineModel.split(net(), new int[] {2, 1}).stages();
        StageComputation s0 = stages.get(0);
        StageComputation s1 = stages.get(1);
        DataSet ds = Iris.all(DataType.DOUBLE);
        Message in0 = data(0, ds);
        INDArray a = s0.forward(in0, 0, 0, 0)[0];
        Message in1 = next(in0, new INDArray[] {a});
        s1.forward(in1, 0, 0, 0);
        INDArray[] g = s1.backward(in1, null, 0);
        assertNotNull(g);
        assertFalse(a.wasClosed(), "the next stage's backward has just read the activation; its maker still owns it");
        assertFalse(g[0].wasClosed(), "the gradient is sent to stage 0, which has not used it yet");
        double gradientSum = g[0].sumNumber().doubleValue();
        assertTrue(Double.isFinite(gradientSum));
        assertNull(s0.backward(in0, g, 0), "the first stage's input gradient goes nowhere: freed, not returned");
        assertTrue(a.wasClosed(), "stage 0 frees the activation it sent once its own backward is done");
        assertTrue(g[0].wasClosed(), "stage 0 frees the gradient it received once its backward has used it");
        assertFalse(ds.getFeatures().wasClosed(), "the training data is never freed");
        assertFalse(ds.getLabels().wasClosed(), "the labels are never freed");
        assertEquals(ds.getFeatures().sumNumber().doubleValue(), Iris.all(DataType.DOUBLE).getFeatures().sumNumber()
                .doubleValue(), 0.0, "the data is intact");
    }

    @Test
    void aReusedSlotKeepsTheSentActivationOfTheMicroBatchItHeldUntilThatBackward() {
        List<StageComputation> stages = MultiLayerPipelineModel.split(net(), new int[] {2, 1}).stages();
        StageComputation s0 = stages.get(0);
        StageComputation s1 = stages.get(1);
        DataSet ds = Iris.all(DataType.DOUBLE);
        Message m0 = data(0, ds);
        Message m1 = data(1, ds);
        // one slot: the forward of micro-batch 1 reuses the slot of micro-batch 0 before its backward
        INDArray a0 = s0.forward(m0, 0, 0, 0)[0];
        double a0Sum = a0.sumNumber().doubleValue();
        INDArray a1 = s0.forward(m1, 0, 0, 0)[0];
        assertFalse(a0.wasClosed(), "micro-batch 0's activation was sent: it waits for micro-batch 0's backward");
        assertEquals(a0Sum, a0.sumNumber().doubleValue(), 0.0, "and it is not overwritten");
        Message n0 = next(m0, new INDArray[] {a0});
        s1.forward(n0, 0, 0, 0);
        INDArray[] g0 = s1.backward(n0, null, 0);
        // micro-batch 0's backward on stage 0 recomputes its forward first, as the worker does
        INDArray again = s0.forward(m0, 0, 0, 0)[0];
        assertEquals(a0Sum, again.sumNumber().doubleValue(), 1e-12, "the recompute sees the same weights");
        s0.backward(m0, g0, 0);
        assertTrue(a0.wasClosed(), "freed at micro-batch 0's backward");
        assertTrue(again.wasClosed(), "the recomputed activation too");
        assertTrue(g0[0].wasClosed());
        assertFalse(a1.wasClosed(), "micro-batch 1 has not run its backward");
        Message n1 = next(m1, new INDArray[] {a1});
        s1.forward(n1, 0, 0, 0);
        INDArray[] g1 = s1.backward(n1, null, 0);
        INDArray a1again = s0.forward(m1, 0, 0, 0)[0];
        s0.backward(m1, g1, 0);
        assertTrue(a1.wasClosed());
        assertTrue(a1again.wasClosed());
    }
}
