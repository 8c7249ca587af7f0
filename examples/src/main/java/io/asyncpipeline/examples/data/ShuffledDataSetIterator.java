package io.asyncpipeline.examples.data;

import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Mini-batches over an in-memory {@link DataSet}, in a new seeded random order on every pass.
 *
 * <p>The same seed gives the same sequence of epochs. Features of any rank are supported (e.g.
 * {@code [N, 784]} or {@code [N, 1, 28, 28]}); the last batch may be smaller.
 */
public final class ShuffledDataSetIterator implements DataSetIterator {

    private static final long serialVersionUID = 1L;

    private final INDArray features2d;
    private final long[] featureShape;
    private final INDArray labels;
    private final int numExamples;
    private final int batchSize;
    private final boolean shuffle;
    private final Random random;
    private final int[] order;
    private int cursor;
    private DataSetPreProcessor preProcessor;
    private List<String> labelNames;

    /**
     * @param data      all examples; not modified
     * @param batchSize examples per batch, > 0
     * @param seed      shuffle seed, or {@code null} to keep the data's order
     */
    public ShuffledDataSetIterator(DataSet data, int batchSize, Long seed) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be > 0, got " + batchSize);
        }
        INDArray f = data.getFeatures();
        this.numExamples = Math.toIntExact(f.size(0));
        if (numExamples == 0) {
            throw new IllegalArgumentException("data set is empty");
        }
        this.featureShape = f.shape();
        this.features2d = f.reshape('c', numExamples, f.length() / numExamples);
        this.labels = data.getLabels();
        this.batchSize = batchSize;
        this.shuffle = seed != null;
        this.random = new Random(seed == null ? 0 : seed);
        this.order = new int[numExamples];
        this.labelNames = data.getLabelNamesList();
        reset();
    }

    @Override
    public boolean hasNext() {
        return cursor < numExamples;
    }

    @Override
    public DataSet next() {
        return next(batchSize);
    }

    @Override
    public DataSet next(int num) {
        if (!hasNext()) {
            throw new NoSuchElementException("no more batches; call reset()");
        }
        int n = Math.min(num, numExamples - cursor);
        int[] idx = Arrays.copyOfRange(order, cursor, cursor + n);
        cursor += n;
        INDArray f = Nd4j.pullRows(features2d, 1, idx);
        long[] shape = featureShape.clone();
        shape[0] = n;
        DataSet ds = new DataSet(f.reshape('c', shape), Nd4j.pullRows(labels, 1, idx));
        if (preProcessor != null) {
            preProcessor.preProcess(ds);
        }
        return ds;
    }

    /** Starts a new pass; with a seed, the order is a fresh permutation. */
    @Override
    public void reset() {
        for (int i = 0; i < numExamples; i++) {
            order[i] = i;
        }
        if (shuffle) {
            for (int i = numExamples - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        cursor = 0;
    }

    /** Number of examples in one pass. */
    public int numExamples() {
        return numExamples;
    }

    @Override
    public int inputColumns() {
        return Math.toIntExact(features2d.size(1));
    }

    @Override
    public int totalOutcomes() {
        return Math.toIntExact(labels.size(1));
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public int batch() {
        return batchSize;
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return labelNames;
    }
}
