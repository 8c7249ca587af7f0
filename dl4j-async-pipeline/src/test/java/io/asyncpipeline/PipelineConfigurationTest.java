package io.asyncpipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Bad configuration fails at build() or fit with a message that names the problem and what to change. */
class PipelineConfigurationTest {

    private static final Duration HANG_LIMIT = Duration.ofSeconds(60);

    private static MultiLayerNetwork mlp() {
        return Nets.irisMlp(new Adam(0.01), DataType.DOUBLE, 1); // 3 layers
    }

    /** Asserts the exception type and that the message contains every fragment. */
    private static <T extends Throwable> T fails(Class<T> type, Executable call, String... fragments) {
        T e = assertTimeoutPreemptively(HANG_LIMIT, () -> assertThrows(type, call));
        for (String f : fragments) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(f),
                    "message should contain '" + f + "': " + e.getMessage());
        }
        return e;
    }

    private static void assertNoStageThreads() {
        assertEquals(List.of(), PipelineFailureTest.liveStageThreads());
    }

    // ---------------------------------------------------------------- build()

    @Test
    void moreStagesThanLayers() {
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).stages(5).build(),
                "5 stages", "3 layers", "at most 3 stages");
    }

    @Test
    void partitionNotSummingToTheLayerCount() {
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).partition(1, 1).build(),
                "[1, 1]", "sums to 2", "3 layers", "add up to 3");
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).partition(2, 2).build(),
                "sums to 4", "add up to 3");
    }

    @Test
    void partitionWithAnEmptyStage() {
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).partition(2, 0, 1).build(),
                "stage 1", "0 layers", "at least one");
    }

    @Test
    void stagesDisagreeingWithPartition() {
        fails(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(mlp()).stages(2).partition(1, 1, 1).build(),
                "stages(2)", "[1, 1, 1]", "set only one");
    }

    @Test
    void zeroOrNegativeStagesAndMicroBatches() {
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).stages(0).build(),
                "stages must be >= 1", "0");
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).microBatches(0).build(),
                "microBatches must be >= 1", "0");
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).microBatches(-3)
                .schedule(Schedule.GPIPE).build(), "microBatches must be >= 1", "-3");
    }

    @Test
    void extraInFlightOutOfRangeOrWithASynchronousSchedule() {
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).extraInFlight(-1).build(),
                "extraInFlight must be 0..64", "-1");
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).extraInFlight(65).build(),
                "extraInFlight", "65");
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).schedule(Schedule.GPIPE)
                .extraInFlight(1).build(), "extraInFlight(1) needs the ASYNC_1F1B schedule", "GPIPE");
    }

    @Test
    void nullSchedule() {
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(mlp()).schedule(null).build(),
                "schedule", "ASYNC_1F1B");
    }

    @Test
    void devicesOfTheWrongCountOrThatDoNotExist() {
        fails(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(mlp()).partition(1, 1, 1).devices(0).build(),
                "1 devices for 3 stages", "one device per stage");
        fails(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(mlp()).partition(1, 1, 1).devices(0, 0, 7).build(),
                "device 7 does not exist", "numbered from 0");
        fails(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(mlp()).partition(1, 1, 1).devices(0, -1, 0).build(),
                "device -1 does not exist");
    }

    @Test
    void networkNotInitialised() {
        MultiLayerNetwork net = new MultiLayerNetwork(Nets.irisMlpConf(new Adam(0.01), DataType.DOUBLE, 1));
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(net).stages(2).build(),
                "not initialised", "net.init()");
        fails(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder((MultiLayerNetwork) null), "net is null");
    }

    private static MultiLayerNetwork batchNormNet() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(1).dataType(DataType.DOUBLE).updater(new Adam(0.01))
                .list()
                .layer(new DenseLayer.Builder().nIn(Iris.FEATURES).nOut(8).activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().name("bn").nOut(8).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(Iris.CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    @ParameterizedTest
    @EnumSource(value = Schedule.class, names = {"GPIPE", "ONE_F_ONE_B"})
    void batchNormalizationWithSynchronousMicroBatches(Schedule schedule) {
        fails(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(batchNormNet()).partition(1, 1, 1).schedule(schedule)
                        .microBatches(4).build(),
                "bn", "BatchNormalization", "microBatches(4)", "microBatches(1)", "ASYNC_1F1B");
        // the alternatives the message proposes are accepted
        assertDoesNotThrow(() -> new AsyncPipelineWrapper.Builder(batchNormNet()).partition(1, 1, 1).schedule(schedule)
                .microBatches(1).build());
        assertDoesNotThrow(() -> new AsyncPipelineWrapper.Builder(batchNormNet()).partition(1, 1, 1)
                .schedule(Schedule.ASYNC_1F1B).microBatches(4).build());
    }

    @Test
    void stageUpdaterForAStageThatDoesNotExist() {
        fails(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(mlp()).partition(1, 1, 1).stageUpdater(3, new Adam(0.1)).build(),
                "stageUpdater(3", "stages are 0..2");
    }

    // ---------------------------------------------------------------- fit(...)

    /** 94 Iris rows in batches of 32, 32, 30. */
    private static List<DataSet> rows(int n) {
        return new ArrayList<>(Iris.all(DataType.DOUBLE).asList().subList(0, n));
    }

    @Test
    void microBatchesNotDividingALaterBatchFailsAfterDrainingWithCompletedBatchesKept() {
        MultiLayerNetwork plain = mlp();
        MultiLayerNetwork piped = mlp();
        plain.fit(new ListDataSetIterator<>(rows(64), 32)); // the two complete batches

        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).partition(1, 1, 1).schedule(Schedule.GPIPE)
                .microBatches(4).build();
        fails(IllegalArgumentException.class, () -> w.fit(new ListDataSetIterator<>(rows(94), 32)),
                "microBatches(4) does not divide the batch of 30", "multiple of 4");

        assertNoStageThreads();
        assertEquals(2, piped.getIterationCount());
        assertArrayEquals(plain.params().toDoubleVector(), piped.params().toDoubleVector(), 1e-10);
        assertArrayEquals(plain.getUpdater().getStateViewArray().toDoubleVector(),
                piped.getUpdater().getStateViewArray().toDoubleVector(), 1e-10, "optimizer state");
    }

    @Test
    void microBatchesNotDividingTheFirstBatchChangesNothing() {
        MultiLayerNetwork net = mlp();
        INDArray before = net.params().dup();
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).schedule(Schedule.ONE_F_ONE_B)
                .microBatches(4).build();
        fails(IllegalArgumentException.class, () -> w.fit(Iris.iterator(30, DataType.DOUBLE)),
                "microBatches(4) does not divide the batch of 30");
        assertEquals(0, net.getIterationCount());
        assertArrayEquals(before.toDoubleVector(), net.params().toDoubleVector(), 0.0);
        assertNoStageThreads();
    }

    @Test
    void emptyIterator() {
        MultiLayerNetwork net = mlp();
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).build();
        fails(IllegalArgumentException.class, () -> w.fit(new ListDataSetIterator<>(new ArrayList<DataSet>(), 10)),
                "iterator is empty");
        assertEquals(0, net.getIterationCount());
        assertNoStageThreads();
    }

    @Test
    void exhaustedIteratorIsResetFirst() {
        MultiLayerNetwork net = mlp();
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).build();
        DataSetIterator it = Iris.iterator(50, DataType.DOUBLE);
        while (it.hasNext()) {
            it.next();
        }
        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(it));
        assertEquals(3, net.getIterationCount());
    }

    private static DataSetIterator oneBatch(int featureColumns, int labelColumns) {
        INDArray f = Nd4j.rand(DataType.DOUBLE, 10, featureColumns);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 10, labelColumns);
        for (int i = 0; i < 10; i++) {
            y.putScalar(i, i % labelColumns, 1.0);
        }
        return new ListDataSetIterator<>(new DataSet(f, y).asList(), 10);
    }

    private void assertBadBatchChangesNothing(Supplier<DataSetIterator> data, String... fragments) {
        for (Schedule s : Schedule.values()) {
            MultiLayerNetwork net = mlp();
            INDArray before = net.params().dup();
            AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).schedule(s)
                    .microBatches(2).build();
            fails(IllegalArgumentException.class, () -> w.fit(data.get()), fragments);
            assertArrayEquals(before.toDoubleVector(), net.params().toDoubleVector(), 0.0, s.name());
            assertEquals(0, net.getIterationCount(), s.name());
            assertNoStageThreads();
        }
    }

    @Test
    void labelsThatDoNotFitTheOutputLayer() {
        assertBadBatchChangesNothing(() -> oneBatch(Iris.FEATURES, 5),
                "labels have 5 columns", "nOut=3", "number of classes");
    }

    @Test
    void featuresWithTheWrongNumberOfColumns() {
        assertBadBatchChangesNothing(() -> oneBatch(7, Iris.CLASSES),
                "features have 7 columns", "nIn=4", "input size");
    }

    @Test
    void featuresAndLabelsWithDifferentExampleCounts() {
        assertBadBatchChangesNothing(() -> new ListDataSetIterator<>(List.of(new DataSet(
                        Nd4j.rand(DataType.DOUBLE, 10, Iris.FEATURES), Nd4j.zeros(DataType.DOUBLE, 8, Iris.CLASSES))), 1),
                "features have 10 examples but labels have 8");
    }

    @Test
    void badEpochsAndNullIterator() {
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(mlp()).partition(1, 1, 1).build();
        fails(IllegalArgumentException.class, () -> w.fit(Iris.iterator(10, DataType.DOUBLE), 0), "epochs must be >= 1");
        fails(IllegalArgumentException.class, () -> w.fit((org.nd4j.linalg.dataset.api.iterator.DataSetIterator) null), "iterator is null");
    }

    @Test
    void fitAfterClose() {
        MultiLayerNetwork net = mlp();
        AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).build();
        assertTimeoutPreemptively(HANG_LIMIT, () -> w.fit(Iris.iterator(50, DataType.DOUBLE)));
        w.close();
        fails(IllegalStateException.class, () -> w.fit(Iris.iterator(50, DataType.DOUBLE)), "closed", "build a new one");
        assertEquals(3, net.getIterationCount());
    }
}
