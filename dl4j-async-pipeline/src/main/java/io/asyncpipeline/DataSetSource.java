package io.asyncpipeline;

import io.asyncpipeline.stage.Message;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Feeds the first stage from a {@link DataSetIterator}. Asynchronous schedules take each
 * {@code DataSet} as one micro-batch; synchronous ones split it into M equal micro-batches.
 *
 * <p>A batch that cannot be used (wrong shape, not divisible by M) ends the stream cleanly, so the
 * pipeline drains with every completed update kept, and the error is raised after the run.
 */
final class DataSetSource implements CountingSource {

    private final DataSetIterator iterator;
    private final int microBatchesPerBatch;
    private final int epoch;
    private final AtomicBoolean stop;
    private final Consumer<DataSet> check;
    private final Deque<Message> pending = new ArrayDeque<>();
    private int next;
    private int examples;
    private RuntimeException error;

    /**
     * @param microBatchesPerBatch 1 for asynchronous schedules, M for synchronous ones
     * @param check                validates each batch against the model (throws IllegalArgumentException)
     */
    DataSetSource(DataSetIterator iterator, int microBatchesPerBatch, int epoch, AtomicBoolean stop,
                  Consumer<DataSet> check) {
        this.iterator = iterator;
        this.microBatchesPerBatch = microBatchesPerBatch;
        this.epoch = epoch;
        this.stop = stop;
        this.check = check;
    }

    @Override
    public Message next() {
        if (pending.isEmpty() && !refill()) {
            return Message.END;
        }
        return pending.poll();
    }

    private boolean refill() {
        if (error != null || stop.get() || !iterator.hasNext()) {
            return false;
        }
        DataSet ds = iterator.next();
        try {
            check.accept(ds);
            split(ds);
            return true;
        } catch (IllegalArgumentException e) {
            error = e;
            return false;
        }
    }

    private void split(DataSet ds) {
        int batch = (int) ds.getFeatures().size(0);
        int m = microBatchesPerBatch;
        if (batch % m != 0) {
            throw new IllegalArgumentException("microBatches(" + m + ") does not divide the batch of " + batch
                    + " examples (batch " + examples + " examples into the epoch): use a batch size that is a multiple of "
                    + m + " (and drop or pad a smaller last batch), or choose microBatches among the divisors of " + batch);
        }
        int size = batch / m;
        for (int i = 0; i < m; i++) {
            long from = (long) i * size;
            pending.add(new Message(next++, epoch, size,
                    new INDArray[] {rows(ds.getFeatures(), from, size)},
                    new INDArray[] {rows(ds.getLabels(), from, size)},
                    maskRows(ds.getFeaturesMaskArray(), from, size),
                    maskRows(ds.getLabelsMaskArray(), from, size)));
        }
        examples += batch;
    }

    private static INDArray[] maskRows(INDArray mask, long from, int size) {
        return mask == null ? null : new INDArray[] {rows(mask, from, size)};
    }

    /** A detached copy of rows {@code from .. from+size-1} (the iterator may reuse or own its arrays). */
    static INDArray rows(INDArray a, long from, int size) {
        if (a == null) {
            return null;
        }
        if (from == 0 && size == a.size(0)) {
            return a.dup();
        }
        INDArrayIndex[] idx = new INDArrayIndex[a.rank()];
        idx[0] = NDArrayIndex.interval(from, from + size);
        for (int d = 1; d < idx.length; d++) {
            idx[d] = NDArrayIndex.all();
        }
        return a.get(idx).dup();
    }

    /** Micro-batches handed out so far. */
    @Override
    public int microBatches() {
        return next;
    }

    /** Examples handed out so far. */
    @Override
    public int examples() {
        return examples;
    }

    /** The batch error that ended the stream early, or null. */
    @Override
    public RuntimeException error() {
        return error;
    }
}
