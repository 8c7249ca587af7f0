package io.asyncpipeline.model;

import io.asyncpipeline.runtime.PipelineModel;
import io.asyncpipeline.runtime.RunSettings;

/**
 * How one model type becomes a pipeline: checks the builder's options against the model, chooses the cuts
 * and builds the stages. One implementation per model type, in {@code model.<type>}.
 */
public interface ModelSetup {

    /**
     * @throws IllegalArgumentException naming the option or the part of the model that does not fit, before any
     *                                  state is changed
     */
    Built build(PipelineOptions options);

    /** The model cut into stages, and the validated run settings. */
    record Built(PipelineModel model, RunSettings settings) {
    }
}
