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
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine;

class TransformerComparisonTest {

    /** The equal-updates protocol, 4 steps of 4 windows. */
    private static final String[] TINY = {"--protocol", "updates", "--steps", "4", "--stages", "2", "--batch", "4",
        "--context", "8", "--dim", "16", "--heads", "2", "--micro", "2", "--warmup", "1", "--eval-every", "2",
        "--val-windows", "8"};

    /** The paper's protocol: 8 micro-batches of 2 windows; GPipe makes 4 updates of 2 micro-batches. */
    private static final String[] TINY_DATA = {"--micro-batches", "8", "--stages", "2", "--batch", "2", "--context", "8",
        "--dim", "16", "--heads", "2", "--micro", "2", "--warmup", "2", "--eval-every", "4", "--val-windows", "8"};

    private static TransformerComparison.Options options(String... args) {
        return CommandLine.populateCommand(new TransformerComparison(), args).options();
    }

    @Test
    void gpipeEqualsUnsplitFitAndAsyncDiffers() {
        TransformerComparison.Options o = options(TINY);
        EuroparlText text = EuroparlText.load(0.1);
        List<DataSet> val = text.validationBatches(o.batch(), o.context(), o.valWindows(), DataType.FLOAT);
        TransformerComparison.Curve single = ComparisonTraining.run("single", o, text, val);
        TransformerComparison.Curve gpipe = ComparisonTraining.run("gpipe-nadam", o, text, val);
        TransformerComparison.Curve stash = ComparisonTraining.run("stash", o, text, val);
        assertEquals(List.of(2, 4), single.units());
        for (int i = 0; i < 2; i++) {
            assertEquals(single.loss().get(i), gpipe.loss().get(i), 1e-5, "GPipe must equal sd.fit at chunk " + i);
        }
        assertNotEquals(single.last(), stash.last(), "asynchronous updates use stale gradients");
        assertTrue(single.last() < Math.log(EuroparlText.VOCAB_SIZE) + 0.5, "loss " + single.last());
        String table = ComparisonOutput.table(List.of(single, gpipe, stash), o);
        assertTrue(table.contains("| gpipe-nadam |") && table.contains("| stash |"), table);
        assertTrue(table.contains("protocol updates, not the paper's"), table);
    }

    /**
     * The paper's protocol read in the code: GPipe (AdamW, clipped) makes one update per M micro-batches of the same
     * stream the asynchronous variants update on after every micro-batch, and it equals sd.fit on the M-micro-batch
     * mini-batches with the same optimiser when nothing is clipped.
     */
    @Test
    void dataProtocolGpipeUpdatesOncePerMMicroBatchesAndEqualsFitOnThem() {
        TransformerComparison.Options o = options(java.util.stream.Stream.concat(java.util.Arrays.stream(TINY_DATA),
                java.util.stream.Stream.of("--clip", "1000", "--variants", "gpipe-adamw,stash")).toArray(String[]::new));
        ComparisonVariant gpipe = ComparisonVariant.named("gpipe-adamw");
        ComparisonVariant stash = ComparisonVariant.named("stash");
        assertEquals(4, o.updates(gpipe, 8));
        assertEquals(8, o.updates(stash, 8));
        assertEquals(200.0 / 4, o.psi(ComparisonVariant.named("gpipe-nadam")), 1e-12, "ψ scaled to its updates");
        assertEquals(200.0 / 8, o.psi(stash), 1e-12);
        assertEquals(0.004, o.psi(ComparisonVariant.named("stash-fixed-psi")), 0);
        assertTrue(ComparisonTraining.updater(gpipe, o) instanceof org.nd4j.linalg.learning.config.Adam);
        assertTrue(ComparisonTraining.updater(stash, o) instanceof io.asyncpipeline.updater.DiscountedNadam n
                && n.getBeta1() == 0.99);
        EuroparlText text = EuroparlText.load(0.1);
        List<DataSet> val = text.validationBatches(o.batch(), o.context(), o.valWindows(), DataType.FLOAT);
        // the same windows: GPipe's first mini-batch is the first two micro-batches stacked
        List<DataSet> micro = ComparisonTraining.batches(stash, o, text, 0, 4);
        List<DataSet> mini = ComparisonTraining.batches(gpipe, o, text, 0, 4);
        assertEquals(4, micro.size());
        assertEquals(2, mini.size());
        assertEquals(org.nd4j.linalg.factory.Nd4j.concat(0, micro.get(2).getFeatures(), micro.get(3).getFeatures()),
                mini.get(1).getFeatures());

        TransformerComparison.Curve piped = ComparisonTraining.run(gpipe, o, text, val, c -> { });
        assertEquals(List.of(4, 8), piped.units());
        assertTrue(piped.deviceTotal() > 0, "simulated device time");
        SameDiff sd = io.asyncpipeline.transformer.DecoderTransformer.build(o.model());
        sd.setTrainingConfig(io.asyncpipeline.transformer.DecoderTransformer.trainingConfig(
                ComparisonTraining.updater(gpipe, o),
                new org.nd4j.linalg.learning.regularization.WeightDecay(0.01, true)));
        io.asyncpipeline.transformer.DecoderTransformer.prepareForFit(sd);
        double[] losses = new double[2];
        for (int chunk = 0; chunk < 2; chunk++) {
            for (DataSet d : ComparisonTraining.batches(gpipe, o, text, chunk * 4, 4)) {
                sd.fit(d);
            }
            losses[chunk] = ComparisonTraining.validationLoss(sd, val);
        }
        assertEquals(4, sd.getTrainingConfig().getIterationCount(), "4 updates of 2 micro-batches");
        for (int i = 0; i < 2; i++) {
            assertEquals(losses[i], piped.loss().get(i), 1e-5, "GPipe equals sd.fit on its mini-batches at " + i);
        }
    }

    /** The asynchronous variants of the data protocol train to the same bits threaded and replayed. */
    @Test
    void dataProtocolThreadedEqualsReplay() {
        EuroparlText text = EuroparlText.load(0.1);
        double[] last = new double[2];
        for (int i = 0; i < 2; i++) {
            String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(TINY_DATA),
                    java.util.stream.Stream.of("--replay", i == 0 ? "yes" : "no")).toArray(String[]::new);
            TransformerComparison.Options o = options(args);
            List<DataSet> val = text.validationBatches(o.batch(), o.context(), o.valWindows(), DataType.FLOAT);
            last[i] = ComparisonTraining.run("nesterov", o, text, val).last();
        }
        assertEquals(last[0], last[1], 0.0, "threaded equals replay");
    }

    @Test
    void badOptionsAreNamed() {
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--variants", "stash,foo")).getMessage().contains("foo"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--protocol", "updates", "--batch", "10", "--micro", "4")).getMessage()
                .contains("--micro"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--micro-batches", "10", "--micro", "4")).getMessage().contains("--micro-batches"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--micro-batches", "96", "--eval-every", "6")).getMessage().contains("--eval-every"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--protocol", "data", "--steps", "96")).getMessage().contains("--protocol data"));
        assertEquals(TransformerComparison.Protocol.updates, options("--steps", "96", "--warmup", "5").protocol(),
                "--steps alone means the updates protocol");
        assertEquals(TransformerComparison.Protocol.data, options().protocol());
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--protocol", "updates", "--micro-batches", "96")).getMessage().contains("--steps"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--variants", "single")).getMessage().contains("--clip 0"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--psi", "fast")).getMessage().contains("--psi"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--momentum", "1")).getMessage().contains("--momentum"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--protocol", "sideways")).getMessage().contains("--protocol"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--stepz", "3")).getMessage().contains("--stepz"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--protocol", "updates", "--steps", "0")).getMessage().contains("--steps"));
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

    /** Made-up curves: one CSV row per measurement with the data seen and the times; three PNG plots. */
    @Test
    void resultFilesFromCurves() throws IOException {
        TransformerComparison.Options o = options("--micro-batches", "400", "--eval-every", "200", "--batch", "16",
                "--micro", "4", "--context", "64", "--variants", "gpipe-adamw,stash");
        List<TransformerComparison.Curve> curves = List.of(
                new TransformerComparison.Curve("gpipe-adamw", List.of(200, 400), List.of(2.527, 2.395),
                        List.of(150.5, 301.0), List.of(40.0, 80.0)),
                new TransformerComparison.Curve("stash", List.of(200, 400), List.of(3.029, 2.877), List.of(55.25, 110.0),
                        List.of(20.0, 40.5)));
        Path csv = tmp.resolve(TransformerComparison.CSV);
        ComparisonOutput.writeCsv(csv, curves, o);
        assertEquals(List.of(
                "protocol,variant,updates,micro_batches,examples,characters,train_seconds,device_seconds,val_loss",
                "data,gpipe-adamw,50,200,3200,204800,150.5,40.0,2.527",
                "data,gpipe-adamw,100,400,6400,409600,301.0,80.0,2.395",
                "data,stash,200,200,3200,204800,55.25,20.0,3.029",
                "data,stash,400,400,6400,409600,110.0,40.5,2.877"), Files.readAllLines(csv));
        ComparisonOutput.writePlots(tmp, curves, o);
        ResultFilesTest.assertPng(tmp.resolve(TransformerComparison.PLOT_EXAMPLES));
        ResultFilesTest.assertPng(tmp.resolve(TransformerComparison.PLOT_TIME));
        ResultFilesTest.assertPng(tmp.resolve(TransformerComparison.PLOT_DEVICE_TIME));
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
        assertTrue(rows.get(1).startsWith("updates,single,2,2,8,64,"), rows.get(1));
        assertTrue(rows.get(4).startsWith("updates,stash,4,4,16,128,"), rows.get(4));
        JsonNode json = new ObjectMapper().readTree(dir.resolve(TransformerComparison.JSON).toFile());
        assertEquals(4, json.get("options").get("steps").asInt());
        assertEquals(16, json.get("options").get("dim").asInt());
        assertEquals("single", json.get("options").get("variants").get(0).asText());
        assertEquals(2, json.get("resolved").get("layers").asInt());
        assertEquals("updates", json.get("resolved").get("protocol").asText());
        assertEquals(4, json.get("resolved").get("variants").get("stash").get("updates").asInt());
        ResultFilesTest.assertPng(dir.resolve(TransformerComparison.PLOT_EXAMPLES));
        ResultFilesTest.assertPng(dir.resolve(TransformerComparison.PLOT_TIME));
    }
}
