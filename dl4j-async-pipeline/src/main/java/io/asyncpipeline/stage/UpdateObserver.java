package io.asyncpipeline.stage;

/** Told by the last stage after each of its backwards and updates (drives DL4J listeners and NaN checks). */
@FunctionalInterface
public interface UpdateObserver {
    /**
     * @param step      update index within this run
     * @param iteration the model iteration the update used
     * @param epoch     the epoch
     * @param score     example-weighted mean data loss over the micro-batches of this update
     * @param lastMicroBatch the last micro-batch that contributed
     */
    void afterUpdate(int step, int iteration, int epoch, double score, int lastMicroBatch);

    /**
     * Called by the last stage after the backward of each micro-batch, before its gradients are sent to
     * the previous stage or applied: throwing here keeps the micro-batch out of every stage's parameters.
     *
     * @param iteration  the model iteration of the update this micro-batch belongs to
     * @param microBatch the micro-batch
     * @param score      its data loss
     */
    default void afterLoss(int iteration, int microBatch, double score) {
    }
}
