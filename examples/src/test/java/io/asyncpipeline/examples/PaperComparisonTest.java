package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PaperComparisonTest {

    @TempDir
    Path tmp;

    private String[] tiny(Path dir, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("--out", dir.toString(), "--stages", "2", "--seeds", "11,12",
                "--candidates", "2", "--variants", "gpipe-adamw,nesterov", "--micro-batches", "8",
                "--tune-micro-batches", "4", "--layers", "2", "--dim", "8", "--heads", "2", "--context", "8", "--batch",
                "2", "--micro", "2", "--eval-every", "4", "--val-windows", "8"));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    private static String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        String savedMode = System.getProperty(Progress.PROPERTY);
        int code;
        try {
            System.setProperty(Progress.PROPERTY, "off");
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = Cli.execute(new PaperComparison(), args);
        } finally {
            System.setOut(saved);
            if (savedMode == null) {
                System.clearProperty(Progress.PROPERTY);
            } else {
                System.setProperty(Progress.PROPERTY, savedMode);
            }
        }
        String s = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, s);
        return s;
    }

    /**
     * A whole tiny sweep: the Arbiter candidates of each variant (same count, same seed), the best of each in
     * tuned-P2.json, the final runs on two fresh seeds at the tuned values, and the report with mean ± sd, verdicts and
     * plots; run again, nothing is retrained.
     */
    @Test
    void tinySweepTunesRunsReportsAndResumes() throws IOException {
        Path dir = tmp.resolve("sweep");
        String first = run(tiny(dir));
        for (String v : List.of("gpipe-adamw", "nesterov")) {
            List<Map<String, String>> tune = PaperComparison.readCsv(dir.resolve("tune/P2/" + v + ".csv"));
            assertEquals(2, tune.size(), v);
            assertTrue(tune.stream().allMatch(r -> r.get("status").equals("complete")), tune.toString());
            for (long seed : new long[] {11, 12}) {
                assertTrue(Files.exists(dir.resolve("final/P2/seed" + seed + "/" + v + ".csv")), v + " " + seed);
            }
        }
        List<Map<String, String>> nesterov = PaperComparison.readCsv(dir.resolve("tune/P2/nesterov.csv"));
        assertNotEquals(nesterov.get(0).get("discount"), nesterov.get(1).get("discount"), "random candidates differ");
        double lo = Double.parseDouble(nesterov.get(0).get("lr"));
        assertTrue(lo >= 0.03 && lo <= 1, "the --nesterov-lr range: " + lo);

        Map<String, TransformerComparison.Hyper> tuned = PaperComparison.readTuned(dir.resolve("tuned-P2.json"));
        assertEquals(2, tuned.size());
        Map<String, String> bestRow = PaperComparison.readCsv(dir.resolve("tune/P2/gpipe-adamw.csv")).stream()
                .min(java.util.Comparator.comparingDouble(r -> Double.parseDouble(r.get("val_loss")))).orElseThrow();
        assertEquals(Double.parseDouble(bestRow.get("lr")), tuned.get("gpipe-adamw").lr(), 0);
        List<Map<String, String>> fin = PaperComparison.readCsv(dir.resolve("final/P2/seed11/gpipe-adamw.csv"));
        assertEquals(2, fin.size(), "two validation measurements");
        assertEquals("4", fin.get(1).get("updates"), "GPipe: 8 micro-batches in 4 updates");
        assertEquals(bestRow.get("lr"), fin.get(0).get("lr"));

        String report = Files.readString(dir.resolve(PaperComparison.REPORT));
        assertTrue(report.contains("### P = 2 stages"), report);
        assertTrue(report.contains("| GPipe (AdamW) at this device time | vs GPipe, equal device time |"), report);
        assertTrue(report.matches("(?s).*\\| nesterov \\| [0-9.e-]+ \\| [0-9.]+ \\| δ [0-9.e-]+ \\| 2 \\| [0-9.]+ ± [0-9.]+ \\|"
                + " (better|worse|level).*"), report);
        assertTrue(first.contains("tune P=2 nesterov candidate 2/2"), first);
        ResultFilesTest.assertPng(dir.resolve("loss-vs-data-P2.png"));
        ResultFilesTest.assertPng(dir.resolve("loss-vs-device-time-P2.png"));
        assertEquals(3, Files.readAllLines(dir.resolve(PaperComparison.SUMMARY)).size());

        Files.delete(dir.resolve(PaperComparison.REPORT));
        run("--out", dir.toString(), "--phase", "report");                 // the sweep's settings come from its directory
        assertEquals(report, Files.readString(dir.resolve(PaperComparison.REPORT)));

        long before = Files.getLastModifiedTime(dir.resolve("final/P2/seed12/nesterov.csv")).toMillis();
        String again = run(tiny(dir));
        assertTrue(!again.contains("tune P=2") && !again.contains("final P=2"), "nothing retrained:\n" + again);
        assertEquals(before, Files.getLastModifiedTime(dir.resolve("final/P2/seed12/nesterov.csv")).toMillis());
        // a command for one variant keeps every other tuned variant in tuned-P2.json
        run("--out", dir.toString(), "--stages", "2", "--seeds", "11", "--variants", "gpipe-adamw");
        assertEquals(tuned.keySet(), PaperComparison.readTuned(dir.resolve("tuned-P2.json")).keySet());
    }

    /** Settings checks: a tuning seed among the final seeds, a stage count not dividing the blocks, a resumed sweep with other settings. */
    @Test
    void settingsAreCheckedAndAResumedSweepMustMatch() throws IOException {
        Path dir = tmp.resolve("s");
        PaperComparison pc = new PaperComparison();
        CommandLine cl = Cli.commandLine(pc);
        cl.parseArgs(tiny(dir, "--seeds", "1"));
        assertTrue(assertThrows(CommandLine.ParameterException.class, pc::call).getMessage().contains("tuning seed"));
        PaperComparison pc2 = new PaperComparison();
        Cli.commandLine(pc2).parseArgs(tiny(dir, "--stages", "3"));
        assertTrue(assertThrows(CommandLine.ParameterException.class, pc2::call).getMessage().contains("--stages 3"));
        PaperComparison noSweep = new PaperComparison();
        Cli.commandLine(noSweep).parseArgs("--out", dir.toString(), "--phase", "report");
        assertTrue(assertThrows(CommandLine.ParameterException.class, noSweep::call).getMessage().contains("holds no sweep"));
        PaperComparison pc3 = new PaperComparison();
        Cli.commandLine(pc3).parseArgs(tiny(dir, "--phase", "finals"));      // nothing tuned: writes the settings only
        pc3.call();
        // a resume that gives only --out and what to run takes every other setting from the directory
        PaperComparison resume = new PaperComparison();
        Cli.commandLine(resume).parseArgs("--out", dir.toString(), "--phase", "finals", "--stages", "2", "--seeds", "11",
                "--variants", "gpipe-adamw");
        assertEquals(Cli.OK, resume.call());
        assertEquals(8, resume.microBatches);
        assertEquals(2, resume.candidates);
        assertEquals(4, resume.tuneMicroBatches);
        PaperComparison pc4 = new PaperComparison();
        Cli.commandLine(pc4).parseArgs(tiny(dir, "--phase", "finals", "--clip", "5"));
        assertTrue(assertThrows(CommandLine.ParameterException.class, pc4::call).getMessage().contains("other settings"));
        // a report describes the sweep on disk: it takes its settings from there, not from its own options
        PaperComparison pc5 = new PaperComparison();
        Cli.commandLine(pc5).parseArgs("--out", dir.toString(), "--phase", "report", "--clip", "5");
        assertEquals(Cli.OK, pc5.call());
        Files.writeString(dir.resolve(PaperComparison.SETTINGS), "{\"microBatches\": \"many\"}");
        PaperComparison pc6 = new PaperComparison();
        Cli.commandLine(pc6).parseArgs("--out", dir.toString(), "--phase", "report");
        assertTrue(assertThrows(CommandLine.ParameterException.class, pc6::call).getMessage()
                .contains("is not a sweep's settings file"));
    }

    /** A difference is claimed only when the gap between the means exceeds both standard deviations. */
    @Test
    void verdictsClaimOnlyGapsLargerThanBothSpreads() {
        PaperReport.Stat base = PaperReport.Stat.of(new double[] {2.40, 2.43, 2.37});
        assertEquals(2.40, base.mean(), 1e-12);
        assertEquals(0.03, base.sd(), 1e-12);
        assertTrue(PaperReport.verdict(PaperReport.Stat.of(new double[] {2.30, 2.31, 2.29}), base)
                .startsWith("better by 0.1000"));
        assertTrue(PaperReport.verdict(PaperReport.Stat.of(new double[] {2.50, 2.52, 2.48}), base)
                .startsWith("worse"));
        assertEquals("level (within spread)",
                PaperReport.verdict(PaperReport.Stat.of(new double[] {2.38, 2.42, 2.34}), base));
        // a gap larger than the base's spread but not the variant's own: no claim
        assertEquals("level (within spread)",
                PaperReport.verdict(PaperReport.Stat.of(new double[] {2.25, 2.45, 2.35}), base));
        assertEquals("one seed: no claim", PaperReport.verdict(PaperReport.Stat.of(new double[] {2.0}), base));
        assertEquals("2.0000", PaperReport.Stat.of(new double[] {2.0}).format(4), "one seed: no ± 0");
        assertEquals("2.4000 ± 0.0300", base.format(4));
        assertEquals(2, PaperReport.Stat.of(new double[] {1, Double.NaN, 3}).n(), "NaN (not reached) left out");
    }

    /** The data or time to reach a loss is interpolated between measurements; never reaching it is NaN. */
    @Test
    void reachInterpolatesBetweenMeasurements() {
        PaperReport.Run r = new PaperReport.Run(8, 11, "stash", new double[] {500, 1000, 1500},
                new double[] {10, 20, 30}, new double[] {3.0, 2.5, 2.0}, Map.of());
        assertEquals(1250, r.reach(r.microBatches(), 2.25), 1e-9);
        assertEquals(25, r.reach(r.deviceSeconds(), 2.25), 1e-9);
        assertEquals(500, r.reach(r.microBatches(), 3.5), 1e-9, "reached at the first measurement");
        assertTrue(Double.isNaN(r.reach(r.microBatches(), 1.9)));
        assertEquals(2.75, r.lossAt(r.deviceSeconds(), 15), 1e-9);
        assertEquals(2.0, r.lossAt(r.deviceSeconds(), 30), 1e-9);
        assertEquals(2.0, r.lossAt(r.deviceSeconds(), 45), 1e-9, "finished: its final loss");
        assertTrue(Double.isNaN(r.lossAt(r.deviceSeconds(), 5)), "before the first measurement: unknown");
    }

    /**
     * At equal device time each run meets GPipe (AdamW) of its own seed, at the simulated time the run finished; a seed
     * GPipe has no run of is left out on both sides.
     */
    @Test
    void equalDeviceTimePairsRunsWithGPipeOfTheSameSeed() {
        double[] mb = {500, 1000};
        List<PaperReport.Run> gpipe = List.of(
                new PaperReport.Run(8, 11, "gpipe-adamw", mb, new double[] {100, 200}, new double[] {2.6, 2.0}, Map.of()),
                new PaperReport.Run(8, 12, "gpipe-adamw", mb, new double[] {100, 200}, new double[] {2.8, 2.2}, Map.of()));
        List<PaperReport.Run> async = List.of(
                new PaperReport.Run(8, 11, "stash", mb, new double[] {50, 150}, new double[] {2.5, 2.1}, Map.of()),
                new PaperReport.Run(8, 12, "stash", mb, new double[] {60, 120}, new double[] {2.6, 2.3}, Map.of()),
                new PaperReport.Run(8, 13, "stash", mb, new double[] {60, 120}, new double[] {2.6, 2.3}, Map.of()));
        double[][] pairs = PaperReport.atEqualTime(async, gpipe);
        double[] at = pairs[1];
        assertEquals(2.3, at[0], 1e-9, "seed 11 at 150 s: half-way between GPipe's 2.6 and 2.0");
        assertEquals(2.68, at[1], 1e-9, "seed 12 at 120 s");
        assertTrue(Double.isNaN(at[2]), "no GPipe run of seed 13");
        double[] paired = pairs[0];
        assertEquals(2.1, paired[0], 1e-12);
        assertTrue(Double.isNaN(paired[2]));
        assertTrue(PaperReport.verdict(PaperReport.Stat.of(paired), PaperReport.Stat.of(at)).startsWith("better by 0.2900"),
                PaperReport.verdict(PaperReport.Stat.of(paired), PaperReport.Stat.of(at)));
        // GPipe finished first (seed 11: GPipe at 200 s, the variant at 300 s): both at GPipe's finish; the variant
        // finished before GPipe's first measurement (seed 12): no equal-time point, left out on both sides
        List<PaperReport.Run> late = List.of(
                new PaperReport.Run(8, 11, "slow", mb, new double[] {150, 300}, new double[] {2.5, 2.0}, Map.of()),
                new PaperReport.Run(8, 12, "quick", mb, new double[] {10, 50}, new double[] {2.5, 2.4}, Map.of()));
        double[][] latePairs = PaperReport.atEqualTime(late, gpipe);
        double[] gp = latePairs[1];
        double[] mine = latePairs[0];
        assertEquals(2.0, gp[0], 1e-9, "GPipe's final loss at its own finish");
        assertEquals(2.5 - 0.5 / 3, mine[0], 1e-9, "the variant at 200 s, not at its own finish");
        assertTrue(Double.isNaN(gp[1]) && Double.isNaN(mine[1]), "no GPipe measurement by 50 s: both left out");
    }

    /** The time GPipe of the same seed takes to reach a run's final loss, and that over the run's own time. */
    @Test
    void gpipesTimeToEachRunsLossAndTheSpeedUp() {
        double[] mb = {500, 1000};
        List<PaperReport.Run> gpipe = List.of(
                new PaperReport.Run(8, 11, "gpipe-adamw", mb, new double[] {100, 200}, new double[] {2.6, 2.0}, Map.of()),
                new PaperReport.Run(8, 12, "gpipe-adamw", mb, new double[] {100, 200}, new double[] {2.8, 2.2}, Map.of()));
        List<PaperReport.Run> async = List.of(
                new PaperReport.Run(8, 11, "stash", mb, new double[] {50, 100}, new double[] {2.5, 2.3}, Map.of()),
                new PaperReport.Run(8, 12, "stash", mb, new double[] {50, 100}, new double[] {2.5, 2.1}, Map.of()),
                new PaperReport.Run(8, 13, "stash", mb, new double[] {50, 100}, new double[] {2.5, 2.3}, Map.of()),
                new PaperReport.Run(8, 11, "diverged", mb, new double[] {50, 100}, new double[] {2.5, Double.NaN},
                        Map.of()));
        double[][] t = PaperReport.gpipeTimeToLoss(async, gpipe);
        assertEquals(150, t[0][0], 1e-9, "seed 11: GPipe reaches 2.3 half-way from 2.6 at 100 s to 2.0 at 200 s");
        assertEquals(1.5, t[1][0], 1e-12, "150 s against the run's 100 s");
        assertTrue(Double.isNaN(t[0][1]) && Double.isNaN(t[1][1]), "seed 12: GPipe never reached 2.1");
        assertTrue(Double.isNaN(t[0][2]), "no GPipe run of seed 13");
        assertTrue(Double.isNaN(t[0][3]), "a diverged run has no loss to reach");
        assertEquals(100, PaperReport.gpipeTimeToLoss(List.of(new PaperReport.Run(8, 11, "early", mb,
                new double[] {50, 100}, new double[] {2.9, 2.7}, Map.of())), gpipe)[0][0], 1e-9,
                "a loss GPipe beat at its first measurement: that measurement's time");
    }
}
