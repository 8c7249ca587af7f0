package io.asyncpipeline.model.dl4j;

import io.asyncpipeline.runtime.PipelineModel;
import io.asyncpipeline.stage.StageComputation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.util.ModelSerializer;

/**
 * What a {@code MultiLayerNetwork} pipeline and a {@code ComputationGraph} pipeline share: the stages own
 * contiguous ranges of the user's flat parameter vector (stage k from {@code offset(k)}), so optimizer state
 * is copied range by range between the user's updater and each stage's ({@link UpdaterStates}); scores,
 * counters and listener events go to the user's model as DL4J's own {@code fit} sends them; a checkpoint
 * is {@link ModelSerializer#writeModel(Model, java.io.File, boolean)} with the updater state.
 *
 * @param <M> the user's model type
 * @param <S> the stage type
 */
public abstract class Dl4jPipelineModel<M extends Model, S extends Dl4jStage<?>> implements PipelineModel {

    protected final M model;
    private final int[] partition;
    private final List<S> stages = new ArrayList<>();
    private final List<Long> offsets = new ArrayList<>();

    protected Dl4jPipelineModel(M model, int[] partition) {
        this.model = model;
        this.partition = partition.clone();
    }

    /** Adds the next stage, whose parameters start at {@code offset} in the user's flat parameter vector. */
    protected final void addStage(S stage, long offset) {
        stages.add(stage);
        offsets.add(offset);
    }

    /** The stages, first to last. */
    public final List<S> stageList() {
        return Collections.unmodifiableList(stages);
    }

    @Override
    public final List<StageComputation> stages() {
        return Collections.unmodifiableList(stages);
    }

    @Override
    public final int[] partition() {
        return partition.clone();
    }

    @Override
    public final void pullOptimizerState() {
        for (int k = 0; k < stages.size(); k++) {
            UpdaterStates.copy(userUpdater(), stageUpdater(stages.get(k)), offsets.get(k), false);
        }
    }

    @Override
    public final void pushOptimizerState() {
        for (int k = 0; k < stages.size(); k++) {
            UpdaterStates.copy(userUpdater(), stageUpdater(stages.get(k)), offsets.get(k), true);
        }
    }

    @Override
    public final void reportIteration(int iteration, int epoch, double score) {
        recordScore(score, iteration + 1);
        Dl4jEvents.iterationDone(model, listeners(), iteration, epoch);
    }

    @Override
    public final void epochEvent(boolean start) {
        Dl4jEvents.epoch(model, listeners(), start);
    }

    @Override
    public final void saveCheckpoint(java.io.File file) throws java.io.IOException {
        io.asyncpipeline.model.AtomicFile.write(file, f -> ModelSerializer.writeModel(model, f, true));
    }

    /** The user's model's updater. */
    protected abstract Updater userUpdater();

    /** The updater of one stage's sub-model. */
    protected abstract Updater stageUpdater(S stage);

    /** The user's model's listeners. */
    protected abstract java.util.Collection<TrainingListener> listeners();

    /** Sets the user's model's score and its iteration counter only. */
    protected abstract void recordScore(double score, int iteration);
}
