package io.asyncpipeline.examples.data;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files for tests. */
final class IdxTestFiles {

    private IdxTestFiles() {
    }

    /** Image file with pixel {@code (i, r, c) = pixel(i, r, c)}. */
    static Path writeImages(Path file, int magic, int count, int rows, int cols, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        out.writeInt(count);
        out.writeInt(rows);
        out.writeInt(cols);
        for (int i = 0; i < count; i++) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    out.writeByte(pixel(i, r, c));
                }
            }
        }
        return write(file, bytes.toByteArray(), gzip);
    }

    static Path writeLabels(Path file, int magic, byte[] labels, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        out.writeInt(labels.length);
        out.write(labels);
        return write(file, bytes.toByteArray(), gzip);
    }

    /** Deterministic test pattern covering 0 and 255. */
    static int pixel(int image, int row, int col) {
        return (image * 97 + row * 31 + col * 7) % 256;
    }

    static Path write(Path file, byte[] content, boolean gzip) throws IOException {
        try (OutputStream os = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            os.write(content);
        }
        return file;
    }
}
