package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.examples.net.NetworkNamespaces;
import io.asyncpipeline.transport.BoundaryCompression;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Two stage processes in two network namespaces over links shaped to 10 Mbit/s (needs root: the Maven profile
 * {@code shaped-links} runs it). A wide boundary (64 x 2048 floats, 512 KiB each way per micro-batch) keeps the link
 * busy: the busiest link direction must carry at least 90 % of its line rate, the trained bits must equal the
 * single-threaded replay's, and INT8 boundaries must cut the boundary bytes to about a quarter (under 30 %, the
 * stage's state sent back after the fit left out) and train faster, still equal to the replay.
 */
@Tag("root")
class ShapedLinksTest {

    static MultiLayerNetwork wide() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(11).dataType(DataType.FLOAT)
                .updater(new Adam(1e-3)).list()
                .layer(new DenseLayer.Builder().nIn(64).nOut(2048).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(2048).nOut(4)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    static List<DataSet> micro() {
        Nd4j.getRandom().setSeed(2);
        INDArray x = Nd4j.rand(DataType.FLOAT, 24 * 64, 64);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 24 * 64, 4);
        for (int i = 0; i < x.rows(); i++) {
            y.putScalar(i, i % 4, 1f);
        }
        return new DataSet(x, y).batchBy(64);
    }

    static double[] replay(List<DataSet> micro, BoundaryCompression bc) {
        MultiLayerNetwork net = wide();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1).schedule(Schedule.ASYNC_1F1B)
                .boundaryCompression(bc).singleThreadedReplay(true).build()) {
            w.fit(new ListDataSetIterator<>(micro.subList(0, 4), 1));     // ShapedLinkBenchmark.run's two warm-up fits
            w.fit(new ListDataSetIterator<>(micro.subList(0, 4), 1));
            w.fit(new ListDataSetIterator<>(micro, 1));
        }
        return net.params().toDoubleVector();
    }

    @Test
    void aTenMegabitLinkIsKeptBusyAndTheBitsEqualTheReplay() throws Exception {
        assertNull(NetworkNamespaces.unavailableReason(), "the profile needs root and iproute2");
        List<DataSet> micro = micro();
        Path tokenFile = Files.createTempFile("shaped-links-test", ".txt");
        String token = ShapedLinkBenchmark.newToken();
        Files.writeString(tokenFile, token);
        try (NetworkNamespaces hosts = NetworkNamespaces.create(2)) {
            hosts.shape(10);
            ShapedLinkBenchmark.Run plain = null;
            for (BoundaryCompression bc : new BoundaryCompression[] {BoundaryCompression.NONE, BoundaryCompression.INT8}) {
                MultiLayerNetwork net = wide();
                ShapedLinkBenchmark.Run r = ShapedLinkBenchmark.run(hosts, () -> new AsyncPipelineWrapper.Builder(net)
                        .partition(1, 1).schedule(Schedule.ASYNC_1F1B), micro, 4, 10, bc, token, tokenFile);
                assertArrayEquals(replay(micro, bc), net.params().toDoubleVector(), 0.0,
                        bc + ": two namespaces against the replay");
                if (bc == BoundaryCompression.NONE) {
                    plain = r;
                    assertTrue(r.linkUse() >= 0.9, "busiest link at " + Math.round(100 * r.linkUse()) + " % of 10 Mbit/s");
                } else {
                    // host 0 also sends its stage's state back after the fit, the same in both runs: parameters and
                    // Adam's two moments, 64 x 2048 + 2048 floats each; the run's own split agrees within 10 % (TCP/IP
                    // headers and acknowledgements add a few per cent)
                    long state = 3L * 4 * (64 * 2048 + 2048);
                    for (ShapedLinkBenchmark.Run x : new ShapedLinkBenchmark.Run[] {plain, r}) {
                        double measured = x.hostZeroSent() - x.microBatchBytes(0);
                        assertEquals(state, measured, 0.10 * state, bc + ": host 0's bytes that are not micro-batches'");
                    }
                    double ratio = (r.hostZeroSent() - state) / (double) (plain.hostZeroSent() - state);
                    assertTrue(ratio < 0.3, "INT8 activations: " + ratio + " of the bytes (" + r.hostZeroSent()
                            + " against " + plain.hostZeroSent() + ")");
                    assertTrue(r.examplesPerSecond() > 1.5 * plain.examplesPerSecond(),
                            r.examplesPerSecond() + " vs " + plain.examplesPerSecond() + " examples/s on a busy link");
                }
            }
        } finally {
            Files.deleteIfExists(tokenFile);
        }
    }
}
