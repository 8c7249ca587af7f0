package io.asyncpipeline.transport;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What crosses a cut for one micro-batch, as plain data: activations going forward (with the labels and
 * masks later stages need) or gradients with respect to those activations going backward; or the end of
 * the stream; or a halt carrying the failure that stopped the pipeline. Arrays are detached from
 * workspaces before they are put in a message. A message is not changed after it is sent.
 */
public final class Message {

    /** What a message is. */
    public enum Kind { DATA, END, HALT }

    /** The end-of-stream marker. */
    public static final Message END = new Message(Kind.END, -1, -1, 0, null, null, null, null, null);

    private final Kind kind;
    private final int microBatch;
    private final int epoch;
    private final int examples;
    private final INDArray[] tensors;
    private final INDArray[] labels;
    private final INDArray[] featureMasks;
    private final INDArray[] labelMasks;
    private final String error;

    /** A data message: activations (forward) or gradients (backward) of one micro-batch. */
    public Message(int microBatch, int epoch, int examples, INDArray[] tensors, INDArray[] labels,
                   INDArray[] featureMasks, INDArray[] labelMasks) {
        this(Kind.DATA, microBatch, epoch, examples, tensors, labels, featureMasks, labelMasks, null);
    }

    private Message(Kind kind, int microBatch, int epoch, int examples, INDArray[] tensors, INDArray[] labels,
                    INDArray[] featureMasks, INDArray[] labelMasks, String error) {
        this.kind = kind;
        this.microBatch = microBatch;
        this.epoch = epoch;
        this.examples = examples;
        this.tensors = tensors;
        this.labels = labels;
        this.featureMasks = featureMasks;
        this.labelMasks = labelMasks;
        this.error = error;
    }

    /**
     * A halt: the pipeline stopped because stage {@code stage} failed at micro-batch {@code microBatch}.
     * In-JVM transports stop every stage through the shared {@link HaltSignal} instead; a transport
     * between processes sends this to each peer.
     */
    public static Message halt(int stage, int microBatch, String error) {
        return new Message(Kind.HALT, microBatch, stage, 0, null, null, null, null, error == null ? "" : error);
    }

    /** The same micro-batch with other tensors (labels and masks travel along). */
    public Message withTensors(INDArray[] newTensors) {
        return new Message(kind, microBatch, epoch, examples, newTensors, labels, featureMasks, labelMasks, error);
    }

    public Kind kind() {
        return kind;
    }

    public boolean isEnd() {
        return kind == Kind.END;
    }

    public boolean isHalt() {
        return kind == Kind.HALT;
    }

    public int microBatch() {
        return microBatch;
    }

    /** The epoch of a data message; for a halt, the stage that failed. */
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

    /** A halt's description of the failure; null for other kinds. */
    public String error() {
        return error;
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

    @Override
    public String toString() {
        return switch (kind) {
            case END -> "END";
            case HALT -> "HALT(stage " + epoch + ", micro-batch " + microBatch + ": " + error + ")";
            case DATA -> "DATA(micro-batch " + microBatch + ", epoch " + epoch + ", " + examples + " examples, "
                    + (tensors == null ? 0 : tensors.length) + " tensors)";
        };
    }
}
