package io.asyncpipeline.model.samediff;

import io.asyncpipeline.Schedule;
import io.asyncpipeline.AsyncPipelineWrapper;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.model.samediff.SameDiffPipelineModel;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/** The threaded pipeline executor (GPipe, 4 stage threads) on SameDiff stages equals sd.fit. */
public class SameDiffPipelineTest {

    @Test
    void gpipeExecutorEqualsFit() {
        TransformerConfig c = TransformerConfig.builder().vocabSize(9).contextLength(5).modelDim(8).heads(2).layers(4)
                .mlpDim(12).tiedOutputHead(false).seed(21).dataType(DataType.DOUBLE).build();
        SameDiff reference = DecoderTransformer.build(c);
        SameDiff piped = DecoderTransformer.build(c);
        reference.setTrainingConfig(DecoderTransformer.trainingConfig(DiscountedNadam.builder().learningRate(1e-2).build()));
        DecoderTransformer.prepareForFit(reference);
        piped.setTrainingConfig(DecoderTransformer.trainingConfig(DiscountedNadam.builder().learningRate(1e-2).build()));

        Random r = new Random(3);
        List<DataSet> data = new ArrayList<>();
        for (int b = 0; b < 3; b++) {
            INDArray x = Nd4j.zeros(DataType.DOUBLE, 4, 5);
            INDArray ids = Nd4j.zeros(DataType.DOUBLE, 4, 5);
            for (int i = 0; i < 4; i++) {
                for (int t = 0; t < 5; t++) {
                    x.putScalar(i, t, r.nextInt(9));
                    ids.putScalar(i, t, r.nextInt(9));
                }
            }
            data.add(new DataSet(x, DecoderTransformer.oneHot(ids, 9, DataType.DOUBLE)));
        }
        for (DataSet d : data) {
            reference.fit(d);
        }
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).cutAfter(DecoderTransformer.blockCuts(c))
                .schedule(Schedule.GPIPE).microBatches(2).build()) {
            assertEquals(4, w.partition().length);
            w.fit(new ListDataSetIterator<>(data, 1));
        }
        for (SDVariable v : reference.variables()) {
            if (v.getVariableType() != VariableType.VARIABLE) {
                continue;
            }
            INDArray a = v.getArr();
            INDArray b = piped.getVariable(v.name()).getArr();
            double e = a.sub(b).norm2Number().doubleValue() / a.norm2Number().doubleValue();
            assertTrue(e < 1e-6, v.name() + ": relative difference " + e);
        }
    }

    private static TransformerConfig tiny(int layers) {
        return TransformerConfig.builder().vocabSize(9).contextLength(5).modelDim(8).heads(2).layers(layers)
                .mlpDim(12).tiedOutputHead(false).seed(21).dataType(DataType.DOUBLE).build();
    }

    public static List<DataSet> batches(int count, int size, long seed) {
        Random r = new Random(seed);
        List<DataSet> data = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            INDArray x = Nd4j.zeros(DataType.DOUBLE, size, 5);
            INDArray ids = Nd4j.zeros(DataType.DOUBLE, size, 5);
            for (int i = 0; i < size; i++) {
                for (int t = 0; t < 5; t++) {
                    x.putScalar(i, t, r.nextInt(9));
                    ids.putScalar(i, t, r.nextInt(9));
                }
            }
            data.add(new DataSet(x, DecoderTransformer.oneHot(ids, 9, DataType.DOUBLE)));
        }
        return data;
    }

    private static SameDiff fitAsync(TransformerConfig c, List<DataSet> data, boolean replay) {
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(DiscountedNadam.builder().learningRate(1e-2).build()));
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(sd).cutAfter(DecoderTransformer.blockCuts(c))
                .schedule(Schedule.ASYNC_1F1B).weightStashing(false).singleThreadedReplay(replay).build()) {
            w.fit(new ListDataSetIterator<>(data, 1));
            assertEquals(c.layers(), w.partition().length);
            for (int k = 0; k < c.layers(); k++) {
                assertEquals(data.size(), w.metrics().stage(k).updates(), "one update per micro-batch on stage " + k);
            }
        }
        assertEquals(data.size(), sd.getTrainingConfig().getIterationCount());
        return sd;
    }

    @Test
    void async1f1bWithoutStashingEqualsSingleThreadedReplayBitForBit() {
        TransformerConfig c = tiny(3);
        List<DataSet> data = batches(6, 2, 5);
        SameDiff threaded = fitAsync(c, data, false);
        SameDiff replayed = fitAsync(c, data, true);
        SameDiff fresh = DecoderTransformer.build(c);
        int compared = 0;
        for (SDVariable v : threaded.variables()) {
            if (v.getVariableType() != VariableType.VARIABLE) {
                continue;
            }
            assertArrayEquals(replayed.getVariable(v.name()).getArr().data().asDouble(), v.getArr().data().asDouble(), 0.0,
                    v.name());
            compared++;
        }
        assertEquals(3 * 15 + 6, compared);   // 15 per block; wte, wpe, lnf, head
        double moved = fresh.getVariable("head_W").getArr().sub(threaded.getVariable("head_W").getArr()).norm2Number()
                .doubleValue();
        assertTrue(moved > 1e-4, "training moved head_W by " + moved);
    }

    private static SameDiff adamGraph(TransformerConfig c) {
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(new Adam(1e-2)));
        return sd;
    }

    private static void gpipe(SameDiff sd, TransformerConfig c, List<DataSet> data) {
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(sd).cutAfter(DecoderTransformer.blockCuts(c))
                .schedule(Schedule.GPIPE).microBatches(2).build()) {
            w.fit(new ListDataSetIterator<>(data, 1));
        }
    }

    private static double worstRelativeDifference(SameDiff a, SameDiff b) {
        double worst = 0;
        for (SDVariable v : a.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                INDArray x = v.getArr();
                INDArray y = b.getVariable(v.name()).getArr();
                worst = Math.max(worst, x.sub(y).norm2Number().doubleValue() / x.norm2Number().doubleValue());
            }
        }
        return worst;
    }

    @Test
    void fitAfterPipelineContinuesTheStagesOptimizerState() {
        TransformerConfig c = tiny(3);
        List<DataSet> data = batches(4, 4, 11);
        SameDiff reference = adamGraph(c);
        DecoderTransformer.prepareForFit(reference);
        for (DataSet d : data) {
            reference.fit(d);
        }
        SameDiff piped = adamGraph(c);
        gpipe(piped, c, data.subList(0, 3));
        assertTrue(piped.isInitializedTraining(), "updater state written back");
        assertEquals(3 * 15 + 6, piped.getUpdaterMap().size());
        assertEquals(3, piped.getTrainingConfig().getIterationCount());
        DecoderTransformer.prepareForFit(piped);
        piped.fit(data.get(3));
        double e = worstRelativeDifference(reference, piped);
        assertTrue(e < 1e-10, "pipeline then sd.fit vs sd.fit throughout: relative difference " + e);
        // with a fresh Adam state at the switch the last step would differ clearly
        SameDiff restarted = adamGraph(c);
        gpipe(restarted, c, data.subList(0, 3));
        SameDiff fresh = SameDiff.load(saveTemp(restarted, false), false);
        fresh.setTrainingConfig(DecoderTransformer.trainingConfig(new Adam(1e-2)));
        fresh.getTrainingConfig().setIterationCount(3);
        DecoderTransformer.prepareForFit(fresh);
        fresh.fit(data.get(3));
        assertTrue(worstRelativeDifference(reference, fresh) > 1e-6, "the test can tell the states apart");
    }

    private static java.io.File saveTemp(SameDiff sd, boolean updaterState) {
        try {
            java.io.File f = java.io.File.createTempFile("samediff", ".fb");
            f.deleteOnExit();
            sd.save(f, updaterState);
            return f;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void checkpointSaveLoadContinueEqualsNotStopping() throws Exception {
        TransformerConfig c = tiny(3);
        List<DataSet> data = batches(4, 4, 13);
        SameDiff through = adamGraph(c);
        gpipe(through, c, data);

        SameDiff first = adamGraph(c);
        java.io.File file = java.io.File.createTempFile("checkpoint", ".fb");
        file.deleteOnExit();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(first).cutAfter(DecoderTransformer.blockCuts(c))
                .schedule(Schedule.GPIPE).microBatches(2).build()) {
            w.fit(new ListDataSetIterator<>(data.subList(0, 2), 1));
            w.saveCheckpoint(file);
        }
        SameDiff resumed = SameDiff.load(file, true);
        assertEquals(2, resumed.getTrainingConfig().getIterationCount());
        assertEquals(3 * 15 + 6, resumed.getUpdaterMap().size());
        gpipe(resumed, c, data.subList(2, 4));
        assertEquals(4, resumed.getTrainingConfig().getIterationCount());
        for (SDVariable v : through.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                assertArrayEquals(v.getArr().data().asDouble(), resumed.getVariable(v.name()).getArr().data().asDouble(),
                        0.0, v.name());
            }
        }
    }

    /** 10 single examples read 4 at a time: batches of 4, 4 and 2 examples. */
    private static ListDataSetIterator<DataSet> tenExamplesByFour(long seed) {
        List<DataSet> single = new ArrayList<>();
        for (DataSet d : batches(10, 1, seed)) {
            single.add(d);
        }
        return new ListDataSetIterator<>(single, 4);
    }

    @Test
    void smallerLastBatchGpipeOnAutomaticCutsEqualsFit() {
        TransformerConfig c = tiny(3);
        SameDiff reference = adamGraph(c);
        DecoderTransformer.prepareForFit(reference);
        ListDataSetIterator<DataSet> it = tenExamplesByFour(17);
        List<Integer> sizes = new ArrayList<>();
        while (it.hasNext()) {
            DataSet d = it.next();
            sizes.add(d.numExamples());
            reference.fit(d);
        }
        assertEquals(List.of(4, 4, 2), sizes);
        SameDiff piped = adamGraph(c);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).stages(3).schedule(Schedule.GPIPE)
                .microBatches(2).build()) {
            assertEquals(List.of("block0_out", "block1_out"), ((SameDiffPipelineModel) w.pipelineModel()).cuts());
            w.fit(tenExamplesByFour(17));
            assertEquals(10, w.metrics().examples());
        }
        assertEquals(3, piped.getTrainingConfig().getIterationCount());
        double e = worstRelativeDifference(reference, piped);
        assertTrue(e < 1e-10, "batches 4, 4, 2 (micro-batches of 2, 2, 1): relative difference to sd.fit " + e);
    }

    @Test
    void smallerLastBatchAsyncWithoutStashing() {
        TransformerConfig c = tiny(3);
        SameDiff[] runs = new SameDiff[2];
        for (int r = 0; r < 2; r++) {
            runs[r] = adamGraph(c);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(runs[r]).stages(3).schedule(Schedule.ASYNC_1F1B)
                    .weightStashing(false).singleThreadedReplay(r == 1).build()) {
                w.fit(tenExamplesByFour(19));
                assertEquals(10, w.metrics().examples());
                for (int k = 0; k < 3; k++) {
                    assertEquals(3, w.metrics().stage(k).updates(), "updates on stage " + k);
                }
            }
        }
        for (SDVariable v : runs[0].variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                assertArrayEquals(v.getArr().data().asDouble(), runs[1].getVariable(v.name()).getArr().data().asDouble(), 0.0,
                        "threaded equals the replay: " + v.name());
            }
        }
        assertTrue(worstRelativeDifference(runs[0], adamGraph(c)) > 1e-4, "training moved the parameters");
    }

    @Test
    void firstBatchWithAWrongShapeFailsBeforeAnyUpdate() {
        TransformerConfig c = tiny(3);
        SameDiff sd = adamGraph(c);
        SameDiff untouched = adamGraph(c);
        List<DataSet> data = new ArrayList<>();
        data.add(new DataSet(Nd4j.zeros(DataType.DOUBLE, 4, 7), Nd4j.zeros(DataType.DOUBLE, 4, 7, 9)));
        data.addAll(batches(2, 4, 23));
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(sd).stages(3).schedule(Schedule.GPIPE)
                .microBatches(2).build()) {
            String m = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> w.fit(new ListDataSetIterator<>(data, 1))).getMessage();
            assertTrue(m.contains("a batch's features have shape [4, 7], but placeholder \"tokens\" is declared [-1, 5]")
                    && m.contains("dimension 1 is 7, expected 5"), m);
            assertEquals(0, sd.getTrainingConfig().getIterationCount());
            for (SDVariable v : untouched.variables()) {
                if (v.getVariableType() == VariableType.VARIABLE) {
                    assertArrayEquals(v.getArr().data().asDouble(), sd.getVariable(v.name()).getArr().data().asDouble(), 0.0,
                            "no update was applied to " + v.name());
                }
            }
            // the wrapper is still usable: the good batches train
            w.fit(new ListDataSetIterator<>(data.subList(1, 3), 1));
            assertEquals(2, sd.getTrainingConfig().getIterationCount());
        }
    }
}
