package io.asyncpipeline.model.samediff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** {@code clipGradientNorm}: each stage scales its step's gradient to the norm when it is larger. */
class SameDiffGradientClippingTest {

    private static final TransformerConfig C = TransformerConfig.builder().vocabSize(9).contextLength(5).modelDim(8)
            .heads(2).layers(2).mlpDim(12).tiedOutputHead(false).seed(21).dataType(DataType.DOUBLE).build();

    private static SameDiff sgd() {
        SameDiff sd = DecoderTransformer.build(C);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(new Sgd(1.0)));
        return sd;
    }

    /**
     * One GPIPE step with plain SGD (rate 1): every variable moves by its full-batch gradient times the stage's factor
     * min(1, c / ‖g_stage‖), the norm taken over the stage's variables only. The clip norm is half the smallest
     * stage norm, so every stage clips.
     */
    @Test
    void eachStageScalesItsGradientToTheNorm() {
        List<DataSet> data = SameDiffPipelineTest.batches(1, 4, 5);
        DataSet d = data.get(0);
        SameDiff reference = sgd();
        SameDiffSplitter split = SameDiffSplitter.split(DecoderTransformer.build(C), DecoderTransformer.blockCuts(C));
        List<String> names = new ArrayList<>();
        for (SameDiffSplitter.StageGraph s : split.stageGraphs()) {
            names.addAll(s.trainableVariables());
        }
        Map<String, INDArray> g = reference.calculateGradients(Map.of(DecoderTransformer.TOKENS, d.getFeatures(),
                DecoderTransformer.LABELS, d.getLabels()), names);
        double[] norms = new double[split.size()];
        double smallest = Double.POSITIVE_INFINITY;
        for (int k = 0; k < split.size(); k++) {
            double squares = 0;
            for (String v : split.stageGraph(k).trainableVariables()) {
                double n = g.get(v).norm2Number().doubleValue();
                squares += n * n;
            }
            norms[k] = Math.sqrt(squares);
            smallest = Math.min(smallest, norms[k]);
        }
        double clip = smallest / 2;

        SameDiff piped = sgd();
        Map<String, INDArray> before = new HashMap<>();
        for (String v : names) {
            before.put(v, piped.getVariable(v).getArr().dup());
        }
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).cutAfter(DecoderTransformer.blockCuts(C))
                .schedule(Schedule.GPIPE).microBatches(2).clipGradientNorm(clip).build()) {
            w.fit(new ListDataSetIterator<>(data, 1));
        }
        for (int k = 0; k < split.size(); k++) {
            double factor = clip / norms[k];
            assertTrue(factor < 1, "stage " + k + " clips");
            for (String v : split.stageGraph(k).trainableVariables()) {
                INDArray expected = before.get(v).sub(g.get(v).mul(factor));
                INDArray actual = piped.getVariable(v).getArr();
                double err = expected.sub(actual).norm2Number().doubleValue()
                        / Math.max(1e-12, expected.norm2Number().doubleValue());
                assertTrue(err < 1e-9, "stage " + k + " variable " + v + ": relative error " + err);
            }
        }
    }

    /** A norm larger than every stage's gradient changes nothing: the same bits as no clipping. */
    @Test
    void aLargeNormEqualsNoClipping() {
        List<DataSet> data = SameDiffPipelineTest.batches(3, 4, 7);
        SameDiff plain = sgd();
        SameDiff clipped = sgd();
        for (SameDiff sd : List.of(plain, clipped)) {
            AsyncPipelineWrapper.Builder b = new AsyncPipelineWrapper.Builder(sd).cutAfter(DecoderTransformer.blockCuts(C))
                    .schedule(Schedule.ASYNC_1F1B).singleThreadedReplay(true);
            if (sd == clipped) {
                b.clipGradientNorm(1e6);
            }
            try (AsyncPipelineWrapper w = b.build()) {
                w.fit(new ListDataSetIterator<>(data, 1));
            }
        }
        for (String v : List.of("wte", "head_W")) {
            assertEquals(plain.getVariable(v).getArr(), clipped.getVariable(v).getArr(), v);
        }
    }

    @Test
    void badNormsAndDl4jModelsAreRejectedByName() {
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new AsyncPipelineWrapper.Builder(sgd()).cutAfter(DecoderTransformer.blockCuts(C))
                            .clipGradientNorm(bad).build());
            assertTrue(e.getMessage().contains("clipGradientNorm"), e.getMessage());
        }
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).updater(new Sgd(0.1))
                .list().layer(new DenseLayer.Builder().nIn(4).nOut(5).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(3).build()).build());
        net.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(net).stages(2).clipGradientNorm(10).build());
        assertTrue(e.getMessage().contains("clipGradientNorm") && e.getMessage().contains("ClipL2PerLayer"),
                e.getMessage());
    }
}
