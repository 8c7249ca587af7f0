package io.asyncpipeline.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Mini-batches written once to a file on the driver's disk, in order, and read back from it as often as asked: an
 * RDD's batches pulled to the driver before the stage tasks take the cluster's slots (a job reading the RDD while the
 * barrier job holds every slot would wait for ever). Each batch is stored as its length and DataSet's own bytes.
 */
final class SpooledBatches implements Iterable<DataSet>, AutoCloseable {

    private final Path file;
    private final long count;

    private SpooledBatches(Path file, long count) {
        this.file = file;
        this.count = count;
    }

    /** Writes every batch of {@code batches} to a new temporary file. */
    static SpooledBatches spool(Iterator<DataSet> batches) throws IOException {
        Path f = Files.createTempFile("dl4j-async-pipeline-batches", ".bin");
        long n = 0;
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(f)))) {
            ByteArrayOutputStream one = new ByteArrayOutputStream();
            while (batches.hasNext()) {
                DataSet d = batches.next();
                if (d == null) {
                    throw new IllegalArgumentException("batch " + n + " of the RDD is null");
                }
                one.reset();
                d.save(one);
                out.writeInt(one.size());
                one.writeTo(out);
                n++;
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(f);
            throw e;
        }
        return new SpooledBatches(f, n);
    }

    /** How many batches were written. */
    long count() {
        return count;
    }

    /** The batches in the order they were written, read from the file. */
    @Override
    public Iterator<DataSet> iterator() {
        DataInputStream in;
        try {
            in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the spooled batches " + file, e);
        }
        return new Iterator<>() {
            private long read;

            @Override
            public boolean hasNext() {
                if (read < count) {
                    return true;
                }
                closeQuietly();
                return false;
            }

            @Override
            public DataSet next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                try {
                    byte[] bytes = new byte[in.readInt()];
                    in.readFully(bytes);
                    DataSet d = new DataSet();
                    d.load(new BufferedInputStream(new ByteArrayInputStream(bytes)));
                    read++;
                    return d;
                } catch (EOFException e) {
                    closeQuietly();
                    throw new IllegalStateException("the spooled batches " + file + " end after " + read + " of "
                            + count, e);
                } catch (IOException e) {
                    closeQuietly();
                    throw new UncheckedIOException("cannot read the spooled batches " + file, e);
                }
            }

            private void closeQuietly() {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
        };
    }

    /** Deletes the file. */
    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
    }
}
