package io.asyncpipeline.model.dl4j;

import io.asyncpipeline.stage.SlotWeights;
import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.transport.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a stage of a {@code MultiLayerNetwork} and a stage of a {@code ComputationGraph} share. The stage is a
 * sub-model {@code S} whose parameters are a view of the user's parameter vector. Its activation slots are
 * models built like it: without private weights, slot 0 is the sub-model and the others are replicas on the
 * same parameter view; with private weights (weight stashing), every slot is a replica on its own copy.
 * Every slot writes its gradients into the sub-model's one gradient view; {@link GradientAccumulator} sums
 * them over the backwards of one update, and {@link #update} runs DL4J's own updater of the sub-model, so
 * regularization, gradient normalization, constraints and every {@code IUpdater} behave as in {@code fit}.
 *
 * <p>Workspaces, one policy for both model types ({@link StageWorkspaces}): layer scratch memory lives in
 * per-thread workspaces reused every op; everything that outlives a layer call is created outside any
 * workspace, so it may cross to another stage thread, and is freed by {@link PassArrays} once the micro-batch's
 * backward is done (not left for the garbage collector).
 *
 * @param <S> the sub-model type
 */
public abstract class Dl4jStage<S extends Model> implements StageComputation {

    protected final S sub;
    private final List<S> slotModels = new ArrayList<>();
    private final SlotWeights slotWeights;
    protected final LayerWorkspaceMgr mgr;
    private final PassArrays passes;
    protected final GradientAccumulator gradients = new GradientAccumulator();
    /** Each layer's (vertex's) gradient of the last backward, keyed as DL4J's updater finds them. */
    protected final Map<String, Gradient> unitGradients = new TreeMap<>();
    protected double lastScore = Double.NaN;

    /**
     * @param sub            the stage's sub-model, initialised on a view of the user's parameters, with its
     *                       gradient view initialised
     * @param replicas       models built like {@code sub}: one per extra slot, or one per slot with private weights
     * @param privateWeights true: {@code replicas} are all the slots, each on its own weight copy
     * @param units          layers (vertices) plus preprocessors, to size the workspaces' learning
     */
    protected Dl4jStage(S sub, List<S> replicas, boolean privateWeights, int units) {
        this.sub = sub;
        INDArray view = sub.getGradientsViewArray();
        INDArray[] copies = privateWeights ? new INDArray[replicas.size()] : null;
        if (!privateWeights) {
            slotModels.add(sub);
        }
        for (int r = 0; r < replicas.size(); r++) {
            S replica = replicas.get(r);
            if (view != null && view.length() > 0) {
                replica.setBackpropGradientsViewArray(view);
            }
            slotModels.add(replica);
            if (privateWeights) {
                copies[r] = replica.params();
            }
        }
        this.slotWeights = privateWeights ? new SlotWeights(sub.params(), copies) : null;
        RecordingWorkspaceMgr recording = StageWorkspaces.forStage(units);
        this.mgr = recording;
        this.passes = new PassArrays(recording, slotModels.size());
    }

    @Override
    public final INDArray[] forward(Message input, int slot, int iteration, int epoch) {
        passes.beginForward(slot, input.microBatch());
        INDArray[] out;
        try {
            out = computeForward(input, slot, iteration, epoch);
        } catch (RuntimeException | Error e) {
            passes.abandon();
            throw e;
        }
        passes.endForward(slot, out);
        return out;
    }

    @Override
    public final INDArray[] backward(Message input, INDArray[] outputGradients, int slot) {
        passes.beginBackward(slot);
        INDArray[] in;
        try {
            in = computeBackward(input, outputGradients, slot);
        } catch (RuntimeException | Error e) {
            passes.abandon();
            throw e;
        }
        passes.endBackward(slot, input.microBatch(), in, outputGradients);
        return in;
    }

    /** {@link #forward}: the stage's layers on {@code slot}; arrays made through {@link #mgr} are freed later. */
    protected abstract INDArray[] computeForward(Message input, int slot, int iteration, int epoch);

    /** {@link #backward}: the gradients w.r.t. the stage inputs (null or unused on the first stage). */
    protected abstract INDArray[] computeBackward(Message input, INDArray[] outputGradients, int slot);

    /** The model that computes for slot {@code slot}. */
    protected final S slot(int slot) {
        return slotModels.get(slot);
    }

    /** The stage's sub-model. */
    public final S model() {
        return sub;
    }

    @Override
    public final int slots() {
        return slotModels.size();
    }

    @Override
    public final SlotWeights slotWeights() {
        return slotWeights;
    }

    @Override
    public final double lastScore() {
        return lastScore;
    }

    @Override
    public final INDArray params() {
        return sub.params();
    }

    @Override
    public final void update(int iteration, int epoch, int examples) {
        INDArray flat = sub.getGradientsViewArray();
        if (flat == null || flat.length() == 0) {
            gradients.reset();
            return;
        }
        gradients.sumInto(flat);
        setCounters(sub, iteration, epoch);
        applyUpdater(GradientAccumulator.byParameter(flat, unitGradients), iteration, epoch, examples);
        gradients.applyStep(sub.params(), flat, layers(sub), iteration, epoch);
    }

    @Override
    public final void discardGradients() {
        gradients.reset();
        passes.abandon();
    }

    /** Runs the sub-model's own DL4J updater on {@code gradient}, leaving the step in the gradient view. */
    protected abstract void applyUpdater(Gradient gradient, int iteration, int epoch, int examples);

    /** Sets the iteration and epoch counters that {@code model}'s layers read (dropout, schedules). */
    protected abstract void setCounters(S model, int iteration, int epoch);

    /** The layers of {@code model}. */
    protected abstract Layer[] layers(S model);
}
