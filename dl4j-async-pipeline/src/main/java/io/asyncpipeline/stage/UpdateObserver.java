package io.asyncpipeline.stage;

/** Told by the last stage after each of its updates (drives DL4J listeners and NaN checks). */
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
}
