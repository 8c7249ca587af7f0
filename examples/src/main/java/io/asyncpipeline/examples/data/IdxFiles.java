package io.asyncpipeline.examples.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Minimal reader for the unsigned-byte IDX files used by MNIST-style data sets.
 *
 * <p>An IDX file starts with a big-endian magic number {@code 0x0000TTDD} (TT = element type, 0x08 for
 * unsigned byte; DD = number of dimensions), then DD big-endian int32 sizes, then the elements in
 * row-major order. Files may be gzip-compressed; compression is detected from the content, not the name.
 */
public final class IdxFiles {

    /** Magic number of a 3-D unsigned-byte file (images: count x rows x cols). */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of a 1-D unsigned-byte file (labels: count). */
    public static final int LABELS_MAGIC = 0x00000801;

    private IdxFiles() {
    }

    /** Images read from an IDX file; {@code pixels} holds {@code count * rows * cols} unsigned bytes. */
    public record Images(int count, int rows, int cols, byte[] pixels) {
        public int pixelsPerImage() {
            return rows * cols;
        }

        /** Pixel value in 0..255. */
        public int pixel(int image, int row, int col) {
            return pixels[(image * rows + row) * cols + col] & 0xFF;
        }
    }

    /** Reads at most {@code limit} images (all if the file holds fewer). */
    public static Images readImages(Path file, int limit) throws IOException {
        requirePositive(limit);
        try (DataInputStream in = open(file)) {
            checkMagic(file, readInt(in, file), IMAGES_MAGIC, "3-D unsigned-byte image file");
            int count = readSize(in, file, "image count");
            int rows = readSize(in, file, "row count");
            int cols = readSize(in, file, "column count");
            int n = Math.min(count, limit);
            byte[] pixels = new byte[Math.multiplyExact(n, Math.multiplyExact(rows, cols))];
            readFully(in, pixels, file);
            return new Images(n, rows, cols, pixels);
        }
    }

    /** Reads at most {@code limit} labels (all if the file holds fewer); values are unsigned bytes. */
    public static byte[] readLabels(Path file, int limit) throws IOException {
        requirePositive(limit);
        try (DataInputStream in = open(file)) {
            checkMagic(file, readInt(in, file), LABELS_MAGIC, "1-D unsigned-byte label file");
            int count = readSize(in, file, "label count");
            byte[] labels = new byte[Math.min(count, limit)];
            readFully(in, labels, file);
            return labels;
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        InputStream raw;
        try {
            raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "IDX file not found");
        }
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            raw = new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
        }
        return new DataInputStream(raw);
    }

    private static void checkMagic(Path file, int actual, int expected, String what) throws IOException {
        if (actual != expected) {
            throw new IOException(String.format(
                    "%s: bad IDX magic number 0x%08X, expected 0x%08X (%s); is this the right file?",
                    file, actual, expected, what));
        }
    }

    private static int readInt(DataInputStream in, Path file) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw truncated(file, e);
        }
    }

    private static int readSize(DataInputStream in, Path file, String what) throws IOException {
        int v = readInt(in, file);
        if (v < 0) {
            throw new IOException(file + ": negative " + what + " " + v + " in IDX header");
        }
        return v;
    }

    private static void readFully(DataInputStream in, byte[] dst, Path file) throws IOException {
        try {
            in.readFully(dst);
        } catch (EOFException e) {
            throw truncated(file, e);
        }
    }

    private static IOException truncated(Path file, EOFException cause) {
        return new IOException(file + ": IDX file is truncated (ends before the sizes in its header)", cause);
    }

    private static void requirePositive(int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be > 0, got " + limit);
        }
    }
}
