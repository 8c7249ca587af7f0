package io.asyncpipeline.stage;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Private weight copies, one per activation slot, for weight stashing without swaps: before a fresh
 * forward the worker loads the current weights into the slot's copy, which then stays the micro-batch's
 * stashed version until its backward.
 */
public final class SlotWeights {

    private final INDArray current;
    private final INDArray[] copies;

    /**
     * @param current the stage's live parameters
     * @param copies  each slot's parameter array (the replica computes with it)
     */
    public SlotWeights(INDArray current, INDArray[] copies) {
        this.current = current;
        this.copies = copies.clone();
    }

    /** Copies the current weights into slot {@code slot}. */
    void load(int slot) {
        copies[slot].assign(current);
    }

    /** Bytes held by the copies. */
    long bytes() {
        long b = 0;
        for (INDArray w : copies) {
            b += w.length() * w.dataType().width();
        }
        return b;
    }
}
