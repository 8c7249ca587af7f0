package io.asyncpipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.asyncpipeline.testdata.Graphs;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.transport.BoundaryCompression;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;

/** A compressed boundary rounds the same way on threads and in the replay, and it does round. */
class BoundaryCompressionPipelineTest {

    private static double[] train(BoundaryCompression c, boolean replay) {
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.FLOAT, 3);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).boundaryCompression(c)
                .singleThreadedReplay(replay).build()) {
            w.fit(Iris.iterator(10, DataType.FLOAT), 2);
        }
        return net.params().toDoubleVector();
    }

    @Test
    void threadsEqualTheReplayBitForBitInEveryMode() {
        double[] none = train(BoundaryCompression.NONE, true);
        for (BoundaryCompression c : new BoundaryCompression[] {BoundaryCompression.FP16, BoundaryCompression.BF16,
                BoundaryCompression.INT8}) {
            double[] replayed = train(c, true);
            assertArrayEquals(replayed, train(c, false), 0.0, c + ": threads against the replay");
            assertFalse(Arrays.equals(none, replayed), c + " changes the numbers: the boundaries were rounded");
        }
    }

    @Test
    void aGraphWithTwoTensorsAcrossACutEqualsTheReplayWithInt8() {
        double[][] params = new double[2][];
        for (int r = 0; r < 2; r++) {
            List<MultiDataSet> data = Graphs.multiData(8, 6, DataType.FLOAT, 2);
            ComputationGraph g = Graphs.multiInOut(new Adam(0.01), DataType.FLOAT, 4);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(g).cutAfter("dA", "merge")
                    .boundaryCompression(BoundaryCompression.INT8).singleThreadedReplay(r == 0).build()) {
                w.fit(Graphs.iterator(data), 2);
            }
            params[r] = g.params().toDoubleVector();
        }
        assertArrayEquals(params[0], params[1], 0.0, "threads against the replay, INT8 boundaries of two tensors");
    }

    @Test
    void nullIsRefused() {
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.FLOAT, 3);
        assertThrows(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(net).boundaryCompression(null));
    }
}
