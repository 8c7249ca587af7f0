package io.asyncpipeline.testdata;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Fault injection from inside a DL4J layer. {@link TripwireActivation} is an identity activation that
 * throws {@link InjectedFault} when its input holds a value above {@link #THRESHOLD}. The network
 * {@link #net} is {@code Dense(4->16, identity) | Activation(tripwire), Dense(16->16, tanh) | Output(16->3)}
 * with partition (1, 2, 1): a feature row of {@link #MARKER}s passes stage 0 (linear, so it stays huge)
 * and trips the wire inside stage 1's first layer, while normal Iris rows (|x| &lt; 5) never do.
 */
public final class Tripwire {

    public static final double MARKER = 1e9;
    public static final double THRESHOLD = 1e6;
    public static final int[] PARTITION = {1, 2, 1};

    private Tripwire() {
    }

    /**
     * The exception the tripwire throws; remembers the thread, its name then (stage threads are kept between fits and
     * renamed when idle), and the time it was thrown.
     */
    public static final class InjectedFault extends RuntimeException {
        private static final long serialVersionUID = 1L;
        public final transient Thread thread = Thread.currentThread();
        public final String threadName = Thread.currentThread().getName();
        public final long nanoTime = System.nanoTime();

        InjectedFault(double seen) {
            super("tripwire: activation input " + seen + " > " + THRESHOLD + " on thread " + Thread.currentThread().getName());
        }
    }

    /** Identity activation that throws on a marker value; records the last fault it threw. */
    public static final class TripwireActivation extends BaseActivationFunction {
        private static final long serialVersionUID = 1L;
        public static final AtomicReference<InjectedFault> LAST = new AtomicReference<>();

        @Override
        public INDArray getActivation(INDArray in, boolean training) {
            double max = in.amaxNumber().doubleValue();
            if (max > THRESHOLD) {
                InjectedFault f = new InjectedFault(max);
                LAST.set(f);
                throw f;
            }
            return in;
        }

        @Override
        public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
            return new Pair<>(epsilon, null);
        }

        @Override
        public String toString() {
            return "tripwire";
        }
    }

    public static MultiLayerConfiguration conf(IUpdater updater, DataType type, long seed) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(type).updater(updater)
                .list()
                .layer(new DenseLayer.Builder().nIn(Iris.FEATURES).nOut(16).activation(Activation.IDENTITY).build())
                .layer(new ActivationLayer.Builder().activation(new TripwireActivation()).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(Iris.CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    public static MultiLayerNetwork net(IUpdater updater, DataType type, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf(updater, type, seed));
        net.init();
        return net;
    }

    /** Iris rows (shuffled, one DataSet per row); rows listed in {@code markedRows} get MARKER features. */
    public static List<DataSet> rows(DataType type, int... markedRows) {
        List<DataSet> rows = Iris.all(type).asList();
        for (int r : markedRows) {
            DataSet d = rows.get(r);
            rows.set(r, new DataSet(d.getFeatures().dup().assign(MARKER), d.getLabels().dup()));
        }
        return rows;
    }

    public static DataSetIterator iterator(List<DataSet> rows, int batch) {
        return new ListDataSetIterator<>(rows, batch);
    }
}
