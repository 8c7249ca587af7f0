package io.asyncpipeline.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;

class DecoderTransformerTest {

    private static TransformerConfig small(boolean tied) {
        return TransformerConfig.builder().vocabSize(11).contextLength(6).modelDim(8).heads(2).layers(3).mlpDim(16)
                .tiedOutputHead(tied).seed(7).build();
    }

    @Test
    void configValidation() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TransformerConfig.builder().vocabSize(10).contextLength(4).modelDim(10).heads(3).build());
        assertTrue(e.getMessage().contains("divisible by heads"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TransformerConfig.builder().contextLength(4).build());
        assertThrows(IllegalArgumentException.class, () -> TransformerConfig.builder().vocabSize(10).build());
        assertThrows(IllegalArgumentException.class,
                () -> TransformerConfig.builder().vocabSize(10).contextLength(4).layers(0).build());
        assertThrows(IllegalArgumentException.class,
                () -> TransformerConfig.builder().vocabSize(10).contextLength(4).dataType(DataType.INT).build());
        TransformerConfig c = TransformerConfig.builder().vocabSize(10).contextLength(4).modelDim(8).heads(2).build();
        assertEquals(32, c.mlpDim());
        assertEquals(4, c.headDim());
        assertEquals(c, c.toBuilder().build());
    }

    @Test
    void shapesAndNames() {
        for (boolean tied : new boolean[] {true, false}) {
            TransformerConfig c = small(tied);
            SameDiff sd = DecoderTransformer.build(c);
            INDArray tokens = Nd4j.createFromArray(new float[][] {{1, 2, 3, 4, 5, 6}, {0, 10, 9, 8, 7, 6}, {3, 3, 3, 3, 3, 3}});
            INDArray labels = DecoderTransformer.oneHot(tokens, c.vocabSize(), DataType.FLOAT);
            Map<String, INDArray> out = sd.output(Map.of("tokens", tokens, "labels", labels),
                    "embed_out", "block0_out", "block1_out", "block2_out", "logits", "loss");
            assertArrayEquals(new long[] {3, 6, 8}, out.get("embed_out").shape());
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(new long[] {3, 6, 8}, out.get(DecoderTransformer.blockOutput(i)).shape());
            }
            assertArrayEquals(new long[] {3, 6, 11}, out.get("logits").shape());
            assertEquals(0, out.get("loss").rank());
            // untrained: loss near ln(V)
            assertEquals(Math.log(11), out.get("loss").getDouble(0), 0.3);
            assertEquals(tied, sd.getVariable("head_W") == null);
            assertArrayEquals(new String[] {"block0_out", "block1_out"}, DecoderTransformer.blockCuts(c));
            assertArrayEquals(new String[] {"block0_out", "block1_out"}, DecoderTransformer.blockCuts(c, 3));
            assertArrayEquals(new String[0], DecoderTransformer.blockCuts(c, 1));
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> DecoderTransformer.blockCuts(c, 2));
            assertTrue(e.getMessage().contains("divides 3"), e.getMessage());
        }
    }

    @Test
    void sameSeedSameModel() {
        SameDiff a = DecoderTransformer.build(small(true));
        SameDiff b = DecoderTransformer.build(small(true));
        assertEquals(a.getVariable("block1_attn_q_W").getArr(), b.getVariable("block1_attn_q_W").getArr());
    }

    @Test
    void causal() {
        TransformerConfig c = small(false);
        SameDiff sd = DecoderTransformer.build(c);
        INDArray tokens = Nd4j.createFromArray(new float[][] {{1, 2, 3, 4, 5, 6}, {0, 10, 9, 8, 7, 6}});
        INDArray base = sd.output(Map.of("tokens", tokens), "logits").get("logits");
        for (int t = 0; t < c.contextLength() - 1; t++) {
            INDArray changed = tokens.dup();
            for (int j = t + 1; j < c.contextLength(); j++) {
                changed.putScalar(0, j, (changed.getDouble(0, j) + 3) % c.vocabSize());
                changed.putScalar(1, j, (changed.getDouble(1, j) + 5) % c.vocabSize());
            }
            INDArray other = sd.output(Map.of("tokens", changed), "logits").get("logits");
            INDArray before = base.get(NDArrayIndex.all(), NDArrayIndex.interval(0, t + 1), NDArrayIndex.all());
            INDArray after = other.get(NDArrayIndex.all(), NDArrayIndex.interval(0, t + 1), NDArrayIndex.all());
            assertTrue(before.equalsWithEps(after, 1e-6), "logits at positions <= " + t + " changed");
            // and the future does change something after t (the model is not trivially constant)
            INDArray later = base.get(NDArrayIndex.all(), NDArrayIndex.interval(t + 1, c.contextLength()), NDArrayIndex.all());
            INDArray laterOther = other.get(NDArrayIndex.all(), NDArrayIndex.interval(t + 1, c.contextLength()), NDArrayIndex.all());
            assertTrue(!later.equalsWithEps(laterOther, 1e-6), "logits after " + t + " did not change");
        }
    }

    @Test
    void learnsWithDiscountedNadam() {
        trainAndCheck(DiscountedNadam.builder().learningRate(3e-3).beta1(0.9).build(), "DiscountedNadam");
    }

    @Test
    void learnsWithDelayCorrectedNesterov() {
        trainAndCheck(DelayCorrectedNesterov.builder().learningRate(0.3).momentum(0.9).build(), "DelayCorrectedNesterov");
    }

    private static final int STEPS = 200;

    /** 200 steps on the tiny corpus: the mean loss of the last 20 steps must be below 60% of the first 20's. */
    private static void trainAndCheck(IUpdater updater, String name) {
        TinyText text = new TinyText();
        TransformerConfig c = TransformerConfig.builder().vocabSize(text.vocabSize()).contextLength(12).modelDim(24)
                .heads(2).layers(2).mlpDim(48).seed(3).build();
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(updater));
        DecoderTransformer.prepareForFit(sd);
        List<DataSet> data = text.batches(STEPS, 8, 12, 11, DataType.FLOAT);
        long t0 = System.currentTimeMillis();
        double first = 0;
        double last = 0;
        for (int i = 0; i < data.size(); i++) {
            DataSet d = data.get(i);
            if (i < 20 || i >= data.size() - 20) {
                // the loss of the batch before its step
                double l = sd.output(Map.of("tokens", d.getFeatures(), "labels", d.getLabels()), "loss").get("loss").getDouble(0);
                if (i < 20) {
                    first += l / 20;
                } else {
                    last += l / 20;
                }
            }
            sd.fit(d);
        }
        System.out.printf("%s: loss %.3f -> %.3f in %d ms%n", name, first, last, System.currentTimeMillis() - t0);
        assertNotNull(sd.getTrainingConfig());
        assertTrue(last < 0.6 * first, name + ": loss " + first + " -> " + last);
    }
}
