package io.asyncpipeline.model.dl4j;

import io.asyncpipeline.model.CommonSetup;
import io.asyncpipeline.model.PipelineOptions;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Option checks and per-stage settings shared by the MultiLayerNetwork and ComputationGraph setups. */
public final class Dl4jSetup {

    private static final Logger LOG = LoggerFactory.getLogger(Dl4jSetup.class);

    private Dl4jSetup() {
    }

    /**
     * Says how an automatic partition was balanced when no {@code profileWith} sample was given: by parameter count,
     * which is close to the compute of dense layers and far from that of convolutions and recurrences (a CNN's
     * convolutions hold few parameters and most of the work). A warning when such layers are present, naming the fix.
     */
    public static void reportParameterBalance(List<Layer> layers, int[] partition, String unit) {
        if (partition.length < 2) {
            return;
        }
        String costly = null;
        for (Layer l : layers) {
            Object c = l.conf() == null ? null : l.conf().getLayer();
            if (c instanceof ConvolutionLayer || c instanceof SubsamplingLayer || c instanceof BaseRecurrentLayer
                    || c instanceof Bidirectional || c instanceof SelfAttentionLayer) {
                costly = c.getClass().getSimpleName();
                break;
            }
        }
        if (costly != null) {
            LOG.warn("stages balanced by parameter count, {} {} per stage: the model has {} layers, whose compute is"
                    + " far from their parameter count; give profileWith(sample) to balance by measured time",
                    Arrays.toString(partition), unit, costly);
        } else {
            LOG.info("stages balanced by parameter count, {} {} per stage (profileWith(sample) balances by measured"
                    + " time)", Arrays.toString(partition), unit);
        }
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
