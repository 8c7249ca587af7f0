package io.asyncpipeline.model.multilayer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.PipelineCuts;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class MultiLayerSetupTest {

    /**
     * Regression: the stage count was worked out twice, as partition length (1 for a one-layer network) and,
     * for the settings, as the default of 2; so a one-layer network got two devices and two stages' thread
     * settings for its one stage.
     */
    @Test
    void aOneLayerNetworkIsOneStageEverywhere() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).updater(new Sgd(0.1))
                .list().layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(Iris.FEATURES)
                        .nOut(Iris.CLASSES).activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).build()) {
            assertArrayEquals(new int[] {1}, w.partition());
            assertEquals(1, w.settings().devices().length, "one device for the one stage");
            assertEquals(0, w.settings().ndThreadsPerStage(), "one stage leaves ND4J's threads alone");
            assertEquals(1, w.pipelineModel().stages().size());
            w.fit(Iris.iterator(50, DataType.FLOAT));
            assertEquals(3, net.getIterationCount());
        }
    }

    @Test
    void cutsNameTheLastLayerOfEachStage() {
        MultiLayerNetwork net = Nets.irisMlp(new Sgd(0.1), DataType.FLOAT, 1);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 2).build()) {
            PipelineCuts cuts = w.cuts();
            assertEquals("layers", cuts.unit());
            assertArrayEquals(new int[] {1, 2}, cuts.partition());
            assertEquals(2, cuts.stages());
            assertEquals(List.of("layer0"), cuts.cutAfter(), "DL4J names an unnamed layer layer<index>");
            assertEquals(List.of(List.of("layer0")), cuts.crossing());
        }
    }
}
