package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.examples.data.EuroparlText;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine;

class TransformerComparisonTest {

    private static final String[] TINY = {"--steps", "4", "--stages", "2", "--batch", "4", "--context", "8", "--dim", "16",
        "--heads", "2", "--micro", "2", "--warmup", "1", "--eval-every", "2", "--val-windows", "8"};

    private static TransformerComparison.Options options(String... args) {
        return CommandLine.populateCommand(new TransformerComparison(), args).options();
    }

    @Test
    void gpipeEqualsUnsplitFitAndAsyncDiffers() {
        TransformerComparison.Options o = options(TINY);
        EuroparlText text = EuroparlText.load(0.1);
        List<DataSet> val = text.validationBatches(o.batch(), o.context(), o.valWindows(), DataType.FLOAT);
        TransformerComparison.Curve single = TransformerComparison.run("single", o, o.model(), text, val);
        TransformerComparison.Curve gpipe = TransformerComparison.run("gpipe", o, o.model(), text, val);
        TransformerComparison.Curve stash = TransformerComparison.run("stash", o, o.model(), text, val);
        assertEquals(List.of(2, 4), single.steps());
        for (int i = 0; i < 2; i++) {
            assertEquals(single.loss().get(i), gpipe.loss().get(i), 1e-5, "GPipe must equal sd.fit at chunk " + i);
        }
        assertNotEquals(single.last(), stash.last(), "asynchronous updates use stale gradients");
        assertTrue(single.last() < Math.log(EuroparlText.VOCAB_SIZE) + 0.5, "loss " + single.last());
        String table = TransformerComparison.table(List.of(single, gpipe, stash), o);
        assertTrue(table.contains("| gpipe |") && table.contains("| stash |"), table);
    }

    @Test
    void badOptionsAreNamed() {
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--variants", "gpipe,foo")).getMessage().contains("foo"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--batch", "10", "--micro", "4")).getMessage()
                .contains("--micro"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--stepz", "3")).getMessage().contains("--stepz"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--steps", "0")).getMessage().contains("--steps"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--lr", "abc")).getMessage().contains("--lr"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--stages", "3", "--layers", "8")).getMessage()
                .contains("--layers"));
    }

    @Test
    void blocksAreSpreadEvenlyOverTheStages() {
        assertArrayEquals(new String[] {"block1_out", "block3_out", "block5_out"},
                options("--stages", "4", "--layers", "8").cuts());
        TransformerComparison.Options eight = options();
        assertEquals(8, eight.layers());
        assertEquals(7, eight.cuts().length);
        assertEquals("block6_out", eight.cuts()[6]);
    }

    @TempDir
    Path tmp;

    /** Made-up curves: one CSV row per measurement with the data seen and the time; two PNG plots. */
    @Test
    void resultFilesFromCurves() throws IOException {
        TransformerComparison.Options o = options("--steps", "400", "--eval-every", "200", "--batch", "16",
                "--micro", "4", "--context", "64");
        List<TransformerComparison.Curve> curves = List.of(
                new TransformerComparison.Curve("gpipe", List.of(200, 400), List.of(2.527, 2.395), List.of(150.5, 301.0)),
                new TransformerComparison.Curve("stash", List.of(200, 400), List.of(3.029, 2.877), List.of(55.25, 110.0)));
        Path csv = tmp.resolve(TransformerComparison.CSV);
        TransformerComparison.writeCsv(csv, curves, o);
        assertEquals(List.of(
                "variant,step,micro_batches,examples,characters,train_seconds,val_loss",
                "gpipe,200,800,3200,204800,150.5,2.527",
                "gpipe,400,1600,6400,409600,301.0,2.395",
                "stash,200,200,3200,204800,55.25,3.029",
                "stash,400,400,6400,409600,110.0,2.877"), Files.readAllLines(csv));
        TransformerComparison.writePlots(tmp, curves, o);
        ResultFilesTest.assertPng(tmp.resolve(TransformerComparison.PLOT_EXAMPLES));
        ResultFilesTest.assertPng(tmp.resolve(TransformerComparison.PLOT_TIME));
    }

    /**
     * A tiny run with --out: the files appear, the JSON holds the options, the CSV one row per measurement and
     * variant; progress lines go to standard error, and standard output keeps its table.
     */
    @Test
    void tinyRunWithOutWritesFilesAndProgressGoesToStderr() throws IOException {
        Path dir = tmp.resolve("out");
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(TINY),
                java.util.stream.Stream.of("--variants", "single,stash", "--out", dir.toString())).toArray(String[]::new);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        String savedMode = System.getProperty(Progress.PROPERTY);
        int code;
        try {
            System.setProperty(Progress.PROPERTY, "lines");
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Cli.execute(new TransformerComparison(), args);
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
            if (savedMode == null) {
                System.clearProperty(Progress.PROPERTY);
            } else {
                System.setProperty(Progress.PROPERTY, savedMode);
            }
        }
        String stdout = out.toString(StandardCharsets.UTF_8);
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, stderr);
        assertTrue(stdout.contains("| single | ") && stdout.contains("| stash | "), stdout);
        assertTrue(stdout.contains("results written to "), stdout);
        assertTrue(!stdout.contains("4/4 steps"), "no progress on stdout:\n" + stdout);
        List<String> rows = Files.readAllLines(dir.resolve(TransformerComparison.CSV));
        assertEquals(5, rows.size(), rows.toString());
        // single counts steps with a SameDiff listener, stash the batches its first stage reads; both show the
        // validation loss measured after step 2
        for (String v : new String[] {"single", "stash"}) {
            String loss = rows.get(v.equals("single") ? 1 : 3).replaceAll(".*,", "");
            String shown = String.format(java.util.Locale.ROOT, "%.4f", Double.parseDouble(loss));
            assertTrue(stderr.matches("(?s).*\\n" + v + ": 4/4 steps \\(100%\\), val loss " + shown
                    + ", [0-9.]+ examples/s, elapsed \\d+:\\d\\d, ETA 0:00\\n.*"), v + " " + shown + "\n" + stderr);
        }
        assertTrue(rows.get(1).startsWith("single,2,2,8,64,"), rows.get(1));
        assertTrue(rows.get(4).startsWith("stash,4,4,16,128,"), rows.get(4));
        JsonNode json = new ObjectMapper().readTree(dir.resolve(TransformerComparison.JSON).toFile());
        assertEquals(4, json.get("options").get("steps").asInt());
        assertEquals(16, json.get("options").get("dim").asInt());
        assertEquals("single", json.get("options").get("variants").get(0).asText());
        assertEquals(2, json.get("resolved").get("layers").asInt());
        ResultFilesTest.assertPng(dir.resolve(TransformerComparison.PLOT_EXAMPLES));
        ResultFilesTest.assertPng(dir.resolve(TransformerComparison.PLOT_TIME));
    }
}
