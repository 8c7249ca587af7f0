package io.asyncpipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.updater.DiscountedNadam;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.learning.config.IUpdater;

/** Transparency: what the pipeline computes equals what plain DL4J training computes. */
class PipelineEquivalenceTest {

    private static IUpdater nadam() {
        return DiscountedNadam.builder().learningRate(0.01).build();
    }

    @Test
    void oneStageAsyncEqualsPlainFitStepForStep() {
        MultiLayerNetwork plain = Nets.irisMlp(nadam(), DataType.DOUBLE, 7);
        MultiLayerNetwork piped = Nets.irisMlp(nadam(), DataType.DOUBLE, 7);
        DataSetIterator it = Iris.iterator(10, DataType.DOUBLE);
        plain.fit(it);
        it.reset();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).stages(1).build()) {
            w.fit(it);
        }
        assertArrayEquals(plain.params().toDoubleVector(), piped.params().toDoubleVector(), 0.0);
        assertArrayEquals(plain.getUpdater().getStateViewArray().toDoubleVector(),
                piped.getUpdater().getStateViewArray().toDoubleVector(), 0.0);
        assertEquals(plain.getIterationCount(), piped.getIterationCount());
        assertEquals(plain.getEpochCount(), piped.getEpochCount());
    }

    @Test
    void synchronousSchedulesEqualPlainFitOnTheMiniBatch() {
        for (Schedule s : new Schedule[] {Schedule.GPIPE, Schedule.ONE_F_ONE_B}) {
            MultiLayerNetwork plain = Nets.irisMlp(nadam(), DataType.DOUBLE, 7);
            MultiLayerNetwork piped = Nets.irisMlp(nadam(), DataType.DOUBLE, 7);
            DataSetIterator it = Iris.iterator(30, DataType.DOUBLE);
            plain.fit(it, 3);
            it.reset();
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).partition(1, 1, 1).schedule(s)
                    .microBatches(5).build()) {
                w.fit(it, 3);
            }
            assertArrayEquals(plain.params().toDoubleVector(), piped.params().toDoubleVector(), 1e-10, s.name());
            assertArrayEquals(plain.getUpdater().getStateViewArray().toDoubleVector(),
                    piped.getUpdater().getStateViewArray().toDoubleVector(), 1e-10, s + " state");
            assertEquals(plain.getIterationCount(), piped.getIterationCount());
            assertEquals(3, piped.getEpochCount());
        }
    }

    @Test
    void threadedAsyncIsBitIdenticalToSingleThreadedReplay() {
        for (boolean stash : new boolean[] {true, false}) {
            MultiLayerNetwork a = Nets.irisMlp(nadam(), DataType.FLOAT, 3);
            MultiLayerNetwork b = Nets.irisMlp(nadam(), DataType.FLOAT, 3);
            DataSetIterator it = Iris.iterator(10, DataType.FLOAT);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(a).partition(1, 1, 1).weightStashing(stash).build()) {
                w.fit(it, 2);
            }
            it.reset();
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(b).partition(1, 1, 1).weightStashing(stash)
                    .singleThreadedReplay(true).build()) {
                w.fit(it, 2);
            }
            assertArrayEquals(a.params().toDoubleVector(), b.params().toDoubleVector(), 0.0, "stash=" + stash);
            assertEquals(30, a.getIterationCount());
        }
    }

    @Test
    void extraInFlightPerCutIsBitIdenticalToItsReplayAndDiffersFromTheDefault() {
        double[] plain = null;
        for (int extra : new int[] {0, 2}) {
            MultiLayerNetwork a = Nets.irisMlp(nadam(), DataType.FLOAT, 3);
            MultiLayerNetwork b = Nets.irisMlp(nadam(), DataType.FLOAT, 3);
            DataSetIterator it = Iris.iterator(10, DataType.FLOAT);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(a).partition(1, 1, 1).extraInFlight(extra)
                    .build()) {
                w.fit(it, 2);
                // stage 0 of 3: τ_0 = (1 + e)(P - 1) updates between a forward and its backward
                assertEquals((1 + extra) * 2, w.metrics().stage(0).maxDelay(), "e=" + extra);
                assertEquals(1 + extra, w.metrics().stage(1).maxDelay(), "e=" + extra);
            }
            it.reset();
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(b).partition(1, 1, 1).extraInFlight(extra)
                    .singleThreadedReplay(true).build()) {
                w.fit(it, 2);
            }
            assertArrayEquals(a.params().toDoubleVector(), b.params().toDoubleVector(), 0.0, "e=" + extra);
            assertEquals(30, a.getIterationCount());
            if (extra == 0) {
                plain = a.params().toDoubleVector();
            } else {
                assertFalse(java.util.Arrays.equals(plain, a.params().toDoubleVector()),
                        "more delay, other numbers: the option must reach the stages");
            }
        }
    }
}
