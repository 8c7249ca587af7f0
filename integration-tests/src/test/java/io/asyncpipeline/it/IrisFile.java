package io.asyncpipeline.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** Iris read offline from the {@code iris.dat} resource of deeplearning4j-core; min-max scaled, shuffled. */
final class IrisFile {

    private IrisFile() {
    }

    static DataSet load() {
        List<double[]> rows = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                IrisFile.class.getClassLoader().getResourceAsStream("iris.dat"), StandardCharsets.US_ASCII))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    rows.add(java.util.Arrays.stream(line.split(",")).mapToDouble(Double::parseDouble).toArray());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Collections.shuffle(rows, new Random(2024));
        double[][] x = new double[rows.size()][4];
        double[][] y = new double[rows.size()][3];
        for (int i = 0; i < rows.size(); i++) {
            for (int c = 0; c < 4; c++) {
                x[i][c] = rows.get(i)[c] / 8.0;
            }
            y[i][(int) rows.get(i)[4]] = 1;
        }
        return new DataSet(Nd4j.create(x).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT),
                Nd4j.create(y).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT));
    }
}
