package io.asyncpipeline.testdata;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Small ComputationGraphs with skip connections, several inputs and several outputs, and synthetic data for them. */
public final class Graphs {

    private Graphs() {
    }

    /**
     * in(4) → d1 → d2 → d3 → add = d3 + d1 → d4 → out(3 classes). The skip from d1 to add crosses two
     * boundaries when cut after d1, d2 and d3.
     */
    public static ComputationGraph residual(IUpdater updater, DataType type, long seed) {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(type).updater(updater)
                .graphBuilder()
                .addInputs("in")
                .addLayer("d1", dense(4, 6), "in")
                .addLayer("d2", dense(6, 5), "d1")
                .addLayer("d3", dense(5, 6), "d2")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "d3", "d1")
                .addLayer("d4", dense(6, 5), "add")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "d4")
                .setOutputs("out")
                .build());
        g.init();
        return g;
    }

    /**
     * Inputs a(3), b(2): dA(a), dB(b), merge = [dA, dB], d(merge) → out1 (3 classes, softmax); merge → out2
     * (2 values, MSE). Input b is first consumed in the second stage when cut after dA.
     */
    public static ComputationGraph multiInOut(IUpdater updater, DataType type, long seed) {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(type).updater(updater)
                .graphBuilder()
                .addInputs("a", "b")
                .addLayer("dA", dense(3, 4), "a")
                .addLayer("dB", dense(2, 3), "b")
                .addVertex("merge", new MergeVertex(), "dA", "dB")
                .addLayer("d", dense(7, 5), "merge")
                .addLayer("out1", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "d")
                .addLayer("out2", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(7).nOut(2)
                        .activation(Activation.IDENTITY).build(), "merge")
                .setOutputs("out1", "out2")
                .build());
        g.init();
        return g;
    }

    private static DenseLayer dense(int in, int out) {
        return new DenseLayer.Builder().nIn(in).nOut(out).activation(Activation.TANH).build();
    }

    /** {@code batches} batches of {@code size} examples for {@link #residual}: 4 features, one-hot over 3 classes. */
    public static List<DataSet> residualData(int batches, int size, DataType type, long seed) {
        Random r = new Random(seed);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            double[][] x = new double[size][4];
            double[][] y = new double[size][3];
            for (int i = 0; i < size; i++) {
                for (int j = 0; j < 4; j++) {
                    x[i][j] = r.nextGaussian();
                }
                y[i][classOf(x[i][0] + x[i][1], x[i][2] - x[i][3])] = 1;
            }
            out.add(new DataSet(Nd4j.create(x).castTo(type), Nd4j.create(y).castTo(type)));
        }
        return out;
    }

    /** Batches for {@link #multiInOut}: features a(3), b(2); labels one-hot(3), regression(2). */
    public static List<org.nd4j.linalg.dataset.api.MultiDataSet> multiData(int batches, int size, DataType type, long seed) {
        Random r = new Random(seed);
        List<org.nd4j.linalg.dataset.api.MultiDataSet> out = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            double[][] a = new double[size][3];
            double[][] bb = new double[size][2];
            double[][] y1 = new double[size][3];
            double[][] y2 = new double[size][2];
            for (int i = 0; i < size; i++) {
                for (int j = 0; j < 3; j++) {
                    a[i][j] = r.nextGaussian();
                }
                for (int j = 0; j < 2; j++) {
                    bb[i][j] = r.nextGaussian();
                }
                y1[i][classOf(a[i][0] - bb[i][1], a[i][2] + bb[i][0])] = 1;
                y2[i][0] = 0.5 * a[i][1] - bb[i][0];
                y2[i][1] = Math.sin(a[i][0]) + 0.3 * bb[i][1];
            }
            out.add(new MultiDataSet(new INDArray[] {Nd4j.create(a).castTo(type), Nd4j.create(bb).castTo(type)},
                    new INDArray[] {Nd4j.create(y1).castTo(type), Nd4j.create(y2).castTo(type)}));
        }
        return out;
    }

    private static int classOf(double u, double v) {
        return u > 0.3 ? 0 : v > 0 ? 1 : 2;
    }

    /** A resettable iterator over fixed batches. */
    public static MultiDataSetIterator iterator(List<org.nd4j.linalg.dataset.api.MultiDataSet> batches) {
        return new MultiDataSetIterator() {
            private int next;
            private MultiDataSetPreProcessor pre;

            @Override
            public org.nd4j.linalg.dataset.api.MultiDataSet next(int num) {
                return next();
            }

            @Override
            public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
                this.pre = preProcessor;
            }

            @Override
            public MultiDataSetPreProcessor getPreProcessor() {
                return pre;
            }

            @Override
            public boolean resetSupported() {
                return true;
            }

            @Override
            public boolean asyncSupported() {
                return false;
            }

            @Override
            public void reset() {
                next = 0;
            }

            @Override
            public boolean hasNext() {
                return next < batches.size();
            }

            @Override
            public org.nd4j.linalg.dataset.api.MultiDataSet next() {
                return batches.get(next++);
            }
        };
    }
}
