package io.asyncpipeline.testdata;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Small Iris classifiers used across tests. */
public final class Nets {

    private Nets() {
    }

    /** 4-16-16-3 MLP configuration with the given updater. */
    public static MultiLayerConfiguration irisMlpConf(IUpdater updater, DataType type, long seed) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(type).updater(updater)
                .list()
                .layer(new DenseLayer.Builder().nIn(Iris.FEATURES).nOut(16).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(Iris.CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    public static MultiLayerNetwork irisMlp(IUpdater updater, DataType type, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(irisMlpConf(updater, type, seed));
        net.init();
        return net;
    }

    /** The same MLP as a ComputationGraph with one input "in" and one output "out". */
    public static ComputationGraphConfiguration irisGraphConf(IUpdater updater, DataType type, long seed) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(type).updater(updater)
                .graphBuilder()
                .addInputs("in")
                .addLayer("h1", new DenseLayer.Builder().nIn(Iris.FEATURES).nOut(16).activation(Activation.TANH).build(), "in")
                .addLayer("h2", new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH).build(), "h1")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(Iris.CLASSES)
                        .activation(Activation.SOFTMAX).build(), "h2")
                .setOutputs("out")
                .build();
    }

    public static ComputationGraph irisGraph(IUpdater updater, DataType type, long seed) {
        ComputationGraph g = new ComputationGraph(irisGraphConf(updater, type, seed));
        g.init();
        return g;
    }
}
