package io.asyncpipeline.model;

import java.io.File;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a file so that readers see the old content or the new one, never a half-written file: the content goes to a
 * temporary file beside the target, which then replaces it in one rename.
 */
public final class AtomicFile {

    /** Writes the content of a file. */
    @FunctionalInterface
    public interface Writer {
        void write(File file) throws IOException;
    }

    private AtomicFile() {
    }

    public static void write(File target, Writer writer) throws IOException {
        Path t = target.toPath().toAbsolutePath();
        Path dir = t.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp = Files.createTempFile(dir, "." + t.getFileName(), ".tmp");
        try {
            writer.write(tmp.toFile());
            try {
                Files.move(tmp, t, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, t, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
