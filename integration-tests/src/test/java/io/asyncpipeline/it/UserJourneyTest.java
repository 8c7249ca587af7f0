package io.asyncpipeline.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.updater.DiscountedNadam;
import java.io.File;
import java.nio.file.Files;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** What a DL4J user does: wrap, fit, evaluate, save, restore, resume. */
class UserJourneyTest {

    static MultiLayerNetwork net() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3)
                .updater(DiscountedNadam.builder().learningRate(0.01).build()).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(24).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(24).nOut(24).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(24).nOut(24).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(24).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    @Test
    void asyncPipelineTrainsAndTheNetworkWorksAsUsualAfterwards() throws Exception {
        DataSet iris = IrisFile.load();
        DataSetIterator it = new ListDataSetIterator<>(iris.asList(), 10);
        MultiLayerNetwork net = net();
        net.setListeners(new ScoreIterationListener(50));
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).stages(2)
                .schedule(Schedule.ASYNC_1F1B).build()) {
            w.fit(it, 40);
            assertEquals(2, w.partition().length);
            assertTrue(w.metrics().stage(0).updates() == 15 * 40, "every stage updates once per micro-batch");
        }
        assertEquals(600, net.getIterationCount());
        assertEquals(40, net.getEpochCount());
        Evaluation eval = net.evaluate(new ListDataSetIterator<>(iris.asList(), 50));
        assertTrue(eval.accuracy() >= 0.9, "accuracy " + eval.accuracy());

        File file = Files.createTempFile("pipeline", ".zip").toFile();
        file.deleteOnExit();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        assertArrayEquals(net.output(iris.getFeatures()).ravel().toFloatVector(), restored.output(iris.getFeatures()).ravel().toFloatVector(), 0f);
        assertEquals(net.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray());
    }

    @Test
    void resumingFromACheckpointGivesTheSameNumbersAsNotStopping() throws Exception {
        DataSet iris = IrisFile.load();
        DataSetIterator it = new ListDataSetIterator<>(iris.asList(), 10);
        MultiLayerNetwork straight = net();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(straight).partition(2, 2).build()) {
            w.fit(it, 3);
        }
        MultiLayerNetwork first = net();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(first).partition(2, 2).build()) {
            w.fit(it, 2);
        }
        File file = Files.createTempFile("checkpoint", ".zip").toFile();
        file.deleteOnExit();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(first).partition(2, 2).build()) {
            w.saveCheckpoint(file);
        }
        MultiLayerNetwork resumed = ModelSerializer.restoreMultiLayerNetwork(file, true);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(resumed).partition(2, 2).build()) {
            w.fit(it, 1);
        }
        assertArrayEquals(straight.params().toFloatVector(), resumed.params().toFloatVector(), 0f);
        assertArrayEquals(straight.getUpdater().getStateViewArray().toFloatVector(),
                resumed.getUpdater().getStateViewArray().toFloatVector(), 0f);
        assertEquals(straight.getIterationCount(), resumed.getIterationCount());
        assertEquals(straight.getEpochCount(), resumed.getEpochCount());
    }
}
