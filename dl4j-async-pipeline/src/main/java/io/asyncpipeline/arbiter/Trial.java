package io.asyncpipeline.arbiter;

/**
 * One candidate as {@link PipelineTaskCreator} ran it: {@link PipelineTaskCreator#trials()} lists them all, the
 * failed ones too (Arbiter's runner keeps results of completed candidates only).
 *
 * @param index     Arbiter's candidate index (-1 for a run outside a search)
 * @param candidate what was trained: a {@link PipelineCandidate}
 * @param score     the score function's value, or null when the candidate failed
 * @param failure   why it failed (one line: "diverged: ..." for a non-finite loss or score, else the exception), or null
 * @param summary   the pipeline metrics of the training run, or null when it failed before training finished
 * @param seconds   wall time of the whole candidate (build, training, scoring)
 */
public record Trial(int index, PipelineCandidate candidate, Double score, String failure, RunSummary summary,
                    double seconds) {

    /** True when the candidate trained and was scored. */
    public boolean completed() {
        return failure == null;
    }
}
