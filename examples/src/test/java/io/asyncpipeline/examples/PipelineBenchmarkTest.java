package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.transformer.TransformerConfig;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine;

class PipelineBenchmarkTest {

    private static final TransformerConfig TINY = TransformerConfig.builder().vocabSize(11).contextLength(6).modelDim(16)
            .heads(2).layers(2).mlpDim(32).tiedOutputHead(false).dataType(DataType.FLOAT).build();

    private static PipelineBenchmark.Options options(String... args) {
        return CommandLine.populateCommand(new PipelineBenchmark(), args).options();
    }

    @Test
    void defaultsRunAllModelsWithPerModelSizes() {
        PipelineBenchmark.Options o = options();
        assertEquals(List.of("mlp", "cnn", "transformer"), o.models());
        assertEquals(3, o.rounds());
        assertEquals(4, o.hidden());
        assertTrue(o.stash());
        assertEquals(6144, o.examples(false));
        assertEquals(64, o.batch(false));
        assertEquals(256, o.examples(true));
        assertEquals(8, o.batch(true));
    }

    @Test
    void givenSizesApplyToEveryModel() {
        PipelineBenchmark.Options o = options("--models", "transformer, MLP,transformer",
            "--rounds", "1", "--examples", "256", "--batch", "16", "--stash", "false");
        assertEquals(List.of("transformer", "mlp"), o.models());
        assertEquals(1, o.rounds());
        assertFalse(o.stash());
        assertEquals(256, o.examples(true));
        assertEquals(256, o.examples(false));
        assertEquals(16, o.batch(true));
        assertEquals(16, o.batch(false));
    }

    @Test
    void rejectsUnknownModelsAndTooFewExamples() {
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                () -> options("--models", "mlp,transfomer"));
        assertTrue(e.getMessage().contains("transfomer") && e.getMessage().contains("transformer"), e.getMessage());
        // one GPIPE mini-batch (4 micro-batches) at least; the default sequence batch is 8
        assertThrows(CommandLine.ParameterException.class,
                () -> options("--models", "transformer", "--examples", "16"));
        options("--models", "transformer", "--examples", "32");
        assertThrows(CommandLine.ParameterException.class, () -> options("--rounds", "0"));
        assertThrows(CommandLine.ParameterException.class, () -> options("--stash", "yes"));
    }

    @Test
    void sequenceBatchesHoldNextTokenTargets() {
        INDArray ids = PipelineBenchmark.tokenIds(10, TINY, 3);
        assertEquals(ids, PipelineBenchmark.tokenIds(10, TINY, 3), "seeded");
        List<DataSet> batches = PipelineBenchmark.sequenceBatches(ids, 4, TINY);
        assertEquals(3, batches.size());
        assertArrayEquals(new long[] {4, 6}, batches.get(0).getFeatures().shape());
        assertArrayEquals(new long[] {4, 6, 11}, batches.get(0).getLabels().shape());
        assertArrayEquals(new long[] {2, 6, 11}, batches.get(2).getLabels().shape(), "smaller last batch");
        DataSet last = batches.get(2);
        for (int t = 0; t < 6; t++) {
            assertEquals(ids.getDouble(9, t), last.getFeatures().getDouble(1, t));
            int next = (int) ids.getDouble(9, t + 1);
            assertEquals(1.0, last.getLabels().getDouble(1, t, next));
            assertEquals(1.0, last.getLabels().get(org.nd4j.linalg.indexing.NDArrayIndex.point(1),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(t)).sumNumber().doubleValue());
        }
    }

    @Test
    void tinyTransformerRoundReportsPositiveThroughput() {
        INDArray ids = PipelineBenchmark.tokenIds(16, TINY, 5);
        List<DataSet> micro = PipelineBenchmark.sequenceBatches(ids, 2, TINY);
        List<DataSet> mini = PipelineBenchmark.sequenceBatches(ids, 2 * PipelineBenchmark.M, TINY);
        PipelineBenchmark.Case c = PipelineBenchmark.transformer(TINY, micro.get(0));
        assertTrue(c.name().contains("automatic cut after ["), c.name());
        PipelineBenchmark.Result r = PipelineBenchmark.measure(c, micro, mini, 1, true);
        for (double rate : new double[] {r.plain(), r.plainMini(), r.gpipe(), r.async()}) {
            assertTrue(rate > 0 && Double.isFinite(rate), "rate " + rate);
        }
        assertEquals(2, r.asyncMetrics().stages().size());
        assertEquals(16, r.asyncMetrics().examples());
        assertEquals(16, r.gpipeMetrics().examples());
        assertEquals(micro.size(), r.asyncMetrics().stage(0).updates(), "one update per micro-batch");
        assertEquals(mini.size(), r.gpipeMetrics().stage(1).updates(), "one update per mini-batch");
        assertTrue(r.asyncMetrics().stage(0).peakStashBytes() > 0, "weight stashing on");
        assertTrue(r.asyncMetrics().meanUtilisation() > 0);
    }
}
