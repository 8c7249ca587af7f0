package io.asyncpipeline.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.PipelineException;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The stages as tasks of a Spark barrier job on a real multi-process cluster started by the test
 * ({@code local-cluster}: a master and workers in this JVM, each executor its own JVM): the same bits as the
 * single-threaded replay, the trained state back in the driver's model, and an executor killed mid-fit.
 */
class SparkPipelineTrainerTest {

    private static JavaSparkContext sc;

    @BeforeAll
    static void cluster() {
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("dl4j-async-pipeline-test")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .set("spark.executor.extraJavaOptions", "-Dorg.bytedeco.javacpp.nopointergc=false")
                .set("spark.task.maxFailures", "1")
                .set("spark.ui.enabled", "false");
        sc = new JavaSparkContext(conf);
    }

    @AfterAll
    static void stop() {
        if (sc != null) {
            sc.stop();
        }
    }

    static MultiLayerNetwork net() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE)
                .updater(new Nadam(0.01)).list()
                .layer(new DenseLayer.Builder().nIn(6).nOut(12).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(12).nOut(12).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(12).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    /** 160 seeded examples in micro-batches of 8. */
    static ListDataSetIterator<DataSet> data() {
        Nd4j.getRandom().setSeed(9);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 160, 6);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 160, 3);
        for (int i = 0; i < 160; i++) {
            y.putScalar(i, (int) (x.getDouble(i, 0) * 3) % 3, 1.0);
        }
        return new ListDataSetIterator<>(new DataSet(x, y).asList(), 8);
    }

    static void assertSameState(MultiLayerNetwork expected, MultiLayerNetwork actual, String what) {
        assertArrayEquals(expected.params().toDoubleVector(), actual.params().toDoubleVector(), 0.0, what + ": params");
        assertArrayEquals(expected.getUpdater().getStateViewArray().toDoubleVector(),
                actual.getUpdater().getStateViewArray().toDoubleVector(), 0.0, what + ": optimizer state");
        assertEquals(expected.getIterationCount(), actual.getIterationCount(), what + ": iterations");
    }

    @Test
    void twoStageTasksTrainToTheReplaysBits() {
        MultiLayerNetwork replayed = net();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(replayed).partition(2, 1).seed(3)
                .singleThreadedReplay(true).build()) {
            w.fit(data(), 2);
        }
        MultiLayerNetwork onSpark = net();
        SparkPipelineTrainer.on(sc, 2).executorBind("127.0.0.1").fit(new AsyncPipelineWrapper.Builder(onSpark).partition(2, 1).seed(3), data(), 2);
        assertSameState(replayed, onSpark, "2 Spark tasks against the replay");
    }

    @Test
    void anRddOfMiniBatchesTrainsToTheBitsOfTheSameBatchesFromAnIterator() {
        List<DataSet> batches = new ArrayList<>();
        data().forEachRemaining(batches::add);
        MultiLayerNetwork replayed = net();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(replayed).partition(2, 1).seed(3)
                .singleThreadedReplay(true).build()) {
            w.fit(new ListDataSetIterator<>(batches, 1), 2);
        }
        MultiLayerNetwork fromRdd = net();
        SparkPipelineTrainer.on(sc, 2).executorBind("127.0.0.1").fit(
                new AsyncPipelineWrapper.Builder(fromRdd).partition(2, 1).seed(3), sc.parallelize(batches, 3), 2);
        assertSameState(replayed, fromRdd, "an RDD of 3 partitions, 2 epochs, against the replay");

        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> SparkPipelineTrainer.on(sc, 2)
                .fit(new AsyncPipelineWrapper.Builder(net()).partition(2, 1), sc.parallelize(new ArrayList<DataSet>(), 2), 1));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
    }

    @Test
    void anExecutorKilledMidFitFailsTheFitByStageAndACheckpointResumesToTheSameBits(@TempDir Path dir)
            throws Exception {
        MultiLayerNetwork straight = net();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(straight).partition(2, 1).seed(3)
                .singleThreadedReplay(true).build()) {
            w.fit(data(), 1);
            w.fit(data(), 1);
        }
        File checkpoint = dir.resolve("epoch1.zip").toFile();
        MultiLayerNetwork net = net();
        AtomicBoolean killed = new AtomicBoolean();
        List<Long> executors = new ArrayList<>();
        long[] killedAt = new long[1];
        long[] thrownAt = new long[1];
        PipelineException e = assertThrows(PipelineException.class, () -> SparkPipelineTrainer.on(sc, 2).executorBind("127.0.0.1").run(
                new AsyncPipelineWrapper.Builder(net).partition(2, 1).seed(3), w -> {
                    w.fit(data(), 1);
                    try {
                        w.saveCheckpoint(checkpoint);
                    } catch (java.io.IOException io) {
                        throw new java.io.UncheckedIOException(io);
                    }
                    executors.addAll(w.stageProcessIds());
                    net.setListeners(new BaseTrainingListener() {
                        @Override
                        public void iterationDone(Model model, int iteration, int epoch) {
                            if (iteration >= 25 && killed.compareAndSet(false, true)) {
                                ProcessHandle.of(executors.get(1)).ifPresent(ProcessHandle::destroyForcibly);
                                killedAt[0] = System.nanoTime();
                            }
                        }
                    });
                    try {
                        w.fit(data(), 1);
                    } catch (PipelineException failed) {
                        thrownAt[0] = System.nanoTime();
                        throw failed;
                    }
                }));
        long detected = thrownAt[0] - killedAt[0];
        assertTrue(killed.get(), "the executor was killed mid-fit");
        assertTrue(e.getMessage().contains("stage 1"), e.getMessage());
        assertTrue(detected < Duration.ofSeconds(10).toNanos(), "the fit failed " + detected / 1_000_000 + " ms after the kill");
        net.setListeners();

        MultiLayerNetwork resumed = ModelSerializer.restoreMultiLayerNetwork(checkpoint, true);
        SparkPipelineTrainer.on(sc, 2).executorBind("127.0.0.1").fit(new AsyncPipelineWrapper.Builder(resumed).partition(2, 1).seed(3), data(), 1);
        assertSameState(straight, resumed, "resumed from the epoch-1 checkpoint on new executors");
    }
}
