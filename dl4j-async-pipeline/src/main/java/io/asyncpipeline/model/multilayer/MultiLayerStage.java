package io.asyncpipeline.model.multilayer;

import io.asyncpipeline.model.dl4j.Dl4jEvents;
import io.asyncpipeline.model.dl4j.Dl4jStage;
import io.asyncpipeline.transport.Message;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One stage of a {@link MultiLayerNetwork}: a sub-network over a contiguous range of its layers (slots,
 * gradients, update and workspaces as every DL4J stage: {@link Dl4jStage}). Forward and backward call the
 * layers and their preprocessors directly, as {@code MultiLayerNetwork} does, with masks propagated through
 * them; the update runs the sub-network's own {@link MultiLayerUpdater}.
 */
final class MultiLayerStage extends Dl4jStage<MultiLayerNetwork> {

    private final InputPreProcessor[] preProcessors;
    private final boolean first;
    private final boolean last;
    private INDArray[] outputMasks;

    /**
     * @param replicas       sub-networks built like {@code sub}: one per extra activation slot on the same
     *                       parameter view, or (privateWeights) one per slot on its own weight copy
     * @param privateWeights weight stashing without swaps: every slot computes with its own weights
     */
    MultiLayerStage(MultiLayerNetwork sub, List<MultiLayerNetwork> replicas, boolean first, boolean last,
            boolean privateWeights) {
        super(withGradients(sub), replicas, privateWeights,
                sub.getnLayers() + sub.getLayerWiseConfigurations().getInputPreProcessors().size());
        this.first = first;
        this.last = last;
        this.preProcessors = new InputPreProcessor[sub.getnLayers()];
        for (int i = 0; i < preProcessors.length; i++) {
            preProcessors[i] = sub.getLayerWiseConfigurations().getInputPreProcess(i);
        }
    }

    private static MultiLayerNetwork withGradients(MultiLayerNetwork sub) {
        sub.initGradientsView();
        return sub;
    }

    @Override
    protected INDArray[] computeForward(Message input, int slot, int iteration, int epoch) {
        Layer[] layers = slot(slot).getLayers();
        INDArray x = input.tensors()[0];
        int batch = (int) x.size(0);
        setLayerCounters(layers, iteration, epoch);
        INDArray fMask = input.featureMasks() == null ? null : input.featureMasks()[0];
        outputMasks = propagateMask(layers, fMask, batch);
        int n = last ? layers.length - 1 : layers.length;
        for (int i = 0; i < n; i++) {
            try (MemoryWorkspace ws = mgr.notifyScopeEntered(ArrayType.FF_WORKING_MEM)) {
                if (preProcessors[i] != null) {
                    x = preProcessors[i].preProcess(x, batch, mgr);
                }
                x = layers[i].activate(x, true, mgr);
            }
        }
        if (!last) {
            return new INDArray[] {x};
        }
        int o = layers.length - 1;
        try (MemoryWorkspace ws = mgr.notifyScopeEntered(ArrayType.FF_WORKING_MEM)) {
            if (preProcessors[o] != null) {
                x = preProcessors[o].preProcess(x, batch, mgr);
            }
            layers[o].setInput(x, mgr);
        }
        INDArray labelMask = input.labelMasks() == null ? null : input.labelMasks()[0];
        if (labelMask != null) {
            layers[o].setMaskArray(labelMask);
        }
        return new INDArray[0];
    }

    @Override
    public INDArray[] lastOutputMasks() {
        return outputMasks;
    }

    @Override
    protected INDArray[] computeBackward(Message input, INDArray[] outputGradients, int slot) {
        Layer[] layers = slot(slot).getLayers();
        int batch = (int) input.tensors()[0].size(0);
        INDArray eps = null;
        int i = layers.length - 1;
        if (last) {
            IOutputLayer out = (IOutputLayer) layers[i];
            out.setLabels(input.labels()[0]);
            try (MemoryWorkspace ws = mgr.notifyScopeEntered(ArrayType.FF_WORKING_MEM)) {
                lastScore = out.computeScore(0.0, true, mgr);
            }
        } else {
            eps = outputGradients[0];
        }
        gradients.beforeBackward(sub.getGradientsViewArray());
        for (; i >= 0; i--) {
            try (MemoryWorkspace ws = mgr.notifyScopeEntered(ArrayType.BP_WORKING_MEM)) {
                Pair<Gradient, INDArray> p = layers[i].backpropGradient(eps, mgr);
                // MultiLayerUpdater finds layers by their index in the (sub-)network
                unitGradients.put(String.valueOf(i), p.getFirst());
                eps = p.getSecond();
                if (preProcessors[i] != null && eps != null) {
                    eps = preProcessors[i].backprop(eps, batch, mgr);
                }
            }
        }
        gradients.afterBackward(sub.getGradientsViewArray());
        // the first stage's input gradient goes nowhere: not returned, it is freed with the pass's other arrays
        return first || eps == null ? null : new INDArray[] {eps};
    }

    @Override
    protected void applyUpdater(Gradient g, int iteration, int epoch, int examples) {
        ((MultiLayerUpdater) sub.getUpdater()).update(sub, g, iteration, epoch, examples, mgr);
    }

    /** Mask propagation through the stage's preprocessors and layers (as MultiLayerNetwork does for the whole net). */
    private INDArray[] propagateMask(Layer[] layers, INDArray mask, int batch) {
        MaskState state = mask == null ? null : MaskState.Active;
        for (int i = 0; i < layers.length; i++) {
            layers[i].setInputMiniBatchSize(batch);
            if (mask != null && preProcessors[i] != null) {
                Pair<INDArray, MaskState> p = preProcessors[i].feedForwardMaskArray(mask, state, batch);
                mask = p == null ? null : p.getFirst();
                state = p == null ? null : p.getSecond();
            }
            Pair<INDArray, MaskState> p = layers[i].feedForwardMaskArray(mask, state, batch);
            mask = p == null ? null : p.getFirst();
            state = p == null ? null : p.getSecond();
        }
        return mask == null ? null : new INDArray[] {mask};
    }

    private void setLayerCounters(Layer[] layers, int iteration, int epoch) {
        sub.setIterationCount(iteration);
        sub.setEpochCount(epoch);
        Dl4jEvents.setLayerCounters(layers, iteration, epoch);
    }

    @Override
    protected void setCounters(MultiLayerNetwork model, int iteration, int epoch) {
        setLayerCounters(model.getLayers(), iteration, epoch);
    }

    @Override
    protected Layer[] layers(MultiLayerNetwork model) {
        return model.getLayers();
    }

    @Override
    public List<INDArray> optimizerState() {
        INDArray state = sub.getUpdater().getStateViewArray();
        return state == null || state.length() == 0 ? List.of() : List.of(state);
    }
}
