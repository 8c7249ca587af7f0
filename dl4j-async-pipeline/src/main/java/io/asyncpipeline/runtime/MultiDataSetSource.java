package io.asyncpipeline.runtime;

import io.asyncpipeline.transport.Message;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

/**
 * Feeds the first stage of a graph pipeline from a {@link MultiDataSetIterator}: message tensors are the
 * features in the graph's input order, labels in its output order. Asynchronous schedules take each
 * batch as one micro-batch; synchronous ones split it into M equal micro-batches. A batch that cannot be
 * used ends the stream cleanly, so the pipeline drains with every completed update kept, and the error is
 * raised after the run. A {@code DataSetIterator} is read through DL4J's {@code MultiDataSetIteratorAdapter}.
 */
final class MultiDataSetSource implements CountingSource {

    private boolean iteratorFailed;

    private final MultiDataSetIterator iterator;
    private final int microBatchesPerBatch;
    private final int epoch;
    private final AtomicBoolean stop;
    private final Consumer<MultiDataSet> check;
    private final Deque<Message> pending = new ArrayDeque<>();
    private int next;
    private int examples;
    private RuntimeException error;

    MultiDataSetSource(MultiDataSetIterator iterator, int microBatchesPerBatch, int epoch, AtomicBoolean stop,
                       Consumer<MultiDataSet> check) {
        this.iterator = iterator;
        this.microBatchesPerBatch = microBatchesPerBatch;
        this.epoch = epoch;
        this.stop = stop;
        this.check = check;
    }

    @Override
    public boolean failedInIterator() {
        return iteratorFailed;
    }

    @Override
    public Message next() {
        if (pending.isEmpty() && !refill()) {
            return Message.END;
        }
        return pending.poll();
    }

    private boolean refill() {
        if (error != null || stop.get()) {
            return false;
        }
        MultiDataSet mds;
        try {
            if (!iterator.hasNext()) {
                return false;
            }
            mds = iterator.next();
        } catch (RuntimeException | Error e) {
            iteratorFailed = true;           // the user's iterator threw: the message will say so
            throw e;
        }
        try {
            check.accept(mds);
            split(mds);
            return true;
        } catch (IllegalArgumentException e) {
            error = e;
            return false;
        }
    }

    private void split(MultiDataSet mds) {
        int batch = (int) mds.getFeatures(0).size(0);
        int m = microBatchesPerBatch;
        if (batch % m != 0) {
            throw new IllegalArgumentException("microBatches(" + m + ") does not divide the batch of " + batch
                    + " examples (batch " + examples + " examples into the epoch): use a batch size that is a multiple of "
                    + m + " (and drop or pad a smaller last batch), or choose microBatches among the divisors of " + batch);
        }
        int size = batch / m;
        for (int i = 0; i < m; i++) {
            long from = (long) i * size;
            pending.add(new Message(next++, epoch, size, rows(mds.getFeatures(), from, size),
                    rows(mds.getLabels(), from, size), rows(mds.getFeaturesMaskArrays(), from, size),
                    rows(mds.getLabelsMaskArrays(), from, size)));
        }
        examples += batch;
    }

    private static INDArray[] rows(INDArray[] arrays, long from, int size) {
        if (arrays == null) {
            return null;
        }
        INDArray[] out = new INDArray[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            out[i] = rows(arrays[i], from, size);
        }
        return out;
    }

    /** A detached copy of rows {@code from .. from+size-1} (the iterator may reuse or own its arrays). */
    private static INDArray rows(INDArray a, long from, int size) {
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

    @Override
    public int microBatches() {
        return next;
    }

    @Override
    public int examples() {
        return examples;
    }

    @Override
    public RuntimeException error() {
        return error;
    }
}
