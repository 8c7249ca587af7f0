package io.asyncpipeline.stage;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What crosses a stage boundary for one micro-batch: activations going forward (with the labels and
 * masks that later stages need), or gradients w.r.t. those activations going backward. Arrays are
 * detached from workspaces before they are put in a message. {@link #END} marks the end of the stream.
 */
public final class Message {

    /** The end-of-stream marker. */
    public static final Message END = new Message(-1, -1, 0, null, null, null, null);

    private final int microBatch;
    private final int epoch;
    private final int examples;
    private final INDArray[] tensors;
    private final INDArray[] labels;
    private final INDArray[] featureMasks;
    private final INDArray[] labelMasks;

    public Message(int microBatch, int epoch, int examples, INDArray[] tensors, INDArray[] labels,
                   INDArray[] featureMasks, INDArray[] labelMasks) {
        this.microBatch = microBatch;
        this.epoch = epoch;
        this.examples = examples;
        this.tensors = tensors;
        this.labels = labels;
        this.featureMasks = featureMasks;
        this.labelMasks = labelMasks;
    }

    /** The same micro-batch with other tensors (labels and masks travel along). */
    public Message withTensors(INDArray[] newTensors) {
        return new Message(microBatch, epoch, examples, newTensors, labels, featureMasks, labelMasks);
    }

    public boolean isEnd() {
        return this == END;
    }

    public int microBatch() {
        return microBatch;
    }

    public int epoch() {
        return epoch;
    }

    /** Number of examples in the micro-batch. */
    public int examples() {
        return examples;
    }

    public INDArray[] tensors() {
        return tensors;
    }

    public INDArray[] labels() {
        return labels;
    }

    public INDArray[] featureMasks() {
        return featureMasks;
    }

    public INDArray[] labelMasks() {
        return labelMasks;
    }

    /** Bytes held by the tensors of this message (for stash accounting). */
    public long tensorBytes() {
        long b = 0;
        if (tensors != null) {
            for (INDArray t : tensors) {
                b += t == null ? 0 : t.length() * t.dataType().width();
            }
        }
        return b;
    }
}
