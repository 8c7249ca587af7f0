package io.asyncpipeline.updater;

import static io.asyncpipeline.updater.UpdaterTestSupport.assertBitIdentical;
import static io.asyncpipeline.updater.UpdaterTestSupport.batchAt;
import static io.asyncpipeline.updater.UpdaterTestSupport.batches;
import static io.asyncpipeline.updater.UpdaterTestSupport.maxAbsDiff;
import static io.asyncpipeline.updater.UpdaterTestSupport.sameDiffMlp;
import static io.asyncpipeline.updater.UpdaterTestSupport.sameDiffParams;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.testdata.Nets;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * Both updater configs survive every DL4J/SameDiff serialization path, and training resumed from a saved model,
 * a clone or a loaded SameDiff graph continues exactly as if it had never stopped.
 */
class UpdaterSerializationTest {

    private static final long SEED = 12345;
    /** Iterations before the save, and after it. Both are not multiples of the 6 batches of an epoch. */
    private static final int N = 7;
    private static final int K = 8;
    private static final DataType[] TYPES = {DataType.DOUBLE, DataType.FLOAT};

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("nadam", DiscountedNadam.builder().learningRate(0.02).beta1(0.95).beta2(0.99)
                        .epsilon(1e-7).momentumDecay(0.01).build()),
                Arguments.of("nadam-expSchedule", DiscountedNadam.builder()
                        .learningRateSchedule(new ExponentialSchedule(ScheduleType.ITERATION, 0.02, 0.9))
                        .beta1(0.95).beta2(0.99).epsilon(1e-7).momentumDecay(0.01).build()),
                Arguments.of("nesterov", DelayCorrectedNesterov.builder().learningRate(0.05).momentum(0.9)
                        .discount(0.3).build()),
                Arguments.of("nesterov-theory-expSchedule", DelayCorrectedNesterov.builder().theoryMomentum()
                        .learningRateSchedule(new ExponentialSchedule(ScheduleType.ITERATION, 0.1, 0.95)).build()));
    }

    // ---------------------------------------------------------------- configuration round trips

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void multiLayerConfigurationJsonAndYamlRoundTrip(String name, IUpdater updater) {
        MultiLayerConfiguration conf = Nets.irisMlpConf(updater, DataType.FLOAT, SEED);
        String json = conf.toJson();
        assertTrue(json.contains(updater.getClass().getName()), "class name in JSON");
        MultiLayerConfiguration fromJson = MultiLayerConfiguration.fromJson(json);
        MultiLayerConfiguration fromYaml = MultiLayerConfiguration.fromYaml(conf.toYaml());
        for (MultiLayerConfiguration restored : List.of(fromJson, fromYaml)) {
            assertEquals(conf, restored);
            assertEquals(json, restored.toJson(), "re-serialises to the same JSON");
            assertEquals(3, restored.getConfs().size());
            for (int i = 0; i < 3; i++) {
                BaseLayer layer = (BaseLayer) restored.getConf(i).getLayer();
                assertRestoredUpdater(updater, layer, name + " layer " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void computationGraphConfigurationJsonAndYamlRoundTrip(String name, IUpdater updater) {
        ComputationGraphConfiguration conf = Nets.irisGraphConf(updater, DataType.DOUBLE, SEED);
        String json = conf.toJson();
        ComputationGraphConfiguration fromJson = ComputationGraphConfiguration.fromJson(json);
        ComputationGraphConfiguration fromYaml = ComputationGraphConfiguration.fromYaml(conf.toYaml());
        for (ComputationGraphConfiguration restored : List.of(fromJson, fromYaml)) {
            assertEquals(conf, restored);
            assertEquals(json, restored.toJson(), "re-serialises to the same JSON");
            for (String vertex : List.of("h1", "h2", "out")) {
                BaseLayer layer = (BaseLayer) ((LayerVertex) restored.getVertices().get(vertex)).getLayerConf().getLayer();
                assertRestoredUpdater(updater, layer, name + " vertex " + vertex);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void sameDiffTrainingConfigJsonRoundTrip(String name, IUpdater updater) {
        TrainingConfig tc = TrainingConfig.builder().updater(updater)
                .dataSetFeatureMapping("in").dataSetLabelMapping("label").build();
        TrainingConfig restored = TrainingConfig.fromJson(tc.toJson());
        assertSame(updater.getClass(), restored.getUpdater().getClass());
        assertNotSame(updater, restored.getUpdater());
        assertEquals(updater, restored.getUpdater());
        assertSameSchedule(updater, restored.getUpdater(), name);
        assertEquals(List.of("in"), restored.getDataSetFeatureMapping());
        assertEquals(List.of("label"), restored.getDataSetLabelMapping());
    }

    private static void assertRestoredUpdater(IUpdater expected, BaseLayer layer, String what) {
        for (IUpdater actual : new IUpdater[] {layer.getIUpdater(), layer.getUpdaterByParam("W"), layer.getUpdaterByParam("b")}) {
            assertSame(expected.getClass(), actual.getClass(), what);
            assertEquals(expected, actual, what);
            assertEquals(expected.hashCode(), actual.hashCode(), what);
            assertSameSchedule(expected, actual, what);
        }
    }

    /** The learning rate (and momentum, discount) the restored config yields at several steps, bit for bit. */
    private static void assertSameSchedule(IUpdater expected, IUpdater actual, String what) {
        for (int it : new int[] {0, 1, 2, 5, 17, 100}) {
            assertEquals(expected.getLearningRate(it, 0), actual.getLearningRate(it, 0), 0.0, what + " lr at " + it);
            if (expected instanceof DelayCorrectedNesterov e) {
                DelayCorrectedNesterov a = (DelayCorrectedNesterov) actual;
                assertEquals(e.momentumAt(it, 0), a.momentumAt(it, 0), 0.0, what + " momentum at " + it);
                assertEquals(e.discountAt(it, 0), a.discountAt(it, 0), 0.0, what + " discount at " + it);
            } else {
                DiscountedNadam e = (DiscountedNadam) expected;
                DiscountedNadam a = (DiscountedNadam) actual;
                assertEquals(e.mu(it + 1), a.mu(it + 1), 0.0, what + " mu at " + it);
            }
        }
    }

    // ---------------------------------------------------------------- resuming DL4J models

    /** The parts of a DL4J model this test trains and compares. */
    private interface Trainee {
        void fit(DataSet batch);

        INDArray params();

        INDArray updaterState();

        int iterations();
    }

    private static Trainee trainee(MultiLayerNetwork net) {
        return new Trainee() {
            public void fit(DataSet batch) {
                net.fit(batch);
            }

            public INDArray params() {
                return net.params();
            }

            public INDArray updaterState() {
                return net.getUpdater().getStateViewArray();
            }

            public int iterations() {
                return net.getIterationCount();
            }
        };
    }

    private static Trainee trainee(ComputationGraph graph) {
        return new Trainee() {
            public void fit(DataSet batch) {
                graph.fit(batch);
            }

            public INDArray params() {
                return graph.params();
            }

            public INDArray updaterState() {
                return graph.getUpdater().getStateViewArray();
            }

            public int iterations() {
                return graph.getIterationCount();
            }
        };
    }

    /** Fits {@code count} iterations, continuing the batch cycle at the model's own iteration count. */
    private static void train(Trainee t, List<DataSet> batches, int count) {
        for (int i = 0; i < count; i++) {
            t.fit(batchAt(batches, t.iterations()));
        }
    }

    /**
     * {@code resumed} (and {@code continued}) went N + K steps with a break after N; {@code reference} ran
     * N + K steps straight. All must agree bit for bit; {@code stateless} resumed with a fresh updater and
     * must not, which shows that the state was really used.
     */
    private static void assertResumedExactly(Trainee reference, Trainee continued, Trainee resumed, Trainee stateless,
                                             String what) {
        assertEquals(N + K, reference.iterations(), what);
        assertEquals(N + K, continued.iterations(), what);
        assertEquals(N + K, resumed.iterations(), what);
        assertBitIdentical(reference.params(), continued.params(), what + " continued params");
        assertBitIdentical(reference.updaterState(), continued.updaterState(), what + " continued updater state");
        assertBitIdentical(reference.params(), resumed.params(), what + " resumed params");
        assertBitIdentical(reference.updaterState(), resumed.updaterState(), what + " resumed updater state");
        if (stateless != null) {
            double diff = maxAbsDiff(reference.params(), stateless.params());
            assertTrue(diff > 1e-4, what + ": resuming without updater state should diverge, max |diff| = " + diff);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void multiLayerNetworkResumesExactlyAfterModelSerializer(String name, IUpdater updater, @TempDir Path dir)
            throws IOException {
        for (DataType type : TYPES) {
            String what = name + " " + type;
            List<DataSet> batches = batches(type);
            MultiLayerNetwork reference = Nets.irisMlp(updater.clone(), type, SEED);
            train(trainee(reference), batches, N + K);

            MultiLayerNetwork net = Nets.irisMlp(updater.clone(), type, SEED);
            train(trainee(net), batches, N);
            File file = dir.resolve(name + "-" + type + ".zip").toFile();
            ModelSerializer.writeModel(net, file, true);
            MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
            MultiLayerNetwork stateless = ModelSerializer.restoreMultiLayerNetwork(file, false);

            assertEquals(N, restored.getIterationCount(), what);
            assertEquals(type, restored.params().dataType(), what);
            assertEquals(type, restored.getUpdater().getStateViewArray().dataType(), what);
            assertEquals(updater, ((BaseLayer) restored.getLayer(1).conf().getLayer()).getIUpdater(), what);
            assertBitIdentical(net.params(), restored.params(), what + " params at save");
            assertBitIdentical(net.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray(),
                    what + " updater state at save");

            train(trainee(net), batches, K);
            train(trainee(restored), batches, K);
            train(trainee(stateless), batches, K);
            assertResumedExactly(trainee(reference), trainee(net), trainee(restored), trainee(stateless), what);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void computationGraphResumesExactlyAfterModelSerializer(String name, IUpdater updater, @TempDir Path dir)
            throws IOException {
        for (DataType type : TYPES) {
            String what = name + " " + type;
            List<DataSet> batches = batches(type);
            ComputationGraph reference = Nets.irisGraph(updater.clone(), type, SEED);
            train(trainee(reference), batches, N + K);

            ComputationGraph graph = Nets.irisGraph(updater.clone(), type, SEED);
            train(trainee(graph), batches, N);
            File file = dir.resolve(name + "-" + type + ".zip").toFile();
            ModelSerializer.writeModel(graph, file, true);
            ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
            ComputationGraph stateless = ModelSerializer.restoreComputationGraph(file, false);

            assertEquals(N, restored.getIterationCount(), what);
            assertEquals(type, restored.params().dataType(), what);
            assertEquals(updater, ((BaseLayer) restored.getLayer("h2").conf().getLayer()).getIUpdater(), what);
            assertBitIdentical(graph.params(), restored.params(), what + " params at save");
            assertBitIdentical(graph.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray(),
                    what + " updater state at save");

            train(trainee(graph), batches, K);
            train(trainee(restored), batches, K);
            train(trainee(stateless), batches, K);
            assertResumedExactly(trainee(reference), trainee(graph), trainee(restored), trainee(stateless), what);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void clonedNetworksContinueExactly(String name, IUpdater updater) {
        for (DataType type : TYPES) {
            String what = name + " " + type;
            List<DataSet> batches = batches(type);

            MultiLayerNetwork netRef = Nets.irisMlp(updater.clone(), type, SEED);
            train(trainee(netRef), batches, N + K);
            MultiLayerNetwork net = Nets.irisMlp(updater.clone(), type, SEED);
            train(trainee(net), batches, N);
            MultiLayerNetwork netClone = net.clone();
            assertEquals(N, netClone.getIterationCount(), what);
            assertBitIdentical(net.getUpdater().getStateViewArray(), netClone.getUpdater().getStateViewArray(), what);
            train(trainee(net), batches, K);
            train(trainee(netClone), batches, K);
            assertResumedExactly(trainee(netRef), trainee(net), trainee(netClone), null, what + " MLN clone");

            ComputationGraph graphRef = Nets.irisGraph(updater.clone(), type, SEED);
            train(trainee(graphRef), batches, N + K);
            ComputationGraph graph = Nets.irisGraph(updater.clone(), type, SEED);
            train(trainee(graph), batches, N);
            ComputationGraph graphClone = graph.clone();
            // DL4J 1.0.0-M2.1: ComputationGraphConfiguration.clone() does not copy the iteration/epoch counts, so a
            // cloned graph restarts at iteration 0 (MultiLayerConfiguration.clone() keeps them). Both updaters depend
            // on the iteration (bias correction, Π_t, schedules), so carry the counts over by hand.
            graphClone.getConfiguration().setIterationCount(graph.getIterationCount());
            graphClone.getConfiguration().setEpochCount(graph.getEpochCount());
            assertBitIdentical(graph.getUpdater().getStateViewArray(), graphClone.getUpdater().getStateViewArray(), what);
            train(trainee(graph), batches, K);
            train(trainee(graphClone), batches, K);
            assertResumedExactly(trainee(graphRef), trainee(graph), trainee(graphClone), null, what + " graph clone");
        }
    }

    // ---------------------------------------------------------------- SameDiff

    private static void trainSameDiff(SameDiff sd, List<DataSet> batches, int count) {
        for (int i = 0; i < count; i++) {
            sd.fit(batchAt(batches, sd.getTrainingConfig().getIterationCount()));
        }
    }

    /** SameDiff keeps its per-variable updaters private; read their state for the comparison. */
    @SuppressWarnings("unchecked")
    private static Map<String, double[]> sameDiffUpdaterState(SameDiff sd) {
        try {
            Field f = SameDiff.class.getDeclaredField("updaterMap");
            f.setAccessible(true);
            Map<String, GradientUpdater> map = (Map<String, GradientUpdater>) f.get(sd);
            Map<String, double[]> out = new TreeMap<>();
            for (Map.Entry<String, GradientUpdater> e : map.entrySet()) {
                Map<String, INDArray> state = e.getValue().getState();
                for (Map.Entry<String, INDArray> s : state.entrySet()) {
                    out.put(e.getKey() + "/" + s.getKey(), UpdaterTestSupport.values(s.getValue()));
                }
            }
            return out;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertSameState(Map<String, double[]> expected, Map<String, double[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        for (String key : expected.keySet()) {
            assertArrayEquals(expected.get(key), actual.get(key), 0.0, what + " " + key);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void sameDiffResumesExactlyAfterSaveAndLoadWithUpdaterState(String name, IUpdater updater, @TempDir Path dir) {
        for (DataType type : TYPES) {
            String what = name + " " + type;
            List<DataSet> batches = batches(type);
            SameDiff reference = sameDiffMlp(updater.clone(), type, 7);
            trainSameDiff(reference, batches, N + K);

            SameDiff sd = sameDiffMlp(updater.clone(), type, 7);
            trainSameDiff(sd, batches, N);
            File file = dir.resolve(name + "-" + type + ".sd").toFile();
            sd.save(file, true);
            SameDiff loaded = SameDiff.load(file, true);
            SameDiff stateless = SameDiff.load(file, false);

            assertEquals(N, loaded.getTrainingConfig().getIterationCount(), what);
            assertSame(updater.getClass(), loaded.getTrainingConfig().getUpdater().getClass(), what);
            assertEquals(updater, loaded.getTrainingConfig().getUpdater(), what);
            assertArrayEquals(sameDiffParams(sd), sameDiffParams(loaded), 0.0, what + " params at save");
            Map<String, double[]> savedState = sameDiffUpdaterState(sd);
            int perVariable = updater instanceof DiscountedNadam ? 2 : 1;
            assertEquals(UpdaterTestSupport.SD_VARIABLES.length * perVariable, savedState.size(), what);
            assertSameState(savedState, sameDiffUpdaterState(loaded), what + " updater state at save");

            trainSameDiff(sd, batches, K);
            trainSameDiff(loaded, batches, K);
            trainSameDiff(stateless, batches, K);
            assertEquals(N + K, loaded.getTrainingConfig().getIterationCount(), what);
            double[] expected = sameDiffParams(reference);
            assertArrayEquals(expected, sameDiffParams(sd), 0.0, what + " continued params");
            assertArrayEquals(expected, sameDiffParams(loaded), 0.0, what + " loaded params");
            assertSameState(sameDiffUpdaterState(reference), sameDiffUpdaterState(loaded), what + " loaded updater state");

            double[] fresh = sameDiffParams(stateless);
            double diff = 0;
            for (int i = 0; i < expected.length; i++) {
                diff = Math.max(diff, Math.abs(expected[i] - fresh[i]));
            }
            assertTrue(diff > 1e-4, what + ": loading without updater state should diverge, max |diff| = " + diff);
        }
    }
}
