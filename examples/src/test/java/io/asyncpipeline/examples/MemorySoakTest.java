package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.examples.data.FashionMnist;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** MemorySoak's --out files and progress. */
class MemorySoakTest {

    @TempDir
    Path tmp;

    @Test
    void csvAndPlotFromMadeUpWindows() throws IOException {
        List<MemorySoak.Row> rows = List.of(
                new MemorySoak.Row("mlp", 1000, 900_000_000L, 820_000_000L, 850_000_000L, 120_000_000L, 300_000_000L,
                        700_000_000L, 12.5),
                new MemorySoak.Row("mlp", 2000, 910_000_000L, 830_000_000L, 860_000_000L, 125_000_000L, 300_000_000L,
                        705_000_000L, 25.0),
                new MemorySoak.Row("transformer-fit", 1000, 1_500_000_000L, 1_350_000_000L, 1_400_000_000L, 200_000_000L,
                        -1, 1_300_000_000L, 40.25),
                new MemorySoak.Row("no-proc", 1000, -1, -1, -1, 1, 2, 3, 1.0),
                new MemorySoak.Row("detail", 500, 5, 4, 3, 2, 1, 0, 2.5,
                        new MemorySoak.Detail(260_000_000L, 90_000_000L, 500_000_000L, 150_000_000L, 12, 3, 9, 42)));
        Path csv = tmp.resolve(MemorySoak.CSV);
        MemorySoak.writeCsv(csv, rows);
        String none = ",-1,-1,-1,-1,-1,-1,-1,-1";
        assertEquals(List.of(
                "case,micro_batches,peak_rss_bytes,median_rss_bytes,rss_bytes,heap_bytes,native_bytes,physical_bytes,seconds,"
                        + "heap_committed_bytes,nonheap_committed_bytes,rss_anon_bytes,rss_file_bytes,collections,"
                        + "steady_level_cycles,trims,trimmed_bytes",
                "mlp,1000,900000000,820000000,850000000,120000000,300000000,700000000,12.5" + none,
                "mlp,2000,910000000,830000000,860000000,125000000,300000000,705000000,25.0" + none,
                "transformer-fit,1000,1500000000,1350000000,1400000000,200000000,-1,1300000000,40.25" + none,
                "no-proc,1000,-1,-1,-1,1,2,3,1.0" + none,
                "detail,500,5,4,3,2,1,0,2.5,260000000,90000000,500000000,150000000,12,3,9,42"), Files.readAllLines(csv));
        assertEquals(rows, MemorySoak.readCsv(csv), "read back as written");
        Path old = tmp.resolve("old.csv");              // written before the detail columns: read with none
        Files.write(old, List.of("case,micro_batches,peak_rss_bytes,median_rss_bytes,rss_bytes,heap_bytes,native_bytes,"
                + "physical_bytes,seconds", "mlp,1000,900000000,820000000,850000000,120000000,300000000,700000000,12.5"));
        assertEquals(List.of(rows.get(0)), MemorySoak.readCsv(old));
        Path png = tmp.resolve(MemorySoak.PLOT);
        MemorySoak.writePlot(png, rows);
        ResultFilesTest.assertPng(png);
        Path noPlot = tmp.resolve("none.png");
        MemorySoak.writePlot(noPlot, rows.subList(3, 4));
        assertTrue(Files.notExists(noPlot), "no RSS readings, no plot");
    }

    /** The brief soak of the issue: plain net.fit of the MLP, 20 micro-batches reported every 10 (needs Fashion-MNIST). */
    @Test
    void shortPlainFitSoakWithOut() throws IOException {
        Assumptions.assumeTrue(new FashionMnist().isAvailable(), "Fashion-MNIST is not installed");
        Path dir = tmp.resolve("soak");
        Soak r = soak("lines", "--cases", "mlp-fit", "--micro-batches", "20", "--every", "10", "--out", dir.toString());
        String stderr = r.stderr();
        assertEquals(0, r.code(), stderr);
        // the DL4J listener of plain net.fit: one step per micro-batch of 64 images, with the training loss
        assertTrue(stderr.matches("(?s).*\\nmlp-fit: 20/20 micro-batches \\(100%\\), loss \\d+\\.\\d{4}, [0-9.]+ examples/s,"
                + " elapsed \\d+:\\d\\d, ETA 0:00\\n.*"), stderr);
        List<String> lines = Files.readAllLines(dir.resolve(MemorySoak.CSV));
        assertEquals(3, lines.size(), lines.toString());
        for (int i = 1; i <= 2; i++) {
            String[] f = lines.get(i).split(",");
            assertEquals(17, f.length, lines.get(i));
            assertEquals("mlp-fit", f[0]);
            assertEquals(10L * i, Long.parseLong(f[1]));
            assertTrue(Long.parseLong(f[3]) > 100_000_000L, "a JVM with ND4J holds more than 100 MB: " + lines.get(i));
            assertTrue(Long.parseLong(f[2]) >= Long.parseLong(f[3]), "the peak is at least the median: " + lines.get(i));
            assertTrue(Long.parseLong(f[9]) >= Long.parseLong(f[5]), "heap committed holds heap used: " + lines.get(i));
            assertTrue(Long.parseLong(f[11]) > 0 && Long.parseLong(f[12]) > 0
                    && Math.abs(Long.parseLong(f[11]) + Long.parseLong(f[12]) - Long.parseLong(f[4])) < 64_000_000L,
                    "RSS is about anonymous + file pages: " + lines.get(i));
            assertTrue(Long.parseLong(f[2]) >= Long.parseLong(f[4]) * 9 / 10, "peak near or above RSS: " + lines.get(i));
            assertTrue(Long.parseLong(f[5]) > 0 && Double.parseDouble(f[8]) > 0, lines.get(i));
        }
        JsonNode json = new ObjectMapper().readTree(dir.resolve(MemorySoak.JSON).toFile());
        assertEquals("MemorySoak", json.get("command").asText());
        JsonNode o = json.get("options");
        assertEquals(List.of("mlp-fit"), new ObjectMapper().convertValue(o.get("cases"), List.class));
        assertEquals(20, o.get("micro-batches").asInt());
        assertEquals(10, o.get("every").asInt());
        assertEquals(-1, o.get("gc-budget-mb").asInt());
        assertTrue(o.get("guard-plain-fit").asBoolean());
        assertTrue(json.get("resolved").get("javacppMaxBytes").asLong() > 0);
        ResultFilesTest.assertPng(dir.resolve(MemorySoak.PLOT));
    }

    /**
     * Two cases run in JVMs of their own: the first one's JVM halts as if killed (exit 137), which is reported while
     * the second still runs in a fresh JVM; its rows land in its own directory and in the combined CSV, and the command
     * exits with 1.
     */
    @Test
    void eachCaseInAJvmOfItsOwnAndAKilledOneIsReported() throws IOException {
        Assumptions.assumeTrue(new FashionMnist().isAvailable(), "Fashion-MNIST is not installed");
        Path dir = tmp.resolve("two");
        // rows an earlier soak left in the halted case's directory must not pass for this one's
        Files.createDirectories(dir.resolve("mlp"));
        Files.writeString(dir.resolve("mlp").resolve(MemorySoak.CSV), "case,micro_batches,peak_rss_bytes,median_rss_bytes,"
                + "rss_bytes,heap_bytes,native_bytes,physical_bytes,seconds\nmlp,10,1,1,1,1,1,1,1.0\n");
        Soak r = soak("off", "--cases", "mlp,mlp-fit", "--halt-case", "mlp", "--micro-batches", "20", "--every", "10",
                "--out", dir.toString());
        String stderr = r.stderr();
        assertEquals(1, r.code(), stderr);
        assertTrue(stderr.contains("1 of 2 cases failed: case mlp: its JVM exited with code 137 (killed"), stderr);
        assertTrue(stderr.contains("after 0 of 2 windows"), stderr);
        // the second case ran in a JVM of its own: it wrote its own files into its directory
        assertEquals(3, Files.readAllLines(dir.resolve("mlp-fit").resolve(MemorySoak.CSV)).size());
        assertTrue(Files.exists(dir.resolve("mlp-fit").resolve(MemorySoak.JSON)));
        List<MemorySoak.Row> combined = MemorySoak.readCsv(dir.resolve(MemorySoak.CSV));
        assertEquals(List.of("mlp-fit", "mlp-fit"), combined.stream().map(MemorySoak.Row::caseName).toList());
        assertEquals(List.of(10L, 20L), combined.stream().map(MemorySoak.Row::microBatches).toList());
        assertTrue(combined.get(1).medianRss() > 100_000_000L, combined.toString());
        ResultFilesTest.assertPng(dir.resolve(MemorySoak.PLOT));
    }

    @Test
    void summaryLineFromRowsAndARowOfTheWrongWidthIsRejected() throws IOException {
        List<MemorySoak.Row> rows = List.of(
                new MemorySoak.Row("cnn", 1000, 600_000_000L, 500_000_000L, 0, 0, 0, 0, 1),
                new MemorySoak.Row("cnn", 2000, 650_000_000L, 400_000_000L, 0, 0, 0, 0, 2),
                new MemorySoak.Row("cnn", 3000, 550_000_000L, 440_000_000L, 0, 0, 0, 0, 3));
        String line = MemorySoak.summaryLine("cnn", rows);
        assertTrue(line.matches("cnn +650 +400 +440 +\\+10\\.0%"), line);
        Path bad = Files.writeString(tmp.resolve("bad.csv"), "case,micro_batches\ncnn,1000\n");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> MemorySoak.readCsv(bad));
        assertTrue(e.getMessage().contains("a row of 2 cells, not 17"), e.getMessage());
    }

    /** A MemorySoak run's exit code and standard error. */
    private record Soak(int code, String stderr) {
    }

    /** Runs MemorySoak with {@code args} and the progress mode {@code progress}, capturing its standard error. */
    private static Soak soak(String progress, String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream savedErr = System.err;
        String savedMode = System.getProperty(Progress.PROPERTY);
        try {
            System.setProperty(Progress.PROPERTY, progress);
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Cli.execute(new MemorySoak(), args);
            return new Soak(code, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(savedErr);
            if (savedMode == null) {
                System.clearProperty(Progress.PROPERTY);
            } else {
                System.setProperty(Progress.PROPERTY, savedMode);
            }
        }
    }
}
