package io.asyncpipeline.model.samediff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SameDiffSplitterTest {

    static TransformerConfig config(int layers, boolean tied) {
        return TransformerConfig.builder().vocabSize(9).contextLength(5).modelDim(8).heads(2).layers(layers).mlpDim(12)
                .tiedOutputHead(tied).seed(21).dataType(DataType.DOUBLE).build();
    }

    static Map<String, INDArray> batch(TransformerConfig c, long seed) {
        java.util.Random r = new java.util.Random(seed);
        INDArray tokens = Nd4j.zeros(DataType.DOUBLE, 3, c.contextLength());
        INDArray next = Nd4j.zeros(DataType.DOUBLE, 3, c.contextLength());
        for (int b = 0; b < 3; b++) {
            for (int t = 0; t < c.contextLength(); t++) {
                tokens.putScalar(b, t, r.nextInt(c.vocabSize()));
                next.putScalar(b, t, r.nextInt(c.vocabSize()));
            }
        }
        Map<String, INDArray> m = new HashMap<>();
        m.put(DecoderTransformer.TOKENS, tokens);
        m.put(DecoderTransformer.LABELS, DecoderTransformer.oneHot(next, c.vocabSize(), DataType.DOUBLE));
        return m;
    }

    static List<String> trainable(SameDiff sd) {
        List<String> l = new ArrayList<>();
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                l.add(v.name());
            }
        }
        return l;
    }

    static double relErr(INDArray a, INDArray b) {
        double diff = a.sub(b).norm2Number().doubleValue();
        double scale = Math.max(a.norm2Number().doubleValue(), b.norm2Number().doubleValue());
        return scale == 0 ? diff : diff / scale;
    }

    @Test
    void stageGraphsShareArraysAndPartitionTheVariables() {
        TransformerConfig c = config(4, false);
        SameDiff sd = DecoderTransformer.build(c);
        SameDiffSplitter st = SameDiffSplitter.split(sd, DecoderTransformer.blockCuts(c));
        assertEquals(4, st.size());
        assertTrue(st.sharedVariables().isEmpty());
        int total = 0;
        for (SameDiffSplitter.StageGraph s : st.stageGraphs()) {
            total += s.trainableVariables().size();
            for (String v : s.trainableVariables()) {
                assertTrue(s.graph().getVariable(v).getArr() == sd.getVariable(v).getArr(), v + " not shared");
            }
        }
        assertEquals(trainable(sd).size(), total);
        assertEquals(List.of("tokens"), st.stageGraph(0).userPlaceholders());
        assertEquals(List.of("labels"), st.stageGraph(3).userPlaceholders());
        assertTrue(st.stageGraph(1).userPlaceholders().isEmpty());
        assertTrue(st.stageGraph(0).trainableVariables().contains("wte"));
        assertTrue(st.stageGraph(3).trainableVariables().contains("head_W"));

        SameDiffSplitter tied = SameDiffSplitter.split(DecoderTransformer.build(config(2, true)), "block0_out");
        assertEquals(Set.of("wte"), tied.sharedVariables());

        assertThrows(IllegalArgumentException.class, () -> SameDiffSplitter.split(sd, "nope"));
        assertThrows(IllegalArgumentException.class, () -> SameDiffSplitter.split(sd, "wte"));
    }

    @Test
    void stageByStageEqualsUnsplit() {
        for (boolean tied : new boolean[] {false, true}) {
            TransformerConfig c = config(4, tied);
            SameDiff sd = DecoderTransformer.build(c);
            Map<String, INDArray> ph = batch(c, 5);
            List<String> vars = trainable(sd);
            long t0 = System.nanoTime();
            Map<String, INDArray> expected = sd.calculateGradients(ph, vars);
            double expectedLoss = sd.output(ph, "loss").get("loss").getDouble(0);
            long t1 = System.nanoTime();

            SameDiffSplitter st = SameDiffSplitter.split(sd, DecoderTransformer.blockCuts(c));
            long t2 = System.nanoTime();
            int p = st.size();
            INDArray[] inputs = new INDArray[p];
            for (int i = 0; i < p - 1; i++) {
                INDArray out = st.stageGraph(i).forward(ph, inputs[i]);
                inputs[i + 1] = out;
                INDArray direct = sd.output(ph, DecoderTransformer.blockOutput(i)).get(DecoderTransformer.blockOutput(i));
                assertTrue(relErr(direct, out) < 1e-12, "forward of stage " + i);
            }
            assertEquals(expectedLoss, st.stageGraph(p - 1).forward(ph, inputs[p - 1]).getDouble(0), 1e-12);
            Map<String, INDArray> sum = new HashMap<>();
            INDArray g = null;
            double loss = Double.NaN;
            for (int i = p - 1; i >= 0; i--) {
                SameDiffSplitter.Gradients gr = st.stageGraph(i).backward(ph, inputs[i], g);
                if (i == p - 1) {
                    loss = gr.loss();
                }
                for (Map.Entry<String, INDArray> e : gr.parameters().entrySet()) {
                    assertNotNull(e.getValue(), e.getKey());
                    sum.merge(e.getKey(), e.getValue().dup(), INDArray::add);
                }
                g = gr.input();
                if (i == 0) {
                    assertNull(g);
                } else {
                    assertNotNull(g, "no input gradient on stage " + i);
                }
            }
            long t3 = System.nanoTime();
            assertEquals(expectedLoss, loss, 1e-12);
            assertEquals(expected.keySet(), sum.keySet());
            double worst = 0;
            for (String v : vars) {
                double e = relErr(expected.get(v), sum.get(v));
                worst = Math.max(worst, e);
                assertTrue(e < 1e-6, v + ": relative error " + e);
            }
            System.out.printf("tied=%b: worst relative error %.2e; unsplit %d ms, split build %d ms, staged fwd+bwd %d ms%n",
                    tied, worst, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
        }
    }

    @Test
    void middleStageGradientsMatchFiniteDifferences() {
        TransformerConfig c = config(3, false);
        SameDiff sd = DecoderTransformer.build(c);
        Map<String, INDArray> ph = batch(c, 9);
        SameDiffSplitter st = SameDiffSplitter.split(sd, DecoderTransformer.blockCuts(c));
        SameDiffSplitter.StageGraph s = st.stageGraph(1);
        INDArray input = st.stageGraph(0).forward(ph, null);
        Nd4j.getRandom().setSeed(4);
        INDArray upstream = Nd4j.randn(DataType.DOUBLE, input.shape());
        SameDiffSplitter.Gradients g = s.backward(ph, input, upstream);

        double eps = 1e-6;
        java.util.Random r = new java.util.Random(1);
        // input cut variable
        for (int k = 0; k < 12; k++) {
            long idx = r.nextInt((int) input.length());
            INDArray plus = input.dup();
            plus.putScalar(idx, plus.getDouble(idx) + eps);
            INDArray minus = input.dup();
            minus.putScalar(idx, minus.getDouble(idx) - eps);
            double fd = (surrogate(s, ph, plus, upstream) - surrogate(s, ph, minus, upstream)) / (2 * eps);
            double an = g.input().getDouble(idx);
            assertEquals(fd, an, 1e-6 + 1e-5 * Math.abs(fd), "d/d input[" + idx + "]");
        }
        // parameters (perturbed in place in the user's arrays, which the stage shares)
        for (String v : s.trainableVariables()) {
            INDArray arr = sd.getVariable(v).getArr();
            for (int k = 0; k < 3; k++) {
                long idx = r.nextInt((int) arr.length());
                double orig = arr.getDouble(idx);
                arr.putScalar(idx, orig + eps);
                double lp = surrogate(s, ph, input, upstream);
                arr.putScalar(idx, orig - eps);
                double lm = surrogate(s, ph, input, upstream);
                arr.putScalar(idx, orig);
                double fd = (lp - lm) / (2 * eps);
                double an = g.parameters().get(v).getDouble(idx);
                assertEquals(fd, an, 1e-6 + 1e-5 * Math.abs(fd), v + "[" + idx + "]");
            }
        }
    }

    private static double surrogate(SameDiffSplitter.StageGraph s, Map<String, INDArray> ph, INDArray input, INDArray upstream) {
        return s.forward(ph, input).mul(upstream).sumNumber().doubleValue();
    }
}
