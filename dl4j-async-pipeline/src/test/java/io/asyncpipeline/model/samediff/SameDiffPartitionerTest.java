package io.asyncpipeline.model.samediff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TinyText;
import io.asyncpipeline.transformer.TransformerConfig;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Sgd;

/** Candidate cuts and cost-balanced cuts of SameDiff graphs (the decoder-only transformer). */
class SameDiffPartitionerTest {

    static TransformerConfig config(int layers, boolean tied) {
        return TransformerConfig.builder().vocabSize(9).contextLength(5).modelDim(8).heads(2).layers(layers).mlpDim(12)
                .tiedOutputHead(tied).seed(21).dataType(DataType.DOUBLE).build();
    }

    static SameDiff graph(TransformerConfig c) {
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(new Sgd(0.1)));
        return sd;
    }

    @Test
    void candidatesAreTheSeparatingTensorsInGraphOrder() {
        List<String> c = SameDiffPartitioner.candidates(graph(config(4, false)));
        int previous = -1;
        for (String name : List.of("embed_out", "block0_attn_res", "block0_out", "block1_attn_res", "block1_out",
                "block2_out", "block3_attn_res", "block3_out", "lnf")) {
            int i = c.indexOf(name);
            assertTrue(i > previous, name + " missing or out of order in " + c);
            previous = i;
        }
        // the residual stream bypasses the layer norms; placeholders, parameters and the loss are no cuts
        for (String name : List.of("block0_ln1", "block2_ln2", "tokens", "labels", "wte", "loss", "logits")) {
            assertTrue(!c.contains(name), name + " is no cut: " + c);
        }
    }

    @Test
    void balancesTheTransformerAtBlockCuts() {
        SameDiff sd = graph(config(4, false));
        SameDiffPartitioner.Plan two = SameDiffPartitioner.balance(sd, 2);
        assertEquals(List.of("block1_out"), two.cuts());
        SameDiffPartitioner.Plan four = SameDiffPartitioner.balance(sd, 4);
        assertEquals(List.of("block0_out", "block1_out", "block2_out"), four.cuts());
        double[] costs = four.stageCosts();
        double max = Arrays.stream(costs).max().orElseThrow();
        double min = Arrays.stream(costs).min().orElseThrow();
        assertTrue(max / min < 1.2, "comparable stage costs: " + four);
        assertTrue(four.imbalance() < 1.1, four.toString());
        // P = L + 1: the optimum is no worse than one block per stage with the embedding and the head on the ends
        SameDiffPartitioner.Plan five = SameDiffPartitioner.balance(sd, 5);
        double[] seg = five.segmentCosts();
        List<String> cand = five.candidates();
        double[] byBlocks = new double[5];
        List<String> blockCuts = List.of("block0_out", "block1_out", "block2_out", "block3_out");
        int stage = 0;
        for (int i = 0; i < seg.length; i++) {
            byBlocks[stage] += seg[i];
            if (i < cand.size() && blockCuts.contains(cand.get(i))) {
                stage++;
            }
        }
        double bottleneck = Arrays.stream(five.stageCosts()).max().orElseThrow();
        assertTrue(bottleneck <= Arrays.stream(byBlocks).max().orElseThrow(), five + " vs " + Arrays.toString(byBlocks));
        System.out.println("4 blocks: P=2 " + two + "; P=4 " + four + "; P=5 " + five);
    }

    @Test
    void aSampleGivesTheSameCutsAtAnotherBatchSize() {
        TransformerConfig c = config(4, false);
        SameDiff sd = graph(c);
        DataSet sample = new TinyText().batches(1, 6, c.contextLength(), 3, DataType.DOUBLE).get(0);
        INDArray labels = sample.getLabels().get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 9)).dup();
        SameDiffPartitioner.Plan sampled = SameDiffPartitioner.balance(sd, 2, new DataSet(sample.getFeatures().remainder(9),
                labels));
        SameDiffPartitioner.Plan dummy = SameDiffPartitioner.balance(sd, 2);
        assertEquals(List.of("block1_out"), sampled.cuts());
        double ratio = sampled.stageCosts()[0] / dummy.stageCosts()[0];
        assertEquals(3.0, ratio, 0.05, "costs scale with the batch (6 vs 2 examples)");
    }

    @Test
    void tooManyStagesNamesTheCandidates() {
        SameDiff sd = graph(config(2, false));
        List<String> c = SameDiffPartitioner.candidates(sd);
        String m = assertThrows(IllegalArgumentException.class, () -> SameDiffPartitioner.balance(sd, c.size() + 2))
                .getMessage();
        assertTrue(m.contains(c.size() + " candidate cut variable(s)") && m.contains("at most " + (c.size() + 1)
                + " stages") && m.contains("block0_out") && m.contains("embed_out"), m);
        // a tied embedding is used by the first and the last ops: no cut between them
        SameDiff tied = graph(config(2, true));
        List<String> tc = SameDiffPartitioner.candidates(tied);
        assertTrue(!tc.contains("block0_out") && !tc.contains("embed_out"), tc.toString());
        String mt = assertThrows(IllegalArgumentException.class, () -> SameDiffPartitioner.balance(tied, tc.size() + 2))
                .getMessage();
        assertTrue(mt.contains("cannot cut the SameDiff graph into " + (tc.size() + 2) + " stages"), mt);
    }

    @Test
    void matrixProductsCostTwoMnk() {
        TinyText text = new TinyText();
        TransformerConfig c = TransformerConfig.builder().vocabSize(text.vocabSize()).contextLength(8).modelDim(16)
                .heads(2).layers(2).mlpDim(64).tiedOutputHead(false).seed(1).dataType(DataType.DOUBLE).build();
        SameDiff sd = graph(c);
        java.util.Map<String, Double> costs = SameDiffPartitioner.opCosts(sd, sd.getLossVariables(),
                text.batches(1, 3, 8, 1, DataType.DOUBLE).get(0));
        // the MLP's first product: [B*T, D] x [D, mlp] = 2 * 24 * 64 * 16 flops, the largest product in a block
        double max = costs.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        assertEquals(2.0 * 24 * 64 * 16, max, 0.0);
    }
}
