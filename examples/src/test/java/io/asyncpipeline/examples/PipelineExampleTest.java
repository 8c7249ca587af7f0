package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.examples.data.FashionMnist;
import io.asyncpipeline.examples.data.IdxFiles;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** {@code PipelineExample --trace FILE} on a tiny stand-in for Fashion-MNIST (random pixels, 256 + 64 images). */
class PipelineExampleTest {

    @TempDir
    Path tmp;

    private String savedDir;
    private PrintStream savedOut;

    @BeforeEach
    void tinyFashionMnist() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("fashion"));
        writeIdx(dir.resolve("train-images-idx3-ubyte"), IdxFiles.IMAGES_MAGIC, 256, true);
        writeIdx(dir.resolve("train-labels-idx1-ubyte"), IdxFiles.LABELS_MAGIC, 256, false);
        writeIdx(dir.resolve("t10k-images-idx3-ubyte"), IdxFiles.IMAGES_MAGIC, 64, true);
        writeIdx(dir.resolve("t10k-labels-idx1-ubyte"), IdxFiles.LABELS_MAGIC, 64, false);
        savedDir = System.getProperty(FashionMnist.DIR_PROPERTY);
        System.setProperty(FashionMnist.DIR_PROPERTY, dir.toString());
        savedOut = System.out;
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        if (savedDir == null) {
            System.clearProperty(FashionMnist.DIR_PROPERTY);
        } else {
            System.setProperty(FashionMnist.DIR_PROPERTY, savedDir);
        }
    }

    /** An IDX file of {@code count} 28x28 images or labels 0..9, from a fixed pattern. */
    private static void writeIdx(Path file, int magic, int count, boolean images) throws IOException {
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
            out.writeInt(magic);
            out.writeInt(count);
            if (images) {
                out.writeInt(28);
                out.writeInt(28);
            }
            for (int i = 0; i < count * (images ? 28 * 28 : 1); i++) {
                out.writeByte(images ? (i * 37) % 256 : i % 10);
            }
        }
    }

    @Test
    void traceOptionWritesAChromeTraceAndPrintsATextExcerpt() throws Exception {
        Path file = tmp.resolve("trace.json");
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));   // the example prints with System.out
        CliTest.Run r = CliTest.run(new PipelineExample(), "--train", "256", "--test", "64", "--epochs", "1",
                "--batch", "32", "--stages", "2", "--trace", file.toString());
        String out = stdout.toString(StandardCharsets.UTF_8);
        assertEquals(Cli.OK, r.code(), r.err() + out);

        JsonNode trace = new ObjectMapper().readTree(Files.readString(file));
        List<String> rows = trace.get("traceEvents").findValues("name").stream().map(JsonNode::asText)
                .filter(n -> n.startsWith("stage ")).toList();
        assertEquals(List.of("stage 0", "stage 1"), rows);
        long updates = 0;
        for (JsonNode e : trace.get("traceEvents")) {
            if (e.get("ph").asText().equals("X") && e.get("cat").asText().equals("update")) {
                updates++;
            }
        }
        assertEquals(2 * 256 / 32, updates, "ASYNC_1F1B: one update per micro-batch on each of 2 stages");

        assertTrue(out.contains("written to " + file), out);
        List<String> stageRows = out.lines().filter(l -> l.startsWith("stage ") && l.contains(" |")).toList();
        assertEquals(2, stageRows.size(), out);
        for (String row : stageRows) {
            assertEquals("stage 0 |".length() + PipelineExample.EXCERPT_COLUMNS, row.length(), row);
            assertTrue(row.substring("stage 0 |".length()).matches("[FRBUL.]+"), row);
        }
    }

    @Test
    void traceIntoAMissingDirectoryIsAUsageError() {
        CliTest.assertUsageError(new PipelineExample(), "--trace",
                new String[] {"--trace", tmp.resolve("no/such/dir/t.json").toString()});
    }

    @Test
    void helpListsTheTraceOption() {
        CliTest.Run r = CliTest.run(new PipelineExample(), "--help");
        assertTrue(r.out().contains("--trace=FILE"), r.out());
        assertTrue(r.out().contains("ui.perfetto.dev"), r.out());
    }
}
