package io.asyncpipeline.stage;

import io.asyncpipeline.transport.Message;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The model-specific work of one stage, one micro-batch at a time. Implemented by the adapters in
 * {@code io.asyncpipeline.model}; driven by {@link StageWorker} from one thread.
 *
 * <p>A stage has {@link #slots()} activation slots (replicas of its layers that share the parameters).
 * Contract: {@link #backward} on a slot runs on the layer state of that slot's most recent
 * {@link #forward}; the worker re-runs {@code forward} first whenever that state belongs to another
 * micro-batch or to other weights (recomputation), unless {@link #backwardRecomputesForward()}. With one
 * slot every backward after an interleaved forward recomputes (least memory); with as many slots as
 * micro-batches in flight none does.
 * Parameter gradients are summed over the backwards since the last {@link #update}.
 */
public interface StageComputation {

    /**
     * Called on the thread that runs this stage, before its first action of a run (a stage thread may have run this
     * or another stage in an earlier run; a replay calls it on the replay thread). Default: nothing.
     */
    default void enterThread() {
    }

    /**
     * Called on the same thread after its last action of a run, also after a failure: free what was kept per
     * thread (caches, sessions). Default: nothing.
     */
    default void leaveThread() {
    }

    /** Forward of one micro-batch; returns the stage outputs (for the last stage: nothing needed, may be empty). */
    INDArray[] forward(Message input, int slot, int iteration, int epoch);

    /** Number of activation slots. */
    int slots();

    /**
     * The slots' private weight copies when every slot computes with its own copy of the weights (weight
     * stashing without swaps), else null.
     */
    default SlotWeights slotWeights() {
        return null;
    }

    /**
     * Backward of the micro-batch of the last forward. {@code outputGradients} are the gradients w.r.t.
     * this stage's outputs (null on the last stage, which uses the labels in {@code input}).
     * Returns the gradients w.r.t. the stage inputs, or null on the first stage.
     */
    INDArray[] backward(Message input, INDArray[] outputGradients, int slot);

    /** Feature masks for the next stage, as propagated through this stage by the last forward (may be null). */
    INDArray[] lastOutputMasks();

    /** Data loss of the last backward (last stage only; NaN elsewhere). */
    double lastScore();

    /** Applies the summed gradients of {@code examples} examples as one optimizer step, then clears them. */
    void update(int iteration, int epoch, int examples);

    /**
     * Forgets gradients summed since the last {@link #update}. Called before every run, so backwards of
     * an aborted run (failure, interrupt) never leak into the first update of the next one.
     */
    default void discardGradients() {
    }

    /**
     * The stage's optimizer state as live arrays in a fixed order (writing them writes the state), or none for a
     * stateless updater: with {@link #params()} it is everything a stage process sends back after a fit, and what
     * the coordinator's copy of the stage takes in. Default: none.
     */
    default java.util.List<INDArray> optimizerState() {
        return java.util.List.of();
    }

    /** The stage's parameters as one flat array (a view of the model's parameters). */
    INDArray params();

    /**
     * A copy of the stage's parameters as one flat array, for weight stashing; {@link #restoreParams}
     * takes it back. Default: {@code params().dup()}.
     */
    default INDArray snapshotParams() {
        return params().dup();
    }

    /**
     * Copies the stage's parameters into {@code target}, an array from an earlier {@link #snapshotParams()}, so a
     * stash can reuse its copies instead of allocating one per update. Default: {@code target.assign(params())}.
     */
    default void snapshotParamsInto(INDArray target) {
        target.assign(params());
    }

    /** Sets the stage's parameters to a {@link #snapshotParams()} copy. Default: {@code params().assign(flat)}. */
    default void restoreParams(INDArray flat) {
        params().assign(flat);
    }

    /**
     * True when {@link #backward} recomputes the stage's forward itself and ignores the slot state (it
     * needs only the micro-batch's input and the current weights). The worker then never re-runs
     * {@link #forward} before a backward; it seeds the random generator for the micro-batch instead, as
     * it would before that forward.
     */
    default boolean backwardRecomputesForward() {
        return false;
    }
}
