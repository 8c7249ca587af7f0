/**
 * Arbiter hyperparameter search through the pipeline: updater spaces for {@link io.asyncpipeline.updater.DiscountedNadam}
 * and {@link io.asyncpipeline.updater.DelayCorrectedNesterov} that slot into Arbiter's {@code MultiLayerSpace} and
 * {@code ComputationGraphSpace}, a {@link io.asyncpipeline.arbiter.PipelineSpace} of the pipeline's own settings, the
 * {@link io.asyncpipeline.arbiter.PipelineCandidateSpace} that combines them (for SameDiff models too), and
 * {@link io.asyncpipeline.arbiter.PipelineTaskCreator}, which trains every candidate with the asynchronous pipeline.
 *
 * <p>The only package that uses Arbiter ({@code org.deeplearning4j:arbiter-deeplearning4j} 1.0.0-beta7, an optional
 * dependency of the library): a project that tunes declares it, with the exclusions shown in the README.
 */
package io.asyncpipeline.arbiter;
