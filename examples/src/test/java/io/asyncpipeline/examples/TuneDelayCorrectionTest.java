package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

class TuneDelayCorrectionTest {

    /** Two candidates per updater on a 2-block, 2-stage model: seconds, not minutes. */
    private static final String[] TINY = {"--stages", "2", "--layers", "2", "--dim", "8", "--heads", "2", "--context", "8",
        "--batch", "4", "--steps", "4", "--val-windows", "16", "--candidates", "2", "--grid-points", "2"};

    private static String[] with(String... more) {
        String[] all = new String[TINY.length + more.length];
        System.arraycopy(TINY, 0, all, 0, TINY.length);
        System.arraycopy(more, 0, all, TINY.length, more.length);
        return all;
    }

    private static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(Cli.OK, Cli.execute(new TuneDelayCorrection(), args), buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aRandomSearchWritesItsTablesHeatMapsAndABestThatRetrainsToTheSameBits(@TempDir Path dir) throws Exception {
        String printed = run(with("--dtype", "double", "--replay", "yes", "--out", dir.toString()));
        assertTrue(printed.contains("| DiscountedNadam |") && printed.contains("| DelayCorrectedNesterov |"), printed);
        List<String> csv = Files.readAllLines(dir.resolve(TuneDelayCorrection.CSV));
        assertEquals(1 + 4, csv.size(), "header and 2 candidates per updater: " + csv);
        double previous = Double.NEGATIVE_INFINITY;
        for (String line : csv.subList(1, csv.size())) {
            String[] f = line.split(",");
            if (f[6].equals("complete")) {
                double loss = Double.parseDouble(f[5]);
                assertTrue(loss >= previous, "sorted by validation loss: " + csv);
                previous = loss;
            }
        }
        assertTrue(Files.readString(dir.resolve(TuneDelayCorrection.MARKDOWN)).contains("| validation loss |"));
        assertTrue(Files.size(dir.resolve("heatmap-nadam.png")) > 1000);
        assertTrue(Files.size(dir.resolve("heatmap-nesterov.png")) > 1000);
        JsonNode best = new ObjectMapper().readTree(dir.resolve(TuneDelayCorrection.BEST).toFile());
        double recorded = best.get("validationLoss").asDouble();
        assertEquals(previous == Double.NEGATIVE_INFINITY ? recorded : Double.parseDouble(csv.get(1).split(",")[5]),
                recorded, 0, "best.json holds the first row");

        String again = run("--retrain", dir.resolve(TuneDelayCorrection.BEST).toString());
        assertTrue(again.contains("identical"), again);
    }

    @Test
    void aGridSearchTriesEveryPoint(@TempDir Path dir) throws Exception {
        // a fixed momentum leaves a 2 x 2 grid over learning rate and discount
        run(with("--search", "grid", "--updaters", "nesterov", "--momentum", "0.9", "--out", dir.toString()));
        List<String> csv = Files.readAllLines(dir.resolve(TuneDelayCorrection.CSV));
        assertEquals(1 + 4, csv.size(), "2 x 2 grid: " + csv);
        assertEquals(4, csv.stream().skip(1).map(l -> l.split(",")[2] + "/" + l.split(",")[4]).distinct().count(),
                "every (learning rate, discount) pair once: " + csv);
        assertTrue(Files.size(dir.resolve("heatmap-nesterov.png")) > 1000);
    }

    @Test
    void badOptionsAreUsageErrorsNamingTheOption(@TempDir Path dir) {
        for (String[] bad : new String[][]{{"--stages", "3", "--layers", "8"}, {"--search", "bayes"},
                {"--updaters", "adam"}, {"--nadam-lr", "1e-2:1e-3"}, {"--momentum", "0.9:1.0"}, {"--dtype", "half"},
                {"--replay", "maybe"}, {"--discount", "0:0.5"}}) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream old = System.err;
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            try {
                String[] args = new String[bad.length + 2];
                System.arraycopy(bad, 0, args, 0, bad.length);
                args[bad.length] = "--out";
                args[bad.length + 1] = dir.toString();
                assertEquals(Cli.USAGE, Cli.execute(new TuneDelayCorrection(), args), String.join(" ", bad));
            } finally {
                System.setErr(old);
            }
            // the first line is the error (the usage that follows names every option)
            String first = err.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).findFirst().orElse("");
            assertTrue(first.contains(bad[bad.length - 2]) && !first.startsWith("Usage"),
                    String.join(" ", bad) + " -> " + err);
        }
    }

    @Test
    void aFileThatIsNotABestJsonIsAUsageError(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("x.json");
        Files.writeString(f, "{\"hello\": 1}");
        assertEquals(Cli.USAGE, Cli.execute(new TuneDelayCorrection(), "--retrain", f.toString()));
    }
}
