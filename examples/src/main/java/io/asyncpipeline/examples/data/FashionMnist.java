package io.asyncpipeline.examples.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Fashion-MNIST (60k train / 10k test greyscale 28x28 images, 10 classes) read from local IDX files.
 *
 * <p>Nothing is downloaded. The files come from the Debian package {@code dataset-fashion-mnist}, which
 * installs {@code {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz} under {@link #DEFAULT_DIR}. Another
 * directory (gzipped or plain files) can be given to the constructor, with the system property
 * {@value #DIR_PROPERTY} or the environment variable {@value #DIR_ENV}.
 *
 * <p>Features are scaled to [0, 1]; labels are one-hot over {@link #NUM_CLASSES} classes.
 */
public final class FashionMnist {

    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final String DIR_PROPERTY = "fashionmnist.dir";
    public static final String DIR_ENV = "FASHION_MNIST_DIR";
    public static final String INSTALL_HINT = "apt-get install dataset-fashion-mnist";

    public static final int NUM_CLASSES = 10;
    public static final int HEIGHT = 28;
    public static final int WIDTH = 28;
    public static final int PIXELS = HEIGHT * WIDTH;
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** Which file pair to read. */
    public enum Split {
        TRAIN("train", 60_000), TEST("t10k", 10_000);

        private final String prefix;
        private final int size;

        Split(String prefix, int size) {
            this.prefix = prefix;
            this.size = size;
        }

        /** Number of examples in the official split. */
        public int size() {
            return size;
        }
    }

    /** Feature layout: {@code [N, 784]} for dense nets, {@code [N, 1, 28, 28]} for convolutional nets. */
    public enum Layout {
        FLAT, IMAGE
    }

    private final Path dir;

    /** Uses {@value #DIR_PROPERTY}, else {@value #DIR_ENV}, else {@link #DEFAULT_DIR}. */
    public FashionMnist() {
        this(defaultDir());
    }

    public FashionMnist(Path dir) {
        this.dir = dir;
    }

    public static Path defaultDir() {
        String p = System.getProperty(DIR_PROPERTY);
        if (p == null || p.isBlank()) {
            p = System.getenv(DIR_ENV);
        }
        return p == null || p.isBlank() ? DEFAULT_DIR : Path.of(p);
    }

    public Path dir() {
        return dir;
    }

    /** The image file of a split: the {@code .gz} file if present, else the uncompressed one. */
    public Path imagesFile(Split split) {
        return locate(split.prefix + "-images-idx3-ubyte");
    }

    /** The label file of a split: the {@code .gz} file if present, else the uncompressed one. */
    public Path labelsFile(Split split) {
        return locate(split.prefix + "-labels-idx1-ubyte");
    }

    private Path locate(String baseName) {
        Path gz = dir.resolve(baseName + ".gz");
        return Files.isRegularFile(gz) ? gz : dir.resolve(baseName);
    }

    /** True if all four files exist. */
    public boolean isAvailable() {
        for (Split s : Split.values()) {
            if (!Files.isRegularFile(imagesFile(s)) || !Files.isRegularFile(labelsFile(s))) {
                return false;
            }
        }
        return true;
    }

    /** Throws {@link MissingDatasetException} naming the first missing file and the install command. */
    public void requireAvailable() {
        for (Split s : Split.values()) {
            requireFile(imagesFile(s));
            requireFile(labelsFile(s));
        }
    }

    private static void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new MissingDatasetException("Fashion-MNIST file not found: " + file + "(.gz)."
                    + " Install the Debian package with `" + INSTALL_HINT + "` (as root),"
                    + " or point -D" + DIR_PROPERTY + "=... / " + DIR_ENV + " at a directory holding"
                    + " the four IDX files.");
        }
    }

    /**
     * Loads the first {@code limit} examples of a split (fewer if the split is smaller).
     *
     * @throws MissingDatasetException if a file is missing
     * @throws UncheckedIOException    if a file is malformed (the message names the file)
     */
    public DataSet load(Split split, int limit, Layout layout) {
        Path imgFile = imagesFile(split);
        Path lblFile = labelsFile(split);
        requireFile(imgFile);
        requireFile(lblFile);
        IdxFiles.Images images;
        byte[] labels;
        try {
            images = IdxFiles.readImages(imgFile, limit);
            labels = IdxFiles.readLabels(lblFile, limit);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        if (images.rows() != HEIGHT || images.cols() != WIDTH) {
            throw new IllegalStateException(imgFile + ": images are " + images.rows() + "x" + images.cols()
                    + ", expected " + HEIGHT + "x" + WIDTH);
        }
        if (labels.length != images.count()) {
            throw new IllegalStateException(imgFile + " has " + images.count() + " images but " + lblFile
                    + " has " + labels.length + " labels (after limit " + limit + ")");
        }
        int n = images.count();
        byte[] px = images.pixels();
        float[] features = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            features[i] = (px[i] & 0xFF) / 255f;
        }
        float[] oneHot = new float[n * NUM_CLASSES];
        for (int i = 0; i < n; i++) {
            int c = labels[i] & 0xFF;
            if (c >= NUM_CLASSES) {
                throw new IllegalStateException(lblFile + ": label " + c + " at index " + i
                        + " is outside 0.." + (NUM_CLASSES - 1));
            }
            oneHot[i * NUM_CLASSES + c] = 1f;
        }
        INDArray f = Nd4j.createFromArray(features);
        f = layout == Layout.IMAGE ? f.reshape('c', n, 1, HEIGHT, WIDTH) : f.reshape('c', n, PIXELS);
        DataSet ds = new DataSet(f, Nd4j.createFromArray(oneHot).reshape('c', n, NUM_CLASSES));
        ds.setLabelNames(CLASS_NAMES);
        return ds;
    }

    /**
     * Mini-batches over the first {@code limit} examples of a split.
     *
     * @param seed shuffle seed (a new permutation each epoch), or {@code null} for file order
     */
    public DataSetIterator iterator(Split split, int limit, Layout layout, int batchSize, Long seed) {
        return new ShuffledDataSetIterator(load(split, limit, layout), batchSize, seed);
    }
}
