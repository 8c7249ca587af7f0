package io.asyncpipeline.examples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxFilesTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsImagesPlainAndGzipped(boolean gzip) throws IOException {
        Path f = IdxTestFiles.writeImages(tmp.resolve("img"), IdxFiles.IMAGES_MAGIC, 4, 3, 5, gzip);
        IdxFiles.Images img = IdxFiles.readImages(f, Integer.MAX_VALUE);
        assertEquals(4, img.count());
        assertEquals(3, img.rows());
        assertEquals(5, img.cols());
        assertEquals(4 * 3 * 5, img.pixels().length);
        for (int i = 0; i < 4; i++) {
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 5; c++) {
                    assertEquals(IdxTestFiles.pixel(i, r, c), img.pixel(i, r, c));
                }
            }
        }
    }

    @Test
    void limitTruncatesImagesAndLabels() throws IOException {
        Path f = IdxTestFiles.writeImages(tmp.resolve("img"), IdxFiles.IMAGES_MAGIC, 4, 2, 2, false);
        assertEquals(2, IdxFiles.readImages(f, 2).count());
        Path l = IdxTestFiles.writeLabels(tmp.resolve("lbl"), IdxFiles.LABELS_MAGIC, new byte[] {3, 1, 4, 1}, true);
        assertArrayEquals(new byte[] {3, 1, 4}, IdxFiles.readLabels(l, 3));
        assertArrayEquals(new byte[] {3, 1, 4, 1}, IdxFiles.readLabels(l, 100));
    }

    @Test
    void labelsAreUnsigned() throws IOException {
        Path l = IdxTestFiles.writeLabels(tmp.resolve("lbl"), IdxFiles.LABELS_MAGIC, new byte[] {(byte) 200}, false);
        assertEquals(200, IdxFiles.readLabels(l, 1)[0] & 0xFF);
    }

    @Test
    void rejectsLabelFileReadAsImages() throws IOException {
        Path l = IdxTestFiles.writeLabels(tmp.resolve("labels.idx"), IdxFiles.LABELS_MAGIC, new byte[] {1, 2}, false);
        IOException e = assertThrows(IOException.class, () -> IdxFiles.readImages(l, 10));
        assertTrue(e.getMessage().contains("labels.idx"), e.getMessage());
        assertTrue(e.getMessage().contains("bad IDX magic number 0x00000801"), e.getMessage());
        assertTrue(e.getMessage().contains("expected 0x00000803"), e.getMessage());
    }

    @Test
    void rejectsGarbageMagic() throws IOException {
        Path f = IdxTestFiles.writeImages(tmp.resolve("junk.gz"), 0xCAFEBABE, 1, 1, 1, true);
        IOException e = assertThrows(IOException.class, () -> IdxFiles.readImages(f, 10));
        assertTrue(e.getMessage().contains("junk.gz") && e.getMessage().contains("0xCAFEBABE"), e.getMessage());
        IOException e2 = assertThrows(IOException.class, () -> IdxFiles.readLabels(f, 10));
        assertTrue(e2.getMessage().contains("expected 0x00000801"), e2.getMessage());
    }

    @Test
    void rejectsTruncatedFile() throws IOException {
        Path full = IdxTestFiles.writeImages(tmp.resolve("full"), IdxFiles.IMAGES_MAGIC, 3, 4, 4, false);
        byte[] bytes = Files.readAllBytes(full);
        Path cut = IdxTestFiles.write(tmp.resolve("cut"), Arrays.copyOf(bytes, bytes.length - 5), false);
        IOException e = assertThrows(IOException.class, () -> IdxFiles.readImages(cut, 10));
        assertTrue(e.getMessage().contains("cut") && e.getMessage().contains("truncated"), e.getMessage());
        Path tiny = IdxTestFiles.write(tmp.resolve("tiny"), new byte[] {0, 0}, false);
        assertThrows(IOException.class, () -> IdxFiles.readLabels(tiny, 10));
    }

    @Test
    void missingFileNamesThePath() {
        Path missing = tmp.resolve("nope-idx1-ubyte");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> IdxFiles.readLabels(missing, 1));
        assertTrue(e.getMessage().contains("nope-idx1-ubyte"), e.getMessage());
    }

    @Test
    void rejectsNonPositiveLimit() {
        assertThrows(IllegalArgumentException.class, () -> IdxFiles.readLabels(tmp.resolve("x"), 0));
    }
}
