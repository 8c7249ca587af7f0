package io.asyncpipeline.model.samediff;

import io.asyncpipeline.AsyncPipelineWrapper;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.model.samediff.SameDiffPipelineModel;
import io.asyncpipeline.model.samediff.SameDiffStage;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.transformer.DecoderTransformer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/** stageUpdater, delayAwareMomentum and pipeMareLearningRate on SameDiff stages (method.md §5). */
class SameDiffStageSettingsTest {

    private static final List<DataSet> DATA = SameDiffPipelineTest.batches(5, 2, 23);

    /** The graph's updater: Adam with β1 = 0.5, so a stage's own β1 is easy to tell apart. */
    private static Adam graphAdam() {
        return new Adam(1e-2, 0.5, 0.999, 1e-8);
    }

    private static INDArray state(GradientUpdater<?> u, String key) {
        return u.getState().get(key);
    }

    private static SameDiffStage stage(AsyncPipelineWrapper w, int k) {
        return (SameDiffStage) w.pipelineModel().stages().get(k);
    }

    private static AsyncPipelineWrapper.Builder async(SameDiff sd) {
        return SameDiffAsyncStashingTest.stashing(sd).weightStashing(false);
    }

    private static Map<String, INDArray> fit(Function<AsyncPipelineWrapper.Builder, AsyncPipelineWrapper.Builder> options) {
        SameDiff sd = SameDiffAsyncStashingTest.graph(graphAdam());
        try (AsyncPipelineWrapper w = options.apply(async(sd)).build()) {
            w.fit(new ListDataSetIterator<>(DATA, 1));
        }
        return SameDiffAsyncStashingTest.variables(sd);
    }

    private static double difference(Map<String, INDArray> a, Map<String, INDArray> b) {
        double d = 0;
        for (Map.Entry<String, INDArray> e : a.entrySet()) {
            d = Math.max(d, e.getValue().sub(b.get(e.getKey())).norm2Number().doubleValue());
        }
        return d;
    }

    @Test
    void delayAwareMomentumSetsEachStagesBeta1AndChangesTraining() {
        SameDiff sd = SameDiffAsyncStashingTest.graph(graphAdam());
        try (AsyncPipelineWrapper w = async(sd).delayAwareMomentum(0.9).build()) {
            for (int k = 0; k < 3; k++) {
                double expected = 0.9 + (2 - k) * (0.99 - 0.9) / 3;
                assertEquals(expected, ((Adam) stage(w, k).updaterConfig()).getBeta1(), 1e-15, "stage " + k);
                for (GradientUpdater<?> u : stage(w, k).updaters().values()) {
                    assertEquals(expected, ((Adam) u.getConfig()).getBeta1(), 1e-15, "stage " + k);
                }
            }
            w.fit(new ListDataSetIterator<>(DATA, 1));
            for (int k = 0; k < 3; k++) {
                for (Map.Entry<String, GradientUpdater> e : stage(w, k).updaters().entrySet()) {
                    GradientUpdater<?> own = sd.getUpdaterMap().get(e.getKey());
                    assertNotSame(e.getValue(), own, "the graph's updater keeps the graph's config");
                    assertEquals(0.5, ((Adam) own.getConfig()).getBeta1(), 0.0);
                    assertArrayEquals(state(e.getValue(), "M").data().asDouble(),
                            state(own, "M").data().asDouble(), 0.0, "state written back: " + e.getKey());
                }
            }
        }
        assertEquals(0.5, ((Adam) sd.getTrainingConfig().getUpdater()).getBeta1(), 0.0, "the user's config is unchanged");
        double d = difference(fit(b -> b), SameDiffAsyncStashingTest.variables(sd));
        assertTrue(d > 1e-6, "delay-aware momentum changed the weights by " + d);
    }

    @Test
    void pipeMareAndStageUpdaterChangeTheStagesUpdaters() {
        SameDiff sd = SameDiffAsyncStashingTest.graph(graphAdam());
        try (AsyncPipelineWrapper w = async(sd).pipeMareLearningRate(10).stageUpdater(1, new Sgd(0.05)).build()) {
            assertEquals(1e-2 / 2, stage(w, 0).updaterConfig().getLearningRate(0, 0), 1e-15);
            assertEquals(1e-2, stage(w, 0).updaterConfig().getLearningRate(10, 0), 1e-15);
            assertTrue(stage(w, 1).updaterConfig() instanceof Sgd);
            assertEquals(0.05, stage(w, 1).updaterConfig().getLearningRate(0, 0), 1e-15, "τ = 1: no correction");
            assertEquals(1e-2, stage(w, 2).updaterConfig().getLearningRate(0, 0), 1e-15);
            assertTrue(stage(w, 2).updaterConfig() instanceof Adam);
        }
        double d = difference(fit(b -> b), fit(b -> b.pipeMareLearningRate(10)));
        assertTrue(d > 1e-6, "PipeMare changed the weights by " + d);
    }

    /** Optimizer state moves between the graph and a stage of another config only when the layouts match. */
    @Test
    void graphStateIsCopiedIntoStagesOfTheSameUpdaterTypeOnly() {
        SameDiff sd = SameDiffAsyncStashingTest.graph(graphAdam());
        DecoderTransformer.prepareForFit(sd);
        sd.fit(DATA.get(0));
        Map<String, double[]> before = new HashMap<>();
        sd.getUpdaterMap().forEach((k, u) -> before.put(k, state(u, "M").data().asDouble()));
        try (AsyncPipelineWrapper w = async(sd).delayAwareMomentum(0.8).stageUpdater(1, new Adam(1e-2))
                .stageUpdater(2, new org.nd4j.linalg.learning.config.Nesterovs(0.01, 0.9)).build()) {
            SameDiffPipelineModel model = (SameDiffPipelineModel) w.pipelineModel();
            model.pullOptimizerState();
            for (int k = 0; k < 2; k++) {           // Adam with another β1: the graph's state, in the stage's own updater
                for (Map.Entry<String, GradientUpdater> e : stage(w, k).updaters().entrySet()) {
                    assertNotSame(sd.getUpdaterMap().get(e.getKey()), e.getValue());
                    assertArrayEquals(before.get(e.getKey()), state(e.getValue(), "M").data().asDouble(), 0.0);
                }
            }
            for (GradientUpdater<?> u : stage(w, 2).updaters().values()) {   // Nesterovs: fresh
                assertEquals(0.0, state(u, "V").norm2Number().doubleValue(), 0.0);
            }
            w.fit(new ListDataSetIterator<>(DATA.subList(1, DATA.size()), 1));
        }
        for (String v : sd.getUpdaterMap().keySet()) {
            double[] after = state(sd.getUpdaterMap().get(v), "M").data().asDouble();
            boolean lastStage = SameDiffAsyncStashingTest.stageOf(v) == 2;
            boolean same = java.util.Arrays.equals(before.get(v), after);
            assertEquals(lastStage, same, v + ": Nesterovs stage leaves the graph's Adam state unchanged; Adam stages write back");
        }
    }

    private static String sameDiffError(Function<AsyncPipelineWrapper.Builder, AsyncPipelineWrapper.Builder> options,
                                        IUpdater u) {
        SameDiff sd = SameDiffAsyncStashingTest.graph(u);
        return assertThrows(IllegalArgumentException.class, () -> options.apply(async(sd)).build()).getMessage();
    }

    private static String multiLayerError(Function<AsyncPipelineWrapper.Builder, AsyncPipelineWrapper.Builder> options,
                                          IUpdater u) {
        AsyncPipelineWrapper.Builder b = new AsyncPipelineWrapper.Builder(Nets.irisMlp(u, DataType.DOUBLE, 1))
                .partition(1, 1, 1).weightStashing(false);
        return assertThrows(IllegalArgumentException.class, () -> options.apply(b).build()).getMessage();
    }

    @Test
    void badValuesFailAtBuildWithTheMultiLayerNetworkMessages() {
        List<Function<AsyncPipelineWrapper.Builder, AsyncPipelineWrapper.Builder>> bad = List.of(
                b -> b.stageUpdater(3, new Adam(0.1)),
                b -> b.stageUpdater(-1, new Adam(0.1)),
                b -> b.delayAwareMomentum(0.99),
                b -> b.delayAwareMomentum(-0.1),
                b -> b.pipeMareLearningRate(0));
        for (Function<AsyncPipelineWrapper.Builder, AsyncPipelineWrapper.Builder> o : bad) {
            assertEquals(multiLayerError(o, new Adam(1e-2)), sameDiffError(o, new Adam(1e-2)));
        }
        String m = sameDiffError(b -> b.delayAwareMomentum(0.9), new Sgd(0.1));
        assertEquals(multiLayerError(b -> b.delayAwareMomentum(0.9), new Sgd(0.1)), m);
        assertTrue(m.contains("momentum term") && m.contains("Sgd"), m);
        assertTrue(sameDiffError(b -> b.stageUpdater(3, new Adam(0.1)), new Adam(1e-2)).contains("stages are 0..2"));
    }
}
