package io.asyncpipeline.runtime;

import io.asyncpipeline.stage.StageComputation;
import java.util.List;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * The contract a model adapter fulfils for the runtime: a user's model cut into stages. The stages share
 * parameter memory with the user's model, so every completed update is visible in it at once; optimizer
 * state is copied in before a run ({@link #pullOptimizerState()}) and back after it
 * ({@link #pushOptimizerState()}). Implemented once per model type in {@code io.asyncpipeline.model.*}.
 */
public interface PipelineModel {

    /** The stage computations, first to last. */
    List<StageComputation> stages();

    /** Number of units (see {@link #unit()}) in each stage. */
    int[] partition();

    /** What {@link #partition()} counts: {@code "layers"}, {@code "vertices"} or {@code "ops"}. */
    String unit();

    /** The last unit before each cut (a layer name, a vertex name or a SameDiff variable), first to last. */
    List<String> cutAfter();

    /** The tensors that cross each cut, first to last, in the order of the messages' tensors. */
    List<List<String>> crossing();

    /**
     * Whether the model trains from multi-input / multi-output batches ({@code fit(MultiDataSetIterator)});
     * every model takes {@code DataSet}s.
     */
    boolean takesMultiDataSets();

    /** Checks one batch against the model; throws {@link IllegalArgumentException} naming the problem. */
    void checkBatch(MultiDataSet batch);

    /** Copies the user's optimizer state into the stages. */
    void pullOptimizerState();

    /** Copies the stages' optimizer state back into the user's model. */
    void pushOptimizerState();

    int iterationCount();

    int epochCount();

    /** Sets the user's model's counters (and the stages'). */
    void setCounters(int iteration, int epoch);

    /** Reports a score and an iteration to the user's model and its listeners (last stage thread). */
    void reportIteration(int iteration, int epoch, double score);

    /** Notifies listeners of an epoch start or end. */
    void epochEvent(boolean start);

    /** Writes the user's model with its optimizer state and counters (call only at a drained point). */
    void saveCheckpoint(java.io.File file) throws java.io.IOException;
}
