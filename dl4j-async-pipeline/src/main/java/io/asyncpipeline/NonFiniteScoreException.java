package io.asyncpipeline;

/** The loss became NaN or infinite; raised on the last stage when {@code failOnNonFiniteScore} is on (the default). */
public final class NonFiniteScoreException extends ArithmeticException {

    private static final long serialVersionUID = 1L;

    public NonFiniteScoreException(int iteration, int microBatch, double score) {
        super("loss is " + score + " at iteration " + iteration + " (micro-batch " + microBatch + "): lower the learning"
                + " rate, clip gradients, check the data for NaNs, or build with failOnNonFiniteScore(false)");
    }
}
