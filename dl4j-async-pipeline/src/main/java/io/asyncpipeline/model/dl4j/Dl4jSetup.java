package io.asyncpipeline.model.dl4j;

import io.asyncpipeline.model.CommonSetup;
import io.asyncpipeline.model.PipelineOptions;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;

/** Option checks and per-stage settings shared by the MultiLayerNetwork and ComputationGraph setups. */
public final class Dl4jSetup {

    private Dl4jSetup() {
    }

    /** BatchNormalization's statistics are per micro-batch: a synchronous schedule with M > 1 cannot equal fit. */
    public static void checkBatchNorm(List<Layer> layers, PipelineOptions o) {
        for (Layer l : layers) {
            if (l.conf().getLayer() instanceof BatchNormalization && o.schedule().microBatchesPerUpdate() > 1) {
                throw new IllegalArgumentException("layer " + l.conf().getLayer().getLayerName() + " is BatchNormalization:"
                        + " its statistics are per micro-batch, so " + o.scheduleName() + " with microBatches(" + o.microBatches()
                        + ") cannot equal plain fit. Use microBatches(1), ASYNC_1F1B, or remove BatchNormalization");
            }
        }
    }

    /** Applies stageUpdater / delay-aware momentum / PipeMare to the layers of each stage (before their updaters exist). */
    public static void applyStageUpdaters(List<Layer[]> stageLayers, PipelineOptions o) {
        int p = stageLayers.size();
        if (o.gradientClipNorm() != null) {
            throw new IllegalArgumentException("clipGradientNorm(" + o.gradientClipNorm() + ") is for SameDiff models:"
                    + " for a MultiLayerNetwork or ComputationGraph set gradientNormalization(GradientNormalization"
                    + ".ClipL2PerLayer) and gradientNormalizationThreshold(" + o.gradientClipNorm() + ") on its layers,"
                    + " which the pipeline's stages apply as fit does");
        }
        CommonSetup.checkStageOptions(o, p);
        for (int k = 0; k < p; k++) {
            for (Layer l : stageLayers.get(k)) {
                if (l.conf().getLayer() instanceof BaseLayer bl) {
                    bl.setIUpdater(CommonSetup.stageUpdater(bl.getIUpdater(), o, k, p));
                    if (bl.getBiasUpdater() != null) {
                        bl.setBiasUpdater(CommonSetup.stageUpdater(bl.getBiasUpdater(), o, k, p));
                    }
                }
            }
        }
    }
}
