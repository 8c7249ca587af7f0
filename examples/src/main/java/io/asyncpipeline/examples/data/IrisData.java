package io.asyncpipeline.examples.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The 150-example Iris data set, read from the {@value #RESOURCE} resource that ships in the
 * deeplearning4j-core jar (lines {@code sepalLength,sepalWidth,petalLength,petalWidth,classIndex}).
 *
 * <p>Features are standardised per column (zero mean, unit population variance); labels are one-hot
 * over 3 classes; rows are shuffled with a fixed seed.
 */
public final class IrisData {

    public static final String RESOURCE = "iris.dat";
    public static final int NUM_EXAMPLES = 150;
    public static final int NUM_FEATURES = 4;
    public static final int NUM_CLASSES = 3;
    public static final long DEFAULT_SEED = 42L;
    public static final List<String> CLASS_NAMES = List.of("setosa", "versicolor", "virginica");

    private IrisData() {
    }

    /** All 150 examples, shuffled with {@link #DEFAULT_SEED}. */
    public static DataSet load() {
        return load(DEFAULT_SEED);
    }

    /** All 150 examples, shuffled with {@code seed}. */
    public static DataSet load(long seed) {
        List<double[]> rows = readRows();
        if (rows.size() != NUM_EXAMPLES) {
            throw new IllegalStateException(RESOURCE + ": expected " + NUM_EXAMPLES + " rows, got " + rows.size());
        }
        int n = rows.size();
        Random rnd = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            double[] t = rows.get(i);
            rows.set(i, rows.get(j));
            rows.set(j, t);
        }
        double[] mean = new double[NUM_FEATURES];
        double[] std = new double[NUM_FEATURES];
        for (double[] r : rows) {
            for (int c = 0; c < NUM_FEATURES; c++) {
                mean[c] += r[c] / n;
            }
        }
        for (double[] r : rows) {
            for (int c = 0; c < NUM_FEATURES; c++) {
                double d = r[c] - mean[c];
                std[c] += d * d / n;
            }
        }
        for (int c = 0; c < NUM_FEATURES; c++) {
            std[c] = Math.sqrt(std[c]);
        }
        float[] features = new float[n * NUM_FEATURES];
        float[] labels = new float[n * NUM_CLASSES];
        for (int i = 0; i < n; i++) {
            double[] r = rows.get(i);
            for (int c = 0; c < NUM_FEATURES; c++) {
                features[i * NUM_FEATURES + c] = (float) ((r[c] - mean[c]) / std[c]);
            }
            labels[i * NUM_CLASSES + (int) r[NUM_FEATURES]] = 1f;
        }
        DataSet ds = new DataSet(Nd4j.createFromArray(features).reshape('c', n, NUM_FEATURES),
                Nd4j.createFromArray(labels).reshape('c', n, NUM_CLASSES));
        ds.setLabelNames(CLASS_NAMES);
        return ds;
    }

    /** Mini-batches over all 150 examples, reshuffled each epoch. */
    public static DataSetIterator iterator(int batchSize, long seed) {
        return new ShuffledDataSetIterator(load(seed), batchSize, seed);
    }

    private static List<double[]> readRows() {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        InputStream in = cl == null ? null : cl.getResourceAsStream(RESOURCE);
        if (in == null) {
            in = IrisData.class.getClassLoader().getResourceAsStream(RESOURCE);
        }
        if (in == null) {
            throw new MissingDatasetException("classpath resource '" + RESOURCE + "' not found;"
                    + " it ships in org.deeplearning4j:deeplearning4j-core, add that dependency");
        }
        List<double[]> rows = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                line = line.strip();
                if (line.isEmpty()) {
                    continue;
                }
                String[] parts = line.split(",");
                if (parts.length != NUM_FEATURES + 1) {
                    throw new IllegalStateException(RESOURCE + " line " + lineNo + ": expected "
                            + (NUM_FEATURES + 1) + " comma-separated fields, got '" + line + "'");
                }
                double[] row = new double[NUM_FEATURES + 1];
                for (int c = 0; c <= NUM_FEATURES; c++) {
                    row[c] = Double.parseDouble(parts[c].strip());
                }
                int label = (int) row[NUM_FEATURES];
                if (label != row[NUM_FEATURES] || label < 0 || label >= NUM_CLASSES) {
                    throw new IllegalStateException(RESOURCE + " line " + lineNo + ": bad class '"
                            + parts[NUM_FEATURES] + "'");
                }
                rows.add(row);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
        return rows;
    }
}
