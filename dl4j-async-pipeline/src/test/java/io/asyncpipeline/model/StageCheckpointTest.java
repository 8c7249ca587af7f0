package io.asyncpipeline.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.model.samediff.SameDiffPipelineTest;
import io.asyncpipeline.testdata.Graphs;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DiscountedNadam;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Per-stage checkpoints (one file per stage plus a manifest): saved after some epochs, restored into a freshly built
 * model, training continues to the same bits as never stopping; a damaged, missing or foreign checkpoint is refused
 * by name and changes nothing.
 */
class StageCheckpointTest {

    private static IUpdater nadam() {
        return DiscountedNadam.builder().learningRate(0.01).build();
    }

    private static AsyncPipelineWrapper mlp(MultiLayerNetwork net) {
        return new AsyncPipelineWrapper.Builder(net).partition(1, 2).schedule(Schedule.ASYNC_1F1B)
                .weightStashing(true).singleThreadedReplay(true).build();
    }

    @Test
    void multiLayerNetworkResumedFromStageFilesEqualsNeverStopping(@TempDir Path dir) throws IOException {
        MultiLayerNetwork straight = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        try (AsyncPipelineWrapper w = mlp(straight)) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 3);
        }
        MultiLayerNetwork first = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        try (AsyncPipelineWrapper w = mlp(first)) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
            w.saveStageCheckpoint(dir);
            w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
            w.saveStageCheckpoint(dir);                      // a second generation replaces the first
        }
        assertEquals(List.of("manifest.json", "stage-0-g2.bin", "stage-1-g2.bin"), listing(dir),
                "the first generation's files are gone");
        MultiLayerNetwork resumed = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        try (AsyncPipelineWrapper w = mlp(resumed)) {
            w.restoreStageCheckpoint(dir);
            assertEquals(first.getIterationCount(), resumed.getIterationCount());
            assertEquals(2, resumed.getEpochCount());
            w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
        }
        assertArrayEquals(straight.params().toDoubleVector(), resumed.params().toDoubleVector(), 0.0, "params");
        assertArrayEquals(straight.getUpdater().getStateViewArray().toDoubleVector(),
                resumed.getUpdater().getStateViewArray().toDoubleVector(), 0.0, "optimizer state");
        assertEquals(straight.getIterationCount(), resumed.getIterationCount());
        assertEquals(straight.getEpochCount(), resumed.getEpochCount());
    }

    @Test
    void computationGraphWithSeveralTensorsAcrossACutResumesToTheSameBits(@TempDir Path dir) throws IOException {
        List<MultiDataSet> data = Graphs.multiData(8, 6, DataType.FLOAT, 2);
        ComputationGraph straight = Graphs.multiInOut(nadam(), DataType.FLOAT, 4);
        try (AsyncPipelineWrapper w = graph(straight)) {
            w.fit(Graphs.iterator(data), 2);
        }
        ComputationGraph first = Graphs.multiInOut(nadam(), DataType.FLOAT, 4);
        try (AsyncPipelineWrapper w = graph(first)) {
            w.fit(Graphs.iterator(data), 1);
            w.saveStageCheckpoint(dir);
        }
        ComputationGraph resumed = Graphs.multiInOut(nadam(), DataType.FLOAT, 4);
        try (AsyncPipelineWrapper w = graph(resumed)) {
            w.restoreStageCheckpoint(dir);
            w.fit(Graphs.iterator(data), 1);
        }
        assertArrayEquals(straight.params().toDoubleVector(), resumed.params().toDoubleVector(), 0.0, "params");
        assertArrayEquals(straight.getUpdater().getStateViewArray().toDoubleVector(),
                resumed.getUpdater().getStateViewArray().toDoubleVector(), 0.0, "optimizer state");
        assertEquals(straight.getIterationCount(), resumed.getIterationCount());
    }

    private static AsyncPipelineWrapper graph(ComputationGraph g) {
        return new AsyncPipelineWrapper.Builder(g).cutAfter("dA", "merge").singleThreadedReplay(true).build();
    }

    @Test
    void sameDiffTransformerResumesToTheSameBits(@TempDir Path dir) throws IOException {
        TransformerConfig c = TransformerConfig.builder().vocabSize(9).contextLength(5).modelDim(8).heads(2).layers(3)
                .mlpDim(12).tiedOutputHead(false).seed(21).dataType(DataType.DOUBLE).build();
        List<DataSet> data = SameDiffPipelineTest.batches(4, 4, 13);
        SameDiff straight = adam(c);
        try (AsyncPipelineWrapper w = transformer(straight, c)) {
            w.fit(new ListDataSetIterator<>(data, 1), 2);
        }
        SameDiff first = adam(c);
        try (AsyncPipelineWrapper w = transformer(first, c)) {
            w.fit(new ListDataSetIterator<>(data, 1), 1);
            w.saveStageCheckpoint(dir);
        }
        SameDiff resumed = adam(c);
        try (AsyncPipelineWrapper w = transformer(resumed, c)) {
            w.restoreStageCheckpoint(dir);
            w.fit(new ListDataSetIterator<>(data, 1), 1);
        }
        assertEquals(straight.getTrainingConfig().getIterationCount(), resumed.getTrainingConfig().getIterationCount());
        for (SDVariable v : straight.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                assertArrayEquals(v.getArr().data().asDouble(), resumed.getVariable(v.name()).getArr().data().asDouble(),
                        0.0, v.name());
            }
        }
    }

    private static SameDiff adam(TransformerConfig c) {
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(new Adam(1e-2)));
        return sd;
    }

    private static AsyncPipelineWrapper transformer(SameDiff sd, TransformerConfig c) {
        return new AsyncPipelineWrapper.Builder(sd).cutAfter(DecoderTransformer.blockCuts(c))
                .schedule(Schedule.ASYNC_1F1B).weightStashing(true).singleThreadedReplay(true).build();
    }

    @Test
    void aDamagedMissingOrForeignCheckpointIsRefusedByNameAndChangesNothing(@TempDir Path dir) throws IOException {
        MultiLayerNetwork trained = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        try (AsyncPipelineWrapper w = mlp(trained)) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
            w.saveStageCheckpoint(dir);
        }
        MultiLayerNetwork fresh = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        double[] before = fresh.params().toDoubleVector();
        try (AsyncPipelineWrapper w = mlp(fresh)) {
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                    () -> w.restoreStageCheckpoint(dir.resolve("elsewhere")));
            assertTrue(none.getMessage().contains("manifest.json is missing"), none.getMessage());

            Path stage1 = dir.resolve("stage-1-g1.bin");
            byte[] bytes = Files.readAllBytes(stage1);
            byte[] flipped = bytes.clone();
            flipped[flipped.length - 3] ^= 0x10;
            Files.write(stage1, flipped);
            IllegalArgumentException damaged = assertThrows(IllegalArgumentException.class,
                    () -> w.restoreStageCheckpoint(dir));
            assertTrue(damaged.getMessage().contains("stage 1") && damaged.getMessage().contains("damaged"),
                    damaged.getMessage());
            assertArrayEquals(before, fresh.params().toDoubleVector(), 0.0, "stage 0 was valid, yet nothing changed");
            assertEquals(0, fresh.getIterationCount());
            Files.write(stage1, bytes);
        }
        try (AsyncPipelineWrapper other = new AsyncPipelineWrapper.Builder(fresh).partition(2, 1)
                .singleThreadedReplay(true).build()) {
            IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class,
                    () -> other.restoreStageCheckpoint(dir));
            assertTrue(foreign.getMessage().contains("[1, 2]") && foreign.getMessage().contains("[2, 1]"),
                    foreign.getMessage());
        }
        MultiLayerNetwork inFloat = Nets.irisMlp(nadam(), DataType.FLOAT, 9);
        try (AsyncPipelineWrapper w = mlp(inFloat)) {
            IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
                    () -> w.restoreStageCheckpoint(dir));
            assertTrue(type.getMessage().contains("DOUBLE") && type.getMessage().contains("FLOAT"), type.getMessage());
        }
        try (AsyncPipelineWrapper w = mlp(fresh)) {
            w.restoreStageCheckpoint(dir);                  // the repaired file restores
        }
        assertArrayEquals(trained.params().toDoubleVector(), fresh.params().toDoubleVector(), 0.0);
    }

    @Test
    void aCrashBeforeTheManifestWasReplacedLeavesThePreviousCheckpoint(@TempDir Path dir) throws IOException {
        MultiLayerNetwork net = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        double[] atSave;
        try (AsyncPipelineWrapper w = mlp(net)) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
            w.saveStageCheckpoint(dir);
            atSave = net.params().toDoubleVector();
            w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
        }
        // what a save interrupted between its stage files and its manifest leaves: a newer generation's files
        Files.write(dir.resolve("stage-0-g2.bin"), new byte[] {1, 2, 3});
        Files.write(dir.resolve(".manifest.json123.tmp"), new byte[] {'{'});
        MultiLayerNetwork fresh = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        try (AsyncPipelineWrapper w = mlp(fresh)) {
            w.restoreStageCheckpoint(dir);
        }
        assertArrayEquals(atSave, fresh.params().toDoubleVector(), 0.0, "the previous checkpoint, whole");
        assertFalse(net.params().toDoubleVector()[0] == atSave[0] && net.params().toDoubleVector()[1] == atSave[1],
                "the test can tell the two states apart");
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
