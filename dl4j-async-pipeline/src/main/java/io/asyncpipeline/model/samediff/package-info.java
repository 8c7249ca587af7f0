/**
 * Pipeline-parallel training of a user's {@link org.nd4j.autodiff.samediff.SameDiff} graph: the graph is
 * cut into consecutive stages, each a graph of its own that shares the user's parameter arrays.
 *
 * <p>One word names the split: a <em>cut</em>. A cut after variable {@code v} puts the ops computing
 * {@code v} before it and the rest of the path to the loss after it; {@code v} is the <em>cut
 * variable</em>, the single tensor that crosses the cut (forward: its value, backward: its gradient). The
 * feature placeholder is read only before the first cut and the label placeholder only after the last.
 *
 * <p>The flow, from the builder's options to the model the runtime trains:
 * <pre>
 *  SameDiffSetup             options: TrainingConfig and placeholder shape checks, cutAfter(...) or stages(P)
 *     |
 *     v
 *  SameDiffPartitioner       where to cut: the candidate cut variables (SameDiffCuts.candidates), op costs
 *     |  (SameDiffCuts)       from one forward pass, balanced cuts; named cuts are checked (SameDiffCuts.check)
 *     v
 *  SameDiffSplitter          the stage graphs: sd.dup() per stage, the input cut variable replaced by a
 *     |                      placeholder, a surrogate loss sum(output * gradient) on all but the last
 *     v
 *  SameDiffStage             one stage's forward, backward (recomputes the forward) and update, as the
 *     |                      runtime's StageComputation
 *     v
 *  SameDiffPipelineModel     the model the runtime trains: the stages, the cuts, the counters and the
 *                            optimizer state of the user's graph
 * </pre>
 *
 * <p>Shared by all of them: {@code SameDiffGraphs} (walks back through the graph, the TrainingConfig's
 * feature and label placeholders, zeros shaped like a placeholder) and {@link
 * io.asyncpipeline.model.samediff.SameDiffGradients} (gradient functions without ND4J's console noise).
 */
package io.asyncpipeline.model.samediff;
