package io.asyncpipeline.model.graph;

import io.asyncpipeline.AsyncPipelineWrapper;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.model.graph.GraphPipelineModel;
import io.asyncpipeline.testdata.Graphs;
import io.asyncpipeline.testdata.RnnGraphs;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** profileWith on ComputationGraphs: stages balanced by measured per-vertex time instead of parameter count. */
class GraphProfileTest {

    /**
     * in(1×16×16) → conv1(8 ch) → conv2(8 ch) → pool(4×4) → d1(128→96) → d2(96→96) → out(10). The convolutions have
     * few parameters (80, 584) but cost about 10× the dense layers per example; d1 holds the most parameters.
     */
    private static ComputationGraph convThenDense() {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder()
                .seed(3).dataType(DataType.FLOAT).updater(new Sgd(0.01))
                .convolutionMode(ConvolutionMode.Same)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(16, 16, 1))
                .addLayer("conv1", new ConvolutionLayer.Builder(3, 3).nOut(8).activation(Activation.RELU).build(), "in")
                .addLayer("conv2", new ConvolutionLayer.Builder(3, 3).nOut(8).activation(Activation.RELU).build(), "conv1")
                .addLayer("pool", new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(4, 4)
                        .stride(4, 4).build(), "conv2")
                .addLayer("d1", new DenseLayer.Builder().nOut(96).activation(Activation.TANH).build(), "pool")
                .addLayer("d2", new DenseLayer.Builder().nOut(96).activation(Activation.TANH).build(), "d1")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build(), "d2")
                .setOutputs("out")
                .build());
        g.init();
        return g;
    }

    private static DataSet images(int n) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 10);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 10, 1);
        }
        return new DataSet(Nd4j.rand(DataType.FLOAT, n, 1, 16, 16), y);
    }

    @Test
    void profiledStagesFollowMeasuredCostNotParameterCount() {
        ComputationGraph g = convThenDense();
        assertEquals(List.of("conv1", "conv2", "pool", "d1", "d2", "out"), GraphPipelineModel.vertexOrder(g));
        DataSet sample = images(8);
        double[] time = GraphPipelineModel.timePerGroup(g, sample.toMultiDataSet(), new int[] {1, 1, 1, 1, 1, 1}, 5);
        assertTrue(time[1] > 2 * time[3], "premise: conv2 costs more than d1, " + Arrays.toString(time));
        INDArray before = g.params().dup();
        int[] byParams;
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(g).stages(2).build()) {
            byParams = w.partition();
        }
        int[] byTime;
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(g).stages(2).profileWith(sample).build()) {
            byTime = w.partition();
            assertArrayEquals(before.toDoubleVector(), g.params().toDoubleVector(), 0.0, "profiling leaves the parameters");
            w.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(List.of(sample), 8));
            assertEquals(1, g.getIterationCount());
        }
        assertArrayEquals(new int[] {4, 2}, byParams, "by parameters: cut after pool, d1 heavy");
        assertTrue(byTime[0] <= 2, "by time the convolutions lead a stage of their own: " + Arrays.toString(byTime));
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(g).stages(2)
                .profileWith(sample.toMultiDataSet()).build()) {
            assertTrue(w.partition()[0] <= 2, Arrays.toString(w.partition()));
        }
    }

    @Test
    void profilesMultiOutputAndMaskedGraphs() {
        ComputationGraph multi = Graphs.multiInOut(new Sgd(0.1), DataType.DOUBLE, 1);
        MultiDataSet sample = Graphs.multiData(1, 8, DataType.DOUBLE, 2).get(0);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(multi).stages(3).profileWith(sample).build()) {
            int[] part = w.partition();
            assertEquals(6, Arrays.stream(part).sum());
            List<String> order = GraphPipelineModel.vertexOrder(multi);
            int lastStart = 6 - part[2];
            assertTrue(order.indexOf("out1") >= lastStart && order.indexOf("out2") >= lastStart, Arrays.toString(part));
            w.fit(Graphs.iterator(List.of(sample)));
        }
        ComputationGraph rnn = RnnGraphs.twoInputs(new Sgd(0.1), DataType.DOUBLE, 1);
        List<MultiDataSet> masked = RnnGraphs.maskedData(2, 6, DataType.DOUBLE, 3, true);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(rnn).stages(3).profileWith(masked.get(0)).build()) {
            assertEquals(3, w.partition().length);
            w.fit(Graphs.iterator(masked));
            assertEquals(2, rnn.getIterationCount());
        }
    }

    @Test
    void badSamplesFailWithAClearMessage() {
        ComputationGraph multi = Graphs.multiInOut(new Sgd(0.1), DataType.DOUBLE, 1);
        DataSet oneInput = new DataSet(Nd4j.rand(DataType.DOUBLE, 4, 3), Nd4j.rand(DataType.DOUBLE, 4, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(multi).stages(2).profileWith(oneInput).build());
        assertTrue(e.getMessage().contains("profileWith: the sample has 1 feature and 1 label arrays but the graph has 2"
                + " inputs [a, b] and 2 outputs [out1, out2]"), e.getMessage());

        MultiDataSet good = Graphs.multiData(1, 4, DataType.DOUBLE, 2).get(0);
        MultiDataSet rows = new org.nd4j.linalg.dataset.MultiDataSet(new INDArray[] {good.getFeatures(0),
            Nd4j.rand(DataType.DOUBLE, 3, 2)}, good.getLabels());
        e = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(multi).stages(2).profileWith(rows).build());
        assertTrue(e.getMessage().startsWith("profileWith: the sample does not fit the graph") && e.getMessage().contains("4"
                + " examples"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(multi).cutAfter("merge").profileWith(good).build());
        assertTrue(e.getMessage().contains("no effect with cutAfter(...)"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp())
                .profileWith(good).build());
        assertTrue(e.getMessage().contains("profileWith(MultiDataSet) is for a ComputationGraph"), e.getMessage());
    }

    private static org.deeplearning4j.nn.multilayer.MultiLayerNetwork mlp() {
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net = new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(
                new NeuralNetConfiguration.Builder().seed(1).list()
                        .layer(new DenseLayer.Builder().nIn(3).nOut(4).build())
                        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                                .activation(Activation.IDENTITY).build())
                        .build());
        net.init();
        return net;
    }
}
