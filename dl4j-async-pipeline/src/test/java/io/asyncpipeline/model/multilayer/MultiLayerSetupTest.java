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

    /**
     * Without a profile sample the stages are balanced by parameter count, which misjudges convolutions: a CNN gets a
     * warning that names profileWith; an MLP (parameters close to compute) does not.
     */
    @Test
    void balancingACnnByParameterCountWarnsAndNamesTheFix() {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                io.asyncpipeline.model.dl4j.Dl4jSetup.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
                new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        log.addAppender(seen);
        try {
            MultiLayerNetwork cnn = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
                    .updater(new Sgd(0.1)).list()
                    .layer(new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(3, 3).nOut(4)
                            .activation(Activation.RELU).build())
                    .layer(new org.deeplearning4j.nn.conf.layers.SubsamplingLayer.Builder().kernelSize(2, 2)
                            .stride(2, 2).build())
                    .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(16)
                            .activation(Activation.RELU).build())
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                            .activation(Activation.SOFTMAX).build())
                    .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutionalFlat(8, 8, 1))
                    .build());
            cnn.init();
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(cnn).stages(2).build()) {
                assertEquals(2, w.partition().length);
            }
            List<ch.qos.logback.classic.spi.ILoggingEvent> warnings = seen.list.stream()
                    .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN).toList();
            assertEquals(1, warnings.size(), "one warning: " + seen.list);
            String m = warnings.get(0).getFormattedMessage();
            org.junit.jupiter.api.Assertions.assertTrue(m.contains("ConvolutionLayer") && m.contains("profileWith"), m);

            seen.list.clear();
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(Nets.irisMlp(new Sgd(0.1), DataType.FLOAT, 1))
                    .stages(2).build()) {
                assertEquals(2, w.partition().length);
            }
            assertEquals(0, seen.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN).count(),
                    "no warning for an MLP: " + seen.list);
        } finally {
            log.detachAppender(seen);
        }
    }
}
