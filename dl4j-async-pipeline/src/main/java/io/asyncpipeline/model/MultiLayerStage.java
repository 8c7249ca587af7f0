package io.asyncpipeline.model;

import io.asyncpipeline.stage.Message;
import io.asyncpipeline.stage.SlotWeights;
import io.asyncpipeline.stage.StageComputation;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One stage of a {@link MultiLayerNetwork}: a sub-network over a contiguous range of its layers whose
 * parameters are a view of the user's network's parameters. Extra activation slots are replicas of
 * the sub-network on the same parameter and gradient memory, each holding one micro-batch's layer state. Forward and backward call DL4J's layers
 * directly (no workspaces, so arrays may cross threads); the update runs DL4J's own
 * {@link MultiLayerUpdater} of the sub-network, so regularization, gradient normalization,
 * constraints and every {@code IUpdater} behave as in {@code net.fit}.
 */
final class MultiLayerStage implements StageComputation {

    private final MultiLayerNetwork sub;
    private final Layer[] layers;
    private final Layer[][] replicaLayers;
    private final SlotWeights slotWeights;
    private final InputPreProcessor[] preProcessors;
    private final boolean last;
    private final LayerWorkspaceMgr mgr;
    private final Map<String, Gradient> layerGradients = new java.util.TreeMap<>();
    private final GradientAccumulator gradients = new GradientAccumulator();
    private INDArray[] outputMasks;
    private double lastScore = Double.NaN;

    /**
     * @param replicas sub-networks built like {@code sub}, initialised on the same parameter view
     *                 (one per extra activation slot)
     */
    MultiLayerStage(MultiLayerNetwork sub, java.util.List<MultiLayerNetwork> replicas, boolean last) {
        this(sub, replicas, last, false);
    }

    /**
     * @param privateWeights true: {@code replicas} are all the slots, each initialised on its own copy of
     *                       the weights (weight stashing); false: {@code sub} is slot 0 and the replicas
     *                       share its parameter view
     */
    MultiLayerStage(MultiLayerNetwork sub, java.util.List<MultiLayerNetwork> replicas, boolean last, boolean privateWeights) {
        this.sub = sub;
        this.layers = sub.getLayers();
        sub.initGradientsView();
        int offset = privateWeights ? 0 : 1;
        this.replicaLayers = new Layer[replicas.size() + offset][];
        INDArray[] copies = privateWeights ? new INDArray[replicas.size()] : null;
        if (!privateWeights) {
            replicaLayers[0] = layers;
        }
        for (int r = 0; r < replicas.size(); r++) {
            replicas.get(r).setBackpropGradientsViewArray(sub.getGradientsViewArray());
            replicaLayers[r + offset] = replicas.get(r).getLayers();
            if (privateWeights) {
                copies[r] = replicas.get(r).params();
            }
        }
        this.slotWeights = privateWeights ? new SlotWeights(sub.params(), copies) : null;
        this.last = last;
        this.preProcessors = new InputPreProcessor[layers.length];
        for (int i = 0; i < layers.length; i++) {
            preProcessors[i] = sub.getLayerWiseConfigurations().getInputPreProcess(i);
        }
        this.mgr = StageWorkspaces.forStage(layers.length, sub.getLayerWiseConfigurations().getInputPreProcessors().size());
    }

    @Override
    public int slots() {
        return replicaLayers.length;
    }



    @Override
    public SlotWeights slotWeights() {
        return slotWeights;
    }

    MultiLayerNetwork network() {
        return sub;
    }

    @Override
    public INDArray[] forward(Message input, int slot, int iteration, int epoch) {
        Layer[] layers = replicaLayers[slot];
        INDArray x = input.tensors()[0];
        int batch = (int) x.size(0);
        setCounters(layers, iteration, epoch);
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
    public INDArray[] backward(Message input, INDArray[] outputGradients, int slot) {
        Layer[] layers = replicaLayers[slot];
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
                layerGradients.put(String.valueOf(i), p.getFirst());
                eps = p.getSecond();
                if (preProcessors[i] != null && eps != null) {
                    eps = preProcessors[i].backprop(eps, batch, mgr);
                }
            }
        }
        gradients.afterBackward(sub.getGradientsViewArray());
        return eps == null ? null : new INDArray[] {eps};
    }

    @Override
    public double lastScore() {
        return lastScore;
    }

    @Override
    public void update(int iteration, int epoch, int examples) {
        INDArray flat = sub.getGradientsViewArray();
        if (flat == null || flat.length() == 0) {
            gradients.reset();
            return;
        }
        gradients.sumInto(flat);
        setCounters(layers, iteration, epoch);
        Gradient g = GradientAccumulator.byParameter(flat, layerGradients);
        MultiLayerUpdater updater = (MultiLayerUpdater) sub.getUpdater();
        updater.update(sub, g, iteration, epoch, examples, mgr);
        gradients.applyStep(sub.params(), flat, layers, iteration, epoch);
    }

    @Override
    public void discardGradients() {
        gradients.reset();
    }

    /** Mask propagation through the stage's preprocessors and layers (as MultiLayerNetwork does for the whole net). */
    private INDArray[] propagateMask(Layer[] layers, INDArray mask, int batch) {
        org.deeplearning4j.nn.api.MaskState state = mask == null ? null : org.deeplearning4j.nn.api.MaskState.Active;
        for (int i = 0; i < layers.length; i++) {
            layers[i].setInputMiniBatchSize(batch);
            if (mask != null && preProcessors[i] != null) {
                Pair<INDArray, org.deeplearning4j.nn.api.MaskState> p = preProcessors[i].feedForwardMaskArray(mask, state, batch);
                mask = p == null ? null : p.getFirst();
                state = p == null ? null : p.getSecond();
            }
            Pair<INDArray, org.deeplearning4j.nn.api.MaskState> p = layers[i].feedForwardMaskArray(mask, state, batch);
            mask = p == null ? null : p.getFirst();
            state = p == null ? null : p.getSecond();
        }
        return mask == null ? null : new INDArray[] {mask};
    }

    private void setCounters(Layer[] layers, int iteration, int epoch) {
        sub.setIterationCount(iteration);
        sub.setEpochCount(epoch);
        Dl4jEvents.setLayerCounters(layers, iteration, epoch);
    }

    @Override
    public INDArray params() {
        return sub.params();
    }
}
