package io.asyncpipeline.model;

import io.asyncpipeline.stage.StageComputation;
import java.util.List;

/**
 * A user's model cut into stages. The stages share parameter memory with the user's model, so every
 * completed update is visible in it at once; optimizer state is copied in before a run
 * ({@link #pullOptimizerState()}) and back after it ({@link #pushOptimizerState()}).
 */
public interface PipelineModel {

    /** The stage computations, first to last. */
    List<StageComputation> stages();

    /** Number of layers (or vertices / ops) in each stage. */
    int[] partition();

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
