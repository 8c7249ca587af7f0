package io.asyncpipeline.examples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

class FashionMnistTest {

    private static final byte[] TRAIN_LABELS = {9, 0, 3, 7, 1};

    @TempDir
    Path tmp;

    /** Train split gzipped (as in the Debian package), test split uncompressed. */
    private FashionMnist writeTinyDataset() throws IOException {
        IdxTestFiles.writeImages(tmp.resolve("train-images-idx3-ubyte.gz"), IdxFiles.IMAGES_MAGIC, 5, 28, 28, true);
        IdxTestFiles.writeLabels(tmp.resolve("train-labels-idx1-ubyte.gz"), IdxFiles.LABELS_MAGIC, TRAIN_LABELS, true);
        IdxTestFiles.writeImages(tmp.resolve("t10k-images-idx3-ubyte"), IdxFiles.IMAGES_MAGIC, 2, 28, 28, false);
        IdxTestFiles.writeLabels(tmp.resolve("t10k-labels-idx1-ubyte"), IdxFiles.LABELS_MAGIC, new byte[] {2, 5}, false);
        return new FashionMnist(tmp);
    }

    @Test
    void loadsFlatScaledOneHot() throws IOException {
        FashionMnist fm = writeTinyDataset();
        assertTrue(fm.isAvailable());
        DataSet ds = fm.load(FashionMnist.Split.TRAIN, 100, FashionMnist.Layout.FLAT);
        assertArrayEquals(new long[] {5, 784}, ds.getFeatures().shape());
        assertArrayEquals(new long[] {5, 10}, ds.getLabels().shape());
        INDArray f = ds.getFeatures();
        assertEquals(0.0, f.minNumber().doubleValue(), 0.0);
        assertEquals(1.0, f.maxNumber().doubleValue(), 1e-6);
        assertEquals(IdxTestFiles.pixel(3, 10, 20) / 255.0, f.getDouble(3, 10 * 28 + 20), 1e-6);
        for (int i = 0; i < TRAIN_LABELS.length; i++) {
            assertEquals(1.0, ds.getLabels().getRow(i).sumNumber().doubleValue(), 0.0);
            assertEquals(1.0, ds.getLabels().getDouble(i, TRAIN_LABELS[i]), 0.0);
        }
    }

    @Test
    void imageLayoutAndLimit() throws IOException {
        FashionMnist fm = writeTinyDataset();
        DataSet ds = fm.load(FashionMnist.Split.TRAIN, 3, FashionMnist.Layout.IMAGE);
        assertArrayEquals(new long[] {3, 1, 28, 28}, ds.getFeatures().shape());
        assertEquals(IdxTestFiles.pixel(2, 5, 6) / 255.0, ds.getFeatures().getDouble(2, 0, 5, 6), 1e-6);
        DataSet test = fm.load(FashionMnist.Split.TEST, 100, FashionMnist.Layout.FLAT);
        assertEquals(2, test.numExamples());
        assertEquals(1.0, test.getLabels().getDouble(1, 5), 0.0);
    }

    @Test
    void iteratorCoversEveryExampleOncePerEpoch() throws IOException {
        FashionMnist fm = writeTinyDataset();
        DataSetIterator it = fm.iterator(FashionMnist.Split.TRAIN, 100, FashionMnist.Layout.IMAGE, 2, 7L);
        for (int epoch = 0; epoch < 2; epoch++) {
            Set<Integer> seen = new HashSet<>();
            int batches = 0;
            while (it.hasNext()) {
                DataSet b = it.next();
                batches++;
                assertEquals(4, b.getFeatures().rank());
                for (int i = 0; i < b.numExamples(); i++) {
                    // pixel (0,0) identifies the image: (97 * image) % 256, distinct for 5 images
                    int p00 = (int) Math.round(b.getFeatures().getDouble(i, 0, 0, 0) * 255);
                    int label = b.getLabels().getRow(i).argMax().getInt(0);
                    int image = -1;
                    for (int k = 0; k < 5; k++) {
                        if (IdxTestFiles.pixel(k, 0, 0) == p00) {
                            image = k;
                        }
                    }
                    assertEquals(TRAIN_LABELS[image], label, "features and labels stay paired");
                    assertTrue(seen.add(image));
                }
            }
            assertEquals(3, batches);
            assertEquals(5, seen.size());
            it.reset();
        }
    }

    @Test
    void missingFilesGiveInstallHint() {
        FashionMnist fm = new FashionMnist(tmp.resolve("absent"));
        assertFalse(fm.isAvailable());
        MissingDatasetException e = assertThrows(MissingDatasetException.class, fm::requireAvailable);
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte"), e.getMessage());
        assertThrows(MissingDatasetException.class,
                () -> fm.load(FashionMnist.Split.TEST, 1, FashionMnist.Layout.FLAT));
    }

    @Test
    void swappedFilesAreRejectedWithFileName() throws IOException {
        // an image file where the labels should be
        IdxTestFiles.writeImages(tmp.resolve("t10k-images-idx3-ubyte"), IdxFiles.IMAGES_MAGIC, 1, 28, 28, false);
        IdxTestFiles.writeImages(tmp.resolve("t10k-labels-idx1-ubyte"), IdxFiles.IMAGES_MAGIC, 1, 28, 28, false);
        FashionMnist fm = new FashionMnist(tmp);
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> fm.load(FashionMnist.Split.TEST, 1, FashionMnist.Layout.FLAT));
        assertTrue(e.getMessage().contains("t10k-labels-idx1-ubyte"), e.getMessage());
        assertTrue(e.getMessage().contains("bad IDX magic number"), e.getMessage());
    }
}
