package io.asyncpipeline.testdata;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Iris data (150 rows, 4 features, 3 classes) read offline from {@code iris.dat} inside the
 * deeplearning4j-core jar. Features are standardised per column; rows are shuffled with a fixed seed.
 */
public final class Iris {

    public static final int FEATURES = 4;
    public static final int CLASSES = 3;

    private Iris() {
    }

    /** All 150 rows as one DataSet of the given floating type. */
    public static DataSet all(DataType type) {
        List<double[]> rows = readRows();
        java.util.Collections.shuffle(rows, new Random(42));
        double[][] x = new double[rows.size()][FEATURES];
        double[][] y = new double[rows.size()][CLASSES];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, x[i], 0, FEATURES);
            y[i][(int) rows.get(i)[FEATURES]] = 1.0;
        }
        standardise(x);
        INDArray features = Nd4j.create(x).castTo(type);
        INDArray labels = Nd4j.create(y).castTo(type);
        return new DataSet(features, labels);
    }

    /** An iterator over all rows in mini-batches of {@code batchSize}. */
    public static DataSetIterator iterator(int batchSize, DataType type) {
        return new ListDataSetIterator<>(all(type).asList(), batchSize);
    }

    private static List<double[]> readRows() {
        InputStream in = Iris.class.getClassLoader().getResourceAsStream("iris.dat");
        if (in == null) {
            throw new IllegalStateException("iris.dat not on the classpath: add deeplearning4j-core (test scope)");
        }
        List<double[]> rows = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                String[] f = line.trim().split(",");
                double[] row = new double[FEATURES + 1];
                for (int i = 0; i <= FEATURES; i++) {
                    row[i] = Double.parseDouble(f[i]);
                }
                rows.add(row);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (rows.size() != 150) {
            throw new IllegalStateException("iris.dat should have 150 rows, read " + rows.size());
        }
        return rows;
    }

    private static void standardise(double[][] x) {
        for (int c = 0; c < FEATURES; c++) {
            double mean = 0;
            for (double[] row : x) {
                mean += row[c];
            }
            mean /= x.length;
            double var = 0;
            for (double[] row : x) {
                var += (row[c] - mean) * (row[c] - mean);
            }
            double sd = Math.sqrt(var / x.length);
            for (double[] row : x) {
                row[c] = (row[c] - mean) / sd;
            }
        }
    }
}
