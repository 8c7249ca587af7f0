package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import picocli.CommandLine;

/** The shared {@code --out} writers: CSV quoting, the JSON configuration sidecar, and PNG charts. */
class ResultFilesTest {

    @TempDir
    Path tmp;

    @Test
    void csvQuotesOnlyWhatNeedsIt() throws IOException {
        Csv csv = new Csv("name", "value", "note")
                .row("plain", 1.5, null)
                .row("a,b", Double.NaN, "say \"hi\"")
                .row(" padded", 3L, "two\nlines");
        assertEquals(3, csv.rows());
        assertEquals("name,value,note\n"
                + "plain,1.5,\n"
                + "\"a,b\",,\"say \"\"hi\"\"\"\n"
                + "\" padded\",3,\"two\nlines\"\n", csv.text());
        Path f = tmp.resolve("t.csv");
        csv.write(f);
        assertEquals(csv.text(), Files.readString(f, StandardCharsets.UTF_8));
        assertThrows(IllegalArgumentException.class, () -> csv.row("too", "few"));
        assertEquals("1.0E-4", Csv.field(1e-4), "locale-independent, round-trips");
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(f), files.toList(), "no temporary file left behind");
        }
    }

    /** Every option of the command, the resolved values and the environment; help and version flags left out. */
    @Test
    void configurationHoldsEveryOptionAndTheEnvironment() throws IOException {
        CommandLine cl = new CommandLine(new TransformerComparison());
        cl.parseArgs("--steps", "40", "--variants", "gpipe,stash", "--replay", "yes", "--out", tmp.toString());
        Path f = tmp.resolve("c.json");
        ResultFiles.writeConfiguration(f, cl.getCommandSpec(), Map.of("layers", 8));
        JsonNode json = new ObjectMapper().readTree(f.toFile());
        assertEquals("TransformerComparison", json.get("command").asText());
        assertEquals(List.of("--steps", "40", "--variants", "gpipe,stash", "--replay", "yes", "--out", tmp.toString()),
                new ObjectMapper().convertValue(json.get("arguments"), List.class));
        JsonNode o = json.get("options");
        assertEquals(40, o.get("steps").asInt());
        assertEquals(8, o.get("stages").asInt(), "defaults too");
        assertEquals(0.001, o.get("lr").asDouble());
        assertEquals("gpipe", o.get("variants").get(0).asText());
        assertEquals("stash", o.get("variants").get(1).asText());
        assertEquals("yes", o.get("replay").asText());
        assertEquals(tmp.toString(), o.get("out").asText());
        assertFalse(o.has("help") || o.has("version"), o.toString());
        assertEquals(8, json.get("resolved").get("layers").asInt());
        JsonNode env = json.get("environment");
        assertEquals(System.getProperty("java.version"), env.get("javaVersion").asText());
        assertEquals(Runtime.getRuntime().availableProcessors(), env.get("cores").asInt());
        assertEquals(Runtime.getRuntime().maxMemory(), env.get("maxHeapBytes").asLong());
        assertTrue(env.has("OMP_NUM_THREADS"), env.toString());
        String omp = System.getenv("OMP_NUM_THREADS");
        assertEquals(omp == null, env.get("OMP_NUM_THREADS").isNull());
    }

    @Test
    void outDirectoryIsCreatedOrAUsageError() throws IOException {
        CommandLine cl = new CommandLine(new MemorySoak());
        Path nested = tmp.resolve("a/b");
        assertEquals(nested, ResultFiles.directory(cl.getCommandSpec(), nested));
        assertTrue(Files.isDirectory(nested));
        Path file = Files.writeString(tmp.resolve("file"), "x");
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                () -> ResultFiles.directory(cl.getCommandSpec(), file.resolve("sub")));
        assertTrue(e.getMessage().startsWith("--out: cannot create the directory"), e.getMessage());
    }

    @Test
    void lineAndBarChartsArePngsOfTheRequestedSize() throws IOException {
        Path lines = tmp.resolve("lines.png");
        Plots.lines(lines, "validation loss", "examples", "loss", List.of(
                new Plots.Series("a", new double[] {1, 2, 3}, new double[] {3.0, 2.5, 2.2}),
                new Plots.Series("b", new double[] {1, 2, 3}, new double[] {3.0, 2.9, 2.7}),
                new Plots.Series("empty", new double[0], new double[0])));
        assertPng(lines);
        Path bars = tmp.resolve("bars.png");
        Map<String, double[]> series = new LinkedHashMap<>();
        series.put("stage 0", new double[] {78, 93});
        series.put("stage 1", new double[] {69, 0});
        Plots.bars(bars, "utilisation", "run", "%", List.of("mlp GPIPE", "mlp ASYNC_1F1B"), series);
        assertPng(bars);
        for (int n = 1; n <= 3; n++) {
            Path panels = tmp.resolve("panels" + n + ".png");
            List<Plots.Panel> list = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                list.add(new Plots.Panel("model " + i, List.of("fit", "GPIPE", "ASYNC"), new double[] {40 * (i + 1), 45, 52}));
            }
            Plots.barPanels(panels, "examples/s", list);
            assertPng(panels);
        }
        assertThrows(IllegalArgumentException.class, () -> Plots.bars(tmp.resolve("x.png"), "t", "x", "y",
                List.of("one"), Map.of("s", new double[] {1, 2})));
        assertThrows(IllegalArgumentException.class, () -> Plots.barPanels(tmp.resolve("x.png"), "y", List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new Plots.Series("s", new double[] {1}, new double[] {1, 2}));
    }

    /** Decodes as an 800 x 500 image with something drawn on it (more than a few colours). */
    static void assertPng(Path png) throws IOException {
        assertTrue(Files.size(png) > 1000, png + " is " + Files.size(png) + " bytes");
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " does not decode");
        assertEquals(Plots.WIDTH, img.getWidth());
        assertEquals(Plots.HEIGHT, img.getHeight());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 4) {
            for (int x = 0; x < img.getWidth(); x += 4) {
                colours.add(img.getRGB(x, y));
            }
        }
        assertTrue(colours.size() > 5, png + ": " + colours.size() + " colours");
    }
}
