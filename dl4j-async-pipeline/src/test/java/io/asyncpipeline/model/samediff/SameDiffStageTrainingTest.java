package io.asyncpipeline.model.samediff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.transport.Message;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;

/** GPipe order over 4 SameDiff stages equals SameDiff's own training on the same mini-batches. */
class SameDiffStageTrainingTest {

    @Test
    void gpipeEqualsFitWithDiscountedNadam() {
        check(DiscountedNadam.builder().learningRate(1e-2).build(), new WeightDecay(1e-2, true));
    }

    @Test
    void gpipeEqualsFitWithDelayCorrectedNesterov() {
        check(DelayCorrectedNesterov.builder().learningRate(0.05).momentum(0.9).build(), new L2Regularization(1e-3));
    }

    @Test
    void rejectsVariableSharedByTwoStages() {
        TransformerConfig c = SameDiffSplitterTest.config(4, true);
        SameDiff sd = DecoderTransformer.build(c);
        SameDiffSplitter st = SameDiffSplitter.split(sd, DecoderTransformer.blockCuts(c));
        TrainingConfig tc = DecoderTransformer.trainingConfig(DiscountedNadam.builder().build());
        assertThrows(IllegalArgumentException.class, () -> new SameDiffStage(st, 0, tc));
    }

    @Test
    void gpipeEqualsFitWithSgdOverBatchAndMicroBatchCounts() {
        check(new org.nd4j.linalg.learning.config.Sgd(0.1), null, 1, 1);
        check(new org.nd4j.linalg.learning.config.Sgd(0.1), null, 2, 2);
    }

    private static void check(IUpdater updater, org.nd4j.linalg.learning.regularization.Regularization reg) {
        check(updater, reg, 4, 2);
    }

    private static void check(IUpdater updater, org.nd4j.linalg.learning.regularization.Regularization reg, int batches, int micro) {
        TransformerConfig c = SameDiffSplitterTest.config(4, false);
        SameDiff reference = DecoderTransformer.build(c);
        SameDiff piped = DecoderTransformer.build(c);
        org.nd4j.linalg.learning.regularization.Regularization[] regs = reg == null
                ? new org.nd4j.linalg.learning.regularization.Regularization[0]
                : new org.nd4j.linalg.learning.regularization.Regularization[] {reg};
        reference.setTrainingConfig(DecoderTransformer.trainingConfig(updater, regs));
        DecoderTransformer.prepareForFit(reference);
        TrainingConfig tc = DecoderTransformer.trainingConfig(updater, regs);

        SameDiffSplitter st = SameDiffSplitter.split(piped, DecoderTransformer.blockCuts(c));
        List<SameDiffStage> stages = new ArrayList<>();
        for (int i = 0; i < st.size(); i++) {
            stages.add(new SameDiffStage(st, i, tc));
        }
        int mb = 2;
        List<DataSet> data = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            Map<String, INDArray> m = SameDiffSplitterTest.batch(c, 100 + b);   // 3 examples per call
            Map<String, INDArray> m2 = SameDiffSplitterTest.batch(c, 200 + b);
            INDArray x = org.nd4j.linalg.factory.Nd4j.concat(0, m.get("tokens"), m2.get("tokens"))
                    .get(NDArrayIndex.interval(0, micro * mb), NDArrayIndex.all());
            INDArray y = org.nd4j.linalg.factory.Nd4j.concat(0, m.get("labels"), m2.get("labels"))
                    .get(NDArrayIndex.interval(0, micro * mb), NDArrayIndex.all(), NDArrayIndex.all());
            data.add(new DataSet(x.dup(), y.dup()));
        }
        long t0 = System.nanoTime();
        for (DataSet d : data) {
            reference.fit(d);
        }
        long t1 = System.nanoTime();
        int p = stages.size();
        for (int it = 0; it < batches; it++) {
            DataSet d = data.get(it);
            Message[][] in = new Message[p][micro];
            // GPipe: all forwards (stage by stage, micro-batch by micro-batch), then all backwards in reverse
            for (int m = 0; m < micro; m++) {
                INDArray x = d.getFeatures().get(NDArrayIndex.interval(m * mb, (m + 1) * mb), NDArrayIndex.all()).dup();
                INDArray y = d.getLabels().get(NDArrayIndex.interval(m * mb, (m + 1) * mb), NDArrayIndex.all(),
                        NDArrayIndex.all()).dup();
                Message msg = new Message(m, 0, mb, new INDArray[] {x}, new INDArray[] {y}, null, null);
                for (int s = 0; s < p; s++) {
                    in[s][m] = msg;
                    INDArray[] out = stages.get(s).forward(msg, 0, it, 0);
                    msg = msg.withTensors(out);
                }
            }
            for (int m = micro - 1; m >= 0; m--) {
                INDArray[] g = null;
                for (int s = p - 1; s >= 0; s--) {
                    g = stages.get(s).backward(in[s][m], g, 0);
                }
            }
            for (SameDiffStage s : stages) {
                s.update(it, 0, micro * mb);
            }
        }
        long t2 = System.nanoTime();
        double worst = 0;
        for (String v : SameDiffSplitterTest.trainable(reference)) {
            INDArray a = reference.getVariable(v).getArr();
            INDArray b = piped.getVariable(v).getArr();
            double e = SameDiffSplitterTest.relErr(a, b);
            worst = Math.max(worst, e);
            assertTrue(e < 1e-6, v + ": relative difference " + e);
        }
        // and training moved the weights
        SameDiff fresh = DecoderTransformer.build(c);
        assertTrue(SameDiffSplitterTest.relErr(fresh.getVariable("wte").getArr(), piped.getVariable("wte").getArr()) > 1e-4);
        assertEquals(Double.NaN, stages.get(0).lastScore());
        System.out.printf("batches %d micro %d %s: worst relative difference %.2e; fit %d ms, 4-stage GPipe %d ms%n",
                batches, micro, updater.getClass().getSimpleName(), worst, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
    }
}
