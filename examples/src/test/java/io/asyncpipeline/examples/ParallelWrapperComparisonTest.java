package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.examples.ParallelWrapperComparison.Run;
import io.asyncpipeline.examples.ParallelWrapperComparison.Variant;
import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.updater.DiscountedNadam;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class ParallelWrapperComparisonTest {

    @TempDir
    Path tmp;

    @Test
    void ordersArePermutationsFixedBySeedAndNewEachEpoch() {
        List<int[]> a = ParallelWrapperComparison.orders(50, 3, 5);
        List<int[]> b = ParallelWrapperComparison.orders(50, 3, 5);
        assertEquals(3, a.size());
        for (int e = 0; e < 3; e++) {
            assertArrayEquals(a.get(e), b.get(e), "same seed, same order");
            int[] sorted = a.get(e).clone();
            Arrays.sort(sorted);
            for (int i = 0; i < 50; i++) {
                assertEquals(i, sorted[i], "a permutation");
            }
        }
        assertFalse(Arrays.equals(a.get(0), a.get(1)), "a new order each epoch");
        assertFalse(Arrays.equals(a.get(0), ParallelWrapperComparison.orders(50, 1, 6).get(0)), "another seed");
    }

    @Test
    void batchesFollowTheOrder() {
        INDArray f = Nd4j.arange(10).reshape(5, 2).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        INDArray l = Nd4j.arange(5).reshape(5, 1).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        List<DataSet> batches = ParallelWrapperComparison.batches(new DataSet(f, l), new int[] {4, 0, 3, 1, 2}, 2);
        assertEquals(3, batches.size());
        assertEquals(2, batches.get(0).numExamples());
        assertEquals(1, batches.get(2).numExamples(), "the last batch is smaller");
        assertEquals(8.0, batches.get(0).getFeatures().getDouble(0, 0));
        assertEquals(4.0, batches.get(0).getLabels().getDouble(0, 0));
        assertEquals(0.0, batches.get(0).getLabels().getDouble(1, 0));
        assertEquals(3.0, batches.get(1).getLabels().getDouble(0, 0));
        assertEquals(5.0, batches.get(2).getFeatures().getDouble(0, 1));
    }

    /**
     * Every variant on a tiny MLP and 256 Fashion-MNIST images, 1 epoch, 1 round: a rate above 0, an accuracy in [0, 1],
     * no failure, parameters moved from the initial network (so ParallelWrapper trained in every mode), and the initial
     * network itself untouched (each variant trained its own copy).
     */
    @Test
    void everyVariantTrainsACopyOnTinyData() {
        FashionMnist data = new FashionMnist();
        Assumptions.assumeTrue(data.isAvailable(), "Fashion-MNIST is not installed");
        DataSet train = data.load(FashionMnist.Split.TRAIN, 256, FashionMnist.Layout.FLAT);
        DataSet test = data.load(FashionMnist.Split.TEST, 200, FashionMnist.Layout.FLAT);
        MultiLayerNetwork initial = Models.mlp(DiscountedNadam.builder().learningRate(1e-3).build(), 2, 32, 3);
        INDArray before = initial.params().dup();
        ParallelWrapperComparison.Result r = ParallelWrapperComparison.compare(new ParallelWrapperComparison.Setup(
                initial, new int[] {2, 1}, train, 1, 16, test, true), 1, Progress.none());
        assertEquals(1, r.rounds().size());
        assertEquals(256, r.examplesPerEpoch());
        assertEquals(200, r.testExamples());
        Run[] runs = r.rounds().get(0);
        assertEquals(Variant.values().length, runs.length);
        for (Variant v : Variant.values()) {
            Run run = runs[v.ordinal()];
            assertEquals(v, run.variant());
            assertNull(run.error(), v + " failed: " + run.error());
            assertTrue(run.rate() > 0 && Double.isFinite(run.rate()), v + " rate " + run.rate());
            assertTrue(run.accuracy() >= 0 && run.accuracy() <= 1, v + " accuracy " + run.accuracy());
            assertTrue(run.paramChange() > 0 && Double.isFinite(run.paramChange()), v + " did not train: change "
                    + run.paramChange());
            assertEquals(run.rate(), r.rate(v), "one round: the median is the round");
        }
        assertEquals(before, initial.params(), "the variants trained copies, not the initial network");
    }

    /** The CLI with --compare-parallel-wrapper: the Markdown table on stdout, six comparison rows in the CSV, the plot. */
    @Test
    void cliPrintsTheTableAndWritesTheRows() throws IOException {
        Assumptions.assumeTrue(new FashionMnist().isAvailable(), "Fashion-MNIST is not installed");
        Path dir = tmp.resolve("out");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        CliTest.Run run;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            run = CliTest.run(new PipelineBenchmark(), "--models", "mlp", "--examples", "256", "--batch", "16",
                    "--rounds", "1", "--hidden", "1", "--compare-parallel-wrapper", "--epochs", "1", "--test", "100",
                    "--out", dir.toString());
        } finally {
            System.setOut(saved);
        }
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, run.code(), run.err());
        assertTrue(stdout.contains("| variant | batch | examples/s | ratio to plain `fit` | test accuracy |"), stdout);
        for (Variant v : Variant.values()) {
            assertTrue(stdout.matches("(?s).*\\n\\| " + java.util.regex.Pattern.quote(v.label)
                    + " \\| \\d+( per worker)? \\| \\d+\\.\\d \\| \\d+\\.\\d\\d \\| [01]\\.\\d{4} \\|\\n.*"), v + ":\n" + stdout);
        }
        List<String> lines = Files.readAllLines(dir.resolve(PipelineBenchmark.CSV));
        List<String> header = Arrays.asList(lines.get(0).split(","));
        int variant = header.indexOf("variant");
        int rate = header.indexOf("examples_per_s");
        int accuracy = header.indexOf("test_accuracy");
        int table = header.indexOf("table");
        List<String[]> rows = lines.stream().skip(1).map(l -> l.replaceFirst("^mlp,\"[^\"]*\",", "mlp,d,").split(",", -1))
                .filter(f -> f[table].equals(PipelineBenchmark.TABLE_PARALLEL_WRAPPER)).toList();
        assertEquals(Arrays.stream(Variant.values()).map(v -> v.csv).toList(), rows.stream().map(f -> f[variant]).toList());
        for (String[] f : rows) {
            assertTrue(Double.parseDouble(f[rate]) > 0, String.join(",", f));
            double a = Double.parseDouble(f[accuracy]);
            assertTrue(a >= 0 && a <= 1, String.join(",", f));
        }
        ResultFilesTest.assertPng(dir.resolve(PipelineBenchmark.PLOT_PARALLEL_WRAPPER + "mlp.png"));
    }
}
