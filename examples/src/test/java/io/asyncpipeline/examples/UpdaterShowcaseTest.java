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
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** UpdaterShowcase's --out: one row per updater and epoch; the last epoch's row is the printed table's row. */
class UpdaterShowcaseTest {

    @TempDir
    Path tmp;

    @Test
    void csvFromMadeUpResults() throws IOException {
        List<UpdaterShowcase.Result> results = List.of(new UpdaterShowcase.Result("DiscountedNadam(lr=0.002, b1=0.99)",
                0.25, 0.875, 3.5, List.of(new UpdaterShowcase.Epoch(1, 0.5, 0.75, 1.75),
                        new UpdaterShowcase.Epoch(2, 0.25, 0.875, 3.5))));
        Path csv = tmp.resolve(UpdaterShowcase.CSV);
        UpdaterShowcase.writeCsv(csv, results);
        assertEquals(List.of("updater,epoch,train_loss,test_accuracy,train_seconds",
                "\"DiscountedNadam(lr=0.002, b1=0.99)\",1,0.5,0.75,1.75",
                "\"DiscountedNadam(lr=0.002, b1=0.99)\",2,0.25,0.875,3.5"), Files.readAllLines(csv));
    }

    /** A small run on Fashion-MNIST (skipped when it is not installed). */
    @Test
    void smallRunWithOut() throws IOException {
        Assumptions.assumeTrue(new FashionMnist().isAvailable(), "Fashion-MNIST is not installed");
        Path dir = tmp.resolve("updaters");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = Cli.execute(new UpdaterShowcase(), "--train", "256", "--test", "100", "--epochs", "2", "--out",
                    dir.toString());
        } finally {
            System.setOut(saved);
        }
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, stdout);
        List<String> lines = Files.readAllLines(dir.resolve(UpdaterShowcase.CSV));
        assertEquals(1 + 3 * 2, lines.size(), lines.toString());
        assertEquals("updater,epoch,train_loss,test_accuracy,train_seconds", lines.get(0));
        assertTrue(lines.get(3).startsWith("\"DiscountedNadam(lr=0.002, b1=0.99)\",1,"), lines.get(3));
        for (int i = 2; i <= 6; i += 2) {
            // the last epoch of each updater is its row in the printed table
            String line = lines.get(i);
            String[] f = line.substring(line.lastIndexOf(')') + 1).replaceFirst("^\"?,", "").split(",");
            assertEquals("2", f[0], line);
            String row = String.format(Locale.ROOT, "| %16.4f | %13.4f |", Double.parseDouble(f[1]),
                    Double.parseDouble(f[2]));
            assertTrue(stdout.contains(row), row + " not in\n" + stdout);
        }
        JsonNode json = new ObjectMapper().readTree(dir.resolve(UpdaterShowcase.JSON).toFile());
        assertEquals(256, json.get("options").get("train").asInt());
        assertEquals(0.5, json.get("options").get("dcn-lr").asDouble());
    }
}
