package io.asyncpipeline.model.samediff;

import io.asyncpipeline.Schedule;
import io.asyncpipeline.AsyncPipelineWrapper;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * ASYNC_1F1B with weight stashing on a 3-stage SameDiff transformer (double precision): threaded equals
 * the single-threaded replay bit for bit, and both equal an independent replay written here from plain
 * SameDiff calls on the unsplit graph (the semantics {@link AsyncSemanticsTest} pins for MultiLayerNetwork).
 */
public class SameDiffAsyncStashingTest {

    public static final TransformerConfig C = TransformerConfig.builder().vocabSize(9).contextLength(5).modelDim(8).heads(2)
            .layers(3).mlpDim(12).tiedOutputHead(false).seed(21).dataType(DataType.DOUBLE).build();

    public static SameDiff graph(IUpdater u) {
        SameDiff sd = DecoderTransformer.build(C);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(u));
        return sd;
    }

    public static AsyncPipelineWrapper.Builder stashing(SameDiff sd) {
        return new AsyncPipelineWrapper.Builder(sd).cutAfter(DecoderTransformer.blockCuts(C))
                .schedule(Schedule.ASYNC_1F1B).weightStashing(true);
    }

    private static SameDiff fit(IUpdater u, List<DataSet> data, boolean replay) {
        SameDiff sd = graph(u);
        try (AsyncPipelineWrapper w = stashing(sd).singleThreadedReplay(replay).build()) {
            w.fit(new ListDataSetIterator<>(data, 1));
            for (int k = 0; k < 3; k++) {
                assertEquals(data.size(), w.metrics().stage(k).updates(), "one update per micro-batch on stage " + k);
                assertEquals(2 - k, w.metrics().stage(k).modalDelay(), "stage " + k + " delay");
                assertEquals(0, w.metrics().stage(k).recomputes(), "no forward re-run before a SameDiff backward");
            }
            assertTrue(w.metrics().stage(0).peakStashBytes() > 0, "stage 0 stashed weight versions");
        }
        assertEquals(data.size(), sd.getTrainingConfig().getIterationCount());
        return sd;
    }

    public static Map<String, INDArray> variables(SameDiff sd) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                out.put(v.name(), v.getArr());
            }
        }
        return out;
    }

    @Test
    void threadedEqualsSingleThreadedReplayBitForBit() {
        List<DataSet> data = SameDiffPipelineTest.batches(6, 2, 5);
        IUpdater u = DiscountedNadam.builder().learningRate(1e-2).build();
        Map<String, INDArray> threaded = variables(fit(u, data, false));
        Map<String, INDArray> replayed = variables(fit(u, data, true));
        assertEquals(3 * 15 + 6, threaded.size());
        for (Map.Entry<String, INDArray> e : threaded.entrySet()) {
            assertArrayEquals(replayed.get(e.getKey()).data().asDouble(), e.getValue().data().asDouble(), 0.0, e.getKey());
        }
    }

    @Test
    void stashingMatchesAnIndependentReplayOfTheUnsplitGraph() {
        check(DiscountedNadam.builder().learningRate(1e-2).build());
        check(new Adam(2e-2));
    }

    private static void check(IUpdater u) {
        List<DataSet> data = SameDiffPipelineTest.batches(7, 2, 9);
        Map<String, INDArray> piped = variables(fit(u, data, false));
        SameDiff ref = graph(u);
        replay(ref, u, data);
        SameDiff fresh = DecoderTransformer.build(C);
        double worst = 0;
        for (Map.Entry<String, INDArray> e : variables(ref).entrySet()) {
            INDArray a = e.getValue();
            INDArray b = piped.get(e.getKey());
            double err = a.sub(b).norm2Number().doubleValue() / a.norm2Number().doubleValue();
            worst = Math.max(worst, err);
            assertTrue(err < 1e-10, e.getKey() + ": relative difference " + err);
        }
        // the test can tell stashed from unstashed (and from untrained) weights
        SameDiff unstashed = graph(u);
        try (AsyncPipelineWrapper w = stashing(unstashed).weightStashing(false).build()) {
            w.fit(new ListDataSetIterator<>(data, 1));
        }
        double apart = 0;
        for (Map.Entry<String, INDArray> e : variables(ref).entrySet()) {
            INDArray b = unstashed.getVariable(e.getKey()).getArr();
            apart = Math.max(apart, e.getValue().sub(b).norm2Number().doubleValue() / e.getValue().norm2Number().doubleValue());
        }
        assertTrue(apart > 1e-8, "stashing vs no stashing differ by " + apart);
        assertTrue(fresh.getVariable("wte").getArr().sub(piped.get("wte")).norm2Number().doubleValue() > 1e-4);
        System.out.printf("SameDiff stashing vs independent replay (%s): worst relative difference %.2e; "
                + "no-stashing run differs by %.2e%n", u.getClass().getSimpleName(), worst, apart);
    }

    /** Stage of a variable of the 3-block transformer cut after block0_out and block1_out, by its name. */
    static int stageOf(String v) {
        if (v.equals("wte") || v.equals("wpe") || v.startsWith("block0_")) {
            return 0;
        }
        if (v.startsWith("block1_")) {
            return 1;
        }
        if (v.startsWith("block2_") || v.startsWith("lnf_") || v.startsWith("head_")) {
            return 2;
        }
        throw new AssertionError("variable " + v + " has no stage");
    }

    /**
     * The reference: micro-batch m's gradient is that of the unsplit graph at the point where stage i
     * holds its weight version max(0, m - τ_i), τ_i = P-1-i; it is applied to the latest weights (version m)
     * as update number m, one {@link GradientUpdater} per variable.
     */
    private static void replay(SameDiff sd, IUpdater u, List<DataSet> data) {
        int p = 3;
        Map<String, INDArray> params = variables(sd);
        Map<String, GradientUpdater> updaters = new HashMap<>();
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray arr = e.getValue();
            long size = u.stateSize(arr.length());
            INDArray view = size == 0 ? null : Nd4j.create(arr.dataType(), 1, size);
            GradientUpdater gu = u.clone().instantiate(view, true);
            if (view != null) {
                gu.setStateViewArray(view, arr.shape(), arr.ordering(), true);
            }
            updaters.put(e.getKey(), gu);
        }
        List<Map<String, INDArray>> history = new ArrayList<>();
        history.add(copy(params));
        List<String> names = new ArrayList<>(params.keySet());
        for (int m = 0; m < data.size(); m++) {
            for (String v : names) {
                int version = Math.max(0, m - (p - 1 - stageOf(v)));
                params.get(v).assign(history.get(version).get(v));
            }
            DataSet ds = data.get(m);
            Map<String, INDArray> ph = Map.of(DecoderTransformer.TOKENS, ds.getFeatures(), DecoderTransformer.LABELS,
                    ds.getLabels());
            Map<String, INDArray> grads = sd.calculateGradients(ph, names);
            int n = ds.numExamples();
            for (String v : names) {
                INDArray param = params.get(v);
                param.assign(history.get(m).get(v));
                INDArray g = grads.get(v).mul(n).divi(n);      // as the stage sums n·g and divides by the examples
                updaters.get(v).applyUpdater(g, m, 0);
                param.subi(g);
            }
            history.add(copy(params));
        }
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> params) {
        Map<String, INDArray> c = new HashMap<>();
        params.forEach((k, v) -> c.put(k, v.dup()));
        return c;
    }
}
