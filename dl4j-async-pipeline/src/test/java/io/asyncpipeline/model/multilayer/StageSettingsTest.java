package io.asyncpipeline.model.multilayer;

import io.asyncpipeline.Schedule;
import io.asyncpipeline.AsyncPipelineWrapper;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.model.multilayer.MultiLayerPipelineModel;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.DiscountedNadam;
import io.asyncpipeline.updater.PipeMareSchedule;
import io.asyncpipeline.updater.StageUpdaters;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/** Per-stage updater settings (method.md §5), stage updaters, and listener calls. */
class StageSettingsTest {

    private static IUpdater stageUpdater(AsyncPipelineWrapper w, int stage) {
        MultiLayerNetwork sub = ((MultiLayerPipelineModel) w.pipelineModel()).stageNetworks().get(stage);
        return ((BaseLayer) sub.getLayer(0).conf().getLayer()).getIUpdater();
    }

    @Test
    void delayAwareMomentumFollowsTheFormula() {
        MultiLayerNetwork net = Nets.irisMlp(DelayCorrectedNesterov.builder().learningRate(0.05).momentum(0.5).build(),
                DataType.FLOAT, 1);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).weightStashing(false)
                .delayAwareMomentum(0.9).build()) {
            for (int k = 0; k < 3; k++) {
                double expected = 0.9 + (2 - k) * (0.99 - 0.9) / 3;
                assertEquals(expected, ((DelayCorrectedNesterov) stageUpdater(w, k)).getMomentum(), 1e-15, "stage " + k);
            }
            w.fit(Iris.iterator(25, DataType.FLOAT));
        }
        assertEquals(0.5, ((DelayCorrectedNesterov) ((BaseLayer) net.getLayer(0).conf().getLayer()).getIUpdater())
                .getMomentum(), 0.0, "the user's network keeps its own configuration");
        assertEquals(0.96, StageUpdaters.delayAwareMomentum(0.9, 2, 3), 1e-15);
        // with one extra micro-batch in flight per cut τ_k = 2(2 - k), and the span is τ_0 + 1 = 5 instead of P = 3
        MultiLayerNetwork deeper = Nets.irisMlp(DelayCorrectedNesterov.builder().learningRate(0.05).momentum(0.5).build(),
                DataType.FLOAT, 1);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(deeper).partition(1, 1, 1).weightStashing(false)
                .extraInFlight(1).delayAwareMomentum(0.9).build()) {
            for (int k = 0; k < 3; k++) {
                double expected = 0.9 + 2 * (2 - k) * (0.99 - 0.9) / 5;
                assertEquals(expected, ((DelayCorrectedNesterov) stageUpdater(w, k)).getMomentum(), 1e-15, "stage " + k);
            }
        }
        assertEquals(0.95, ((DiscountedNadam) StageUpdaters.withMomentum(DiscountedNadam.builder().build(), 0.95)).getBeta1());
        assertEquals(0.8, ((Adam) StageUpdaters.withMomentum(new Adam(1e-3), 0.8)).getBeta1());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StageUpdaters.withMomentum(new Sgd(0.1), 0.9));
        assertTrue(e.getMessage().contains("Sgd"), e.getMessage());
    }

    @Test
    void pipeMareDividesTheRateByTauToTheAnnealedPower() {
        PipeMareSchedule s = new PipeMareSchedule(0.1, null, 4, 100);
        assertEquals(0.1 / 4, s.valueAt(0, 0), 1e-15);
        assertEquals(0.1 / Math.pow(4, 0.5), s.valueAt(50, 0), 1e-15);
        assertEquals(0.1, s.valueAt(100, 0), 1e-15);
        assertEquals(0.1, s.valueAt(500, 0), 1e-15);
        assertEquals(0.1, new PipeMareSchedule(0.1, null, 1, 100).valueAt(0, 0), 0.0);
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.FLOAT, 1);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).pipeMareLearningRate(10)
                .build()) {
            assertEquals(0.01 / 2, stageUpdater(w, 0).getLearningRate(0, 0), 1e-12);
            assertEquals(0.01, stageUpdater(w, 1).getLearningRate(0, 0), 1e-12);
            assertEquals(0.01, stageUpdater(w, 0).getLearningRate(10, 0), 1e-12);
            w.fit(Iris.iterator(25, DataType.FLOAT));
        }
        assertTrue(Double.isFinite(net.score()));
    }

    @Test
    void stageUpdaterReplacesTheUpdaterOfOneStage() {
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.FLOAT, 1);
        IUpdater sgd = new Sgd(0.05);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(2, 1).stageUpdater(1, sgd).build()) {
            assertTrue(stageUpdater(w, 0) instanceof Adam);
            assertTrue(stageUpdater(w, 1) instanceof Sgd);
            w.fit(Iris.iterator(25, DataType.FLOAT));
        }
    }

    @Test
    void listenersAreCalledOncePerMicroBatchAsyncAndOncePerMiniBatchSync() {
        for (Schedule s : Schedule.values()) {
            MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.FLOAT, 1);
            List<Integer> iterations = new ArrayList<>();
            List<Double> scores = new ArrayList<>();
            int[] epochs = new int[2];
            net.setListeners(new BaseTrainingListener() {
                @Override
                public void iterationDone(Model model, int iteration, int epoch) {
                    iterations.add(iteration);
                    scores.add(model.score());
                }

                @Override
                public void onEpochStart(Model model) {
                    epochs[0]++;
                }

                @Override
                public void onEpochEnd(Model model) {
                    epochs[1]++;
                }
            });
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(2, 1).schedule(s)
                    .microBatches(5).build()) {
                w.fit(Iris.iterator(25, DataType.FLOAT), 2);
            }
            assertEquals(12, iterations.size(), s + ": 6 batches x 2 epochs");
            for (int i = 0; i < iterations.size(); i++) {
                assertEquals(i, iterations.get(i), s + " iteration order");
                assertTrue(scores.get(i) > 0 && Double.isFinite(scores.get(i)), s + " score " + scores.get(i));
            }
            assertEquals(2, epochs[0]);
            assertEquals(2, epochs[1]);
        }
    }
}
