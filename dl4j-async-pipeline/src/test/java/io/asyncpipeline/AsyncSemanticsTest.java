package io.asyncpipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Pins the asynchronous 1F1B semantics with an independent replay written here from plain DL4J calls:
 * with weight stashing, stage k's gradient for micro-batch m is the gradient at the point whose stage-j
 * weights are version max(0, m - τ_j), and it is applied to version m as iteration m.
 */
class AsyncSemanticsTest {

    @Test
    void stashingMatchesAnIndependentReplay() {
        check(DiscountedNadam.builder().learningRate(0.02).build(), new int[] {1, 1, 1});
        check(DelayCorrectedNesterov.builder().learningRate(0.05).momentum(0.9).build(), new int[] {2, 1});
    }

    private static void check(IUpdater updater, int[] partition) {
        List<DataSet> batches = Iris.all(DataType.DOUBLE).batchBy(10);
        MultiLayerNetwork piped = Nets.irisMlp(updater, DataType.DOUBLE, 11);
        MultiLayerNetwork ref = Nets.irisMlp(updater, DataType.DOUBLE, 11);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).partition(partition).build()) {
            w.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(batches, 1));
            PipelineMetrics m = w.metrics();
            for (int k = 0; k < partition.length; k++) {
                assertEquals(partition.length - 1 - k, m.stage(k).modalDelay(), "stage " + k + " delay");
                assertEquals(batches.size(), m.stage(k).updates(), "one update per micro-batch on stage " + k);
            }
        }
        replay(ref, batches, partition);
        assertArrayEquals(ref.params().toDoubleVector(), piped.params().toDoubleVector(), 0.0);
        assertArrayEquals(ref.getUpdater().getStateViewArray().toDoubleVector(),
                piped.getUpdater().getStateViewArray().toDoubleVector(), 1e-12);
        assertEquals(batches.size(), piped.getIterationCount());
    }

    /** The reference: P stage segments of one flat parameter vector, each with its own version history. */
    private static void replay(MultiLayerNetwork net, List<DataSet> batches, int[] partition) {
        int p = partition.length;
        long[] offsets = new long[p + 1];
        int layer = 0;
        for (int k = 0; k < p; k++) {
            long n = 0;
            for (int i = 0; i < partition[k]; i++) {
                n += net.getLayer(layer++).numParams();
            }
            offsets[k + 1] = offsets[k] + n;
        }
        List<INDArray> history = new ArrayList<>();
        history.add(net.params().dup());
        for (int m = 0; m < batches.size(); m++) {
            INDArray point = net.params().dup();
            for (int k = 0; k < p; k++) {
                int version = Math.max(0, m - (p - 1 - k));
                INDArray src = history.get(version);
                segment(point, offsets, k).assign(segment(src, offsets, k));
            }
            INDArray current = net.params().dup();
            net.setParams(point);
            DataSet ds = batches.get(m);
            Gradient g = net.calculateGradients(ds.getFeatures(), ds.getLabels(), null, null).getFirst();
            net.setParams(current);
            net.getUpdater().update(net, g, m, 0, (int) ds.numExamples(), LayerWorkspaceMgr.noWorkspaces());
            net.params().subi(g.gradient().reshape(net.params().shape()));
            history.add(net.params().dup());
        }
        net.setIterationCount(batches.size());
    }

    private static INDArray segment(INDArray flat, long[] offsets, int k) {
        return flat.reshape(flat.length()).get(NDArrayIndex.interval(offsets[k], offsets[k + 1]));
    }
}
