package io.asyncpipeline.examples.data;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.IntFunction;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * A one-pass iterator over {@code count} DataSets made on demand by {@code make(i)}: a long run holds the batch it
 * trains on, not every batch of the run. No reset, no asynchronous prefetch.
 */
public final class GeneratedDataSetIterator implements DataSetIterator {

    private final int count;
    private final int batch;
    private final IntFunction<DataSet> make;
    private DataSetPreProcessor preProcessor;
    private int next;

    public GeneratedDataSetIterator(int count, int batch, IntFunction<DataSet> make) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
        this.count = count;
        this.batch = batch;
        this.make = make;
    }

    @Override
    public boolean hasNext() {
        return next < count;
    }

    @Override
    public DataSet next() {
        if (!hasNext()) {
            throw new NoSuchElementException("all " + count + " batches made");
        }
        DataSet d = make.apply(next++);
        if (preProcessor != null) {
            preProcessor.preProcess(d);
        }
        return d;
    }

    /** Batches are made whole; {@code num} is ignored, as ND4J's list iterators do when it matches the batch. */
    @Override
    public DataSet next(int num) {
        return next();
    }

    @Override
    public int inputColumns() {
        throw new UnsupportedOperationException("not known before a batch is made");
    }

    @Override
    public int totalOutcomes() {
        throw new UnsupportedOperationException("not known before a batch is made");
    }

    @Override
    public boolean resetSupported() {
        return false;
    }

    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void reset() {
        throw new UnsupportedOperationException("a generated iterator is read once; make a new one");
    }

    @Override
    public int batch() {
        return batch;
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
        return null;
    }
}
