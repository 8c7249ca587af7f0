package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.transformer.TransformerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
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
    void parallelWrapperComparisonOptions() {
        PipelineBenchmark.Options off = options();
        assertFalse(off.compare());
        assertFalse(off.compares("mlp"));
        assertEquals(2, off.epochs());
        assertEquals(5000, off.test());
        PipelineBenchmark.Options on = options("--models", "transformer,cnn", "--compare-parallel-wrapper", "--epochs", "3",
                "--test", "10000");
        assertTrue(on.compares("cnn"));
        assertFalse(on.compares("transformer"), "the transformer keeps the throughput table only");
        assertEquals(3, on.epochs());
        assertEquals(10000, on.test());
    }

    /** The comparison needs an MLP or a CNN; its options need the comparison; counts in range. Usage errors name the option. */
    @Test
    void parallelWrapperComparisonUsageErrors() {
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                () -> options("--models", "transformer", "--compare-parallel-wrapper"));
        assertTrue(e.getMessage().contains("--compare-parallel-wrapper") && e.getMessage().contains("mlp"), e.getMessage());
        e = assertThrows(CommandLine.ParameterException.class, () -> options("--epochs", "3"));
        assertTrue(e.getMessage().contains("--epochs") && e.getMessage().contains("--compare-parallel-wrapper"),
                e.getMessage());
        e = assertThrows(CommandLine.ParameterException.class, () -> options("--test", "100"));
        assertTrue(e.getMessage().contains("--test"), e.getMessage());
        e = assertThrows(CommandLine.ParameterException.class,
                () -> options("--models", "mlp", "--compare-parallel-wrapper", "--epochs", "0"));
        assertTrue(e.getMessage().contains("--epochs"), e.getMessage());
        e = assertThrows(CommandLine.ParameterException.class,
                () -> options("--models", "mlp", "--compare-parallel-wrapper", "--test", "10001"));
        assertTrue(e.getMessage().contains("--test") && e.getMessage().contains("10000"), e.getMessage());
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

    @TempDir
    Path tmp;

    /** Two stages busy for the given fractions of one second. */
    private static PipelineMetrics metrics(double busy0, double busy1) {
        StageMetrics s0 = new StageMetrics(0);
        s0.addForward((long) (busy0 * 1e9));
        StageMetrics s1 = new StageMetrics(1);
        s1.addForward((long) (busy1 * 1e9));
        return new PipelineMetrics(List.of(s0, s1), 1_000_000_000L, 256, 4);
    }

    /** Made-up rounds: one CSV row per round and timed fit, ratios within the round, quoted description; PNGs. */
    @Test
    void resultFilesFromMadeUpRounds() throws IOException {
        PipelineMetrics gpipe = metrics(0.75, 0.5);
        PipelineMetrics async = metrics(0.875, 0.625);
        List<PipelineBenchmark.Round> rounds = List.of(
                new PipelineBenchmark.Round(100, 200, 150, 250, gpipe, async),
                new PipelineBenchmark.Round(80, 160, 120, 200, gpipe, async));
        PipelineBenchmark.Result r = new PipelineBenchmark.Result(90, 180, 135, 225, gpipe, async, rounds);
        PipelineBenchmark.Measured m = new PipelineBenchmark.Measured("mlp", "MLP 784-1024x4-10, partition [2, 3]", 64,
                256, r);
        PipelineBenchmark.Measured t = new PipelineBenchmark.Measured("transformer", "Transformer \"tiny\"", 8, 32,
                new PipelineBenchmark.Result(9, 18, 13.5, 22.5, gpipe, async, rounds.subList(0, 1)));
        PipelineBenchmark.writeResults(tmp, List.of(m, t));
        List<String> lines = Files.readAllLines(tmp.resolve(PipelineBenchmark.CSV));
        String d = "mlp,\"MLP 784-1024x4-10, partition [2, 3]\",";
        String tp = ",throughput,1,,,";
        assertEquals(List.of(
                "model,description,variant,batch,round,examples,examples_per_s,ratio_to_plain_fit,ratio_to_plain_fit_mini,"
                        + "utilisation_stage_0,utilisation_stage_1,mean_utilisation,table,epochs,test_accuracy,param_change,error",
                d + "plain,64,1,256,100.0,1.0,0.5,,," + tp,
                d + "plain-mini,256,1,256,200.0,2.0,1.0,,," + tp,
                d + "GPIPE,256,1,256,150.0,1.5,0.75,0.75,0.5,0.625" + tp,
                d + "ASYNC_1F1B,64,1,256,250.0,2.5,1.25,0.875,0.625,0.75" + tp,
                d + "plain,64,2,256,80.0,1.0,0.5,,," + tp,
                d + "plain-mini,256,2,256,160.0,2.0,1.0,,," + tp,
                d + "GPIPE,256,2,256,120.0,1.5,0.75,0.75,0.5,0.625" + tp,
                d + "ASYNC_1F1B,64,2,256,200.0,2.5,1.25,0.875,0.625,0.75" + tp,
                "transformer,\"Transformer \"\"tiny\"\"\",plain,8,1,32,100.0,1.0,0.5,,," + tp), lines.subList(0, 10));
        assertEquals(13, lines.size());
        ResultFilesTest.assertPng(tmp.resolve(PipelineBenchmark.PLOT_THROUGHPUT));
        ResultFilesTest.assertPng(tmp.resolve(PipelineBenchmark.PLOT_UTILISATION));
        assertFalse(Files.exists(tmp.resolve(PipelineBenchmark.PLOT_PARALLEL_WRAPPER + "mlp.png")), "no comparison, no plot");
    }

    /**
     * Made-up ParallelWrapper comparison: after the throughput rows, one row per round and variant with the ratio to
     * the same round's plain fit, the epochs, accuracy, parameter change; a failed variant has its message and empty
     * numbers. The plot of the model is written.
     */
    @Test
    void comparisonRowsFromMadeUpRuns() throws IOException {
        PipelineMetrics gpipe = metrics(0.75, 0.5);
        PipelineMetrics async = metrics(0.875, 0.625);
        PipelineBenchmark.Result r = new PipelineBenchmark.Result(100, 200, 150, 250, gpipe, async,
                List.of(new PipelineBenchmark.Round(100, 200, 150, 250, gpipe, async)));
        ParallelWrapperComparison.Variant[] v = ParallelWrapperComparison.Variant.values();
        ParallelWrapperComparison.Run[] round = new ParallelWrapperComparison.Run[v.length];
        for (ParallelWrapperComparison.Variant x : v) {
            round[x.ordinal()] = new ParallelWrapperComparison.Run(x, 100.0 * (x.ordinal() + 1), 0.5 + x.ordinal() / 16.0,
                    0.25, null);
        }
        round[ParallelWrapperComparison.Variant.PW_SHARED_GRADIENTS.ordinal()] = new ParallelWrapperComparison.Run(
                ParallelWrapperComparison.Variant.PW_SHARED_GRADIENTS, Double.NaN, Double.NaN, Double.NaN,
                "IllegalStateException: made up, with a comma");
        List<ParallelWrapperComparison.Run[]> rounds = new java.util.ArrayList<>();
        rounds.add(round);
        ParallelWrapperComparison.Result c = new ParallelWrapperComparison.Result(2, 256, 64, 100, rounds);
        PipelineBenchmark.writeResults(tmp, List.of(new PipelineBenchmark.Measured("mlp", "MLP", 64, 256, r, c)));
        List<String> lines = Files.readAllLines(tmp.resolve(PipelineBenchmark.CSV));
        assertEquals(1 + 4 + v.length, lines.size(), lines.toString());
        String p = "mlp,MLP,";
        assertEquals(List.of(
                p + "plain,64,1,256,100.0,1.0,,,,,parallel-wrapper,2,0.5,0.25,",
                p + "ParallelWrapper-avg1,64,1,256,200.0,2.0,,,,,parallel-wrapper,2,0.5625,0.25,",
                p + "ParallelWrapper-avg5,64,1,256,300.0,3.0,,,,,parallel-wrapper,2,0.625,0.25,",
                p + "GPIPE,256,1,256,400.0,4.0,,,,,parallel-wrapper,2,0.6875,0.25,",
                p + "ASYNC_1F1B,64,1,256,500.0,5.0,,,,,parallel-wrapper,2,0.75,0.25,",
                p + "ParallelWrapper-shared,64,1,256,,,,,,,parallel-wrapper,2,,,\"IllegalStateException: made up, with a comma\""),
                lines.subList(5, lines.size()));
        assertEquals(300.0, c.rate(ParallelWrapperComparison.Variant.PW_AVERAGING_5));
        assertTrue(Double.isNaN(c.rate(ParallelWrapperComparison.Variant.PW_SHARED_GRADIENTS)), "failed in every round");
        assertEquals("IllegalStateException: made up, with a comma",
                c.error(ParallelWrapperComparison.Variant.PW_SHARED_GRADIENTS));
        ResultFilesTest.assertPng(tmp.resolve(PipelineBenchmark.PLOT_PARALLEL_WRAPPER + "mlp.png"));
    }

    /** A small MLP run with --out (needs Fashion-MNIST): JSON with the options, four rows, PNGs, stdout as before. */
    @Test
    void smallMlpRunWithOut() throws IOException {
        Assumptions.assumeTrue(new FashionMnist().isAvailable(), "Fashion-MNIST is not installed");
        Path dir = tmp.resolve("bench");
        CliTest.Run run = CliTest.run(new PipelineBenchmark(), "--models", "mlp", "--examples", "256", "--batch", "16",
                "--rounds", "1", "--hidden", "1", "--out", dir.toString());
        assertEquals(0, run.code(), run.err());
        List<String> lines = Files.readAllLines(dir.resolve(PipelineBenchmark.CSV));
        assertEquals(5, lines.size(), lines.toString());
        assertTrue(lines.get(4).startsWith("mlp,\"MLP 784-1024x1-10, partition ["), lines.get(4));
        assertTrue(lines.get(4).contains(",ASYNC_1F1B,16,1,256,"), lines.get(4));
        JsonNode json = new ObjectMapper().readTree(dir.resolve(PipelineBenchmark.JSON).toFile());
        assertEquals("PipelineBenchmark", json.get("command").asText());
        assertEquals("mlp", json.get("options").get("models").get(0).asText());
        assertEquals(256, json.get("options").get("examples").asInt());
        assertEquals(1, json.get("options").get("hidden").asInt());
        assertTrue(json.get("options").get("stash").asBoolean());
        assertEquals(16, json.get("resolved").get("mlp").get("batch").asInt());
        ResultFilesTest.assertPng(dir.resolve(PipelineBenchmark.PLOT_THROUGHPUT));
        ResultFilesTest.assertPng(dir.resolve(PipelineBenchmark.PLOT_UTILISATION));
        for (String schedule : List.of("gpipe", "async")) {
            JsonNode trace = new ObjectMapper().readTree(dir.resolve(PipelineBenchmark.traceFile("mlp", schedule)).toFile());
            long forwards = 0;
            for (JsonNode e : trace.get("traceEvents")) {
                if ("forward".equals(e.path("cat").asText())) {
                    forwards++;
                }
            }
            // 256 examples in micro-batches of 16 on 2 stages: 16 forwards per stage (GPIPE: 4 mini-batches x M 4)
            assertEquals(2 * 16, forwards, schedule + ": one forward span per micro-batch per stage");
        }
    }
}
