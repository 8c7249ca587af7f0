package io.asyncpipeline.model.samediff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Regression: SameDiff keeps one execution session (with an array cache of up to a quarter of JavaCPP's limit)
 * per thread and graph; every fit runs the stage graphs from new threads, so the sessions of finished stage
 * threads used to pile up, fit after fit. Now a stage's sessions live exactly as long as its thread's run.
 */
class SameDiffSessionsTest {

    private static int sessions(AsyncPipelineWrapper w) {
        int n = 0;
        for (StageComputation c : w.pipelineModel().stages()) {
            SameDiff g = ((SameDiffStage) c).stageGraph().graph();
            n += g.getSessions().size();
            SameDiff grad = g.getFunction(SameDiffSessions.GRADIENT_FUNCTION);
            n += grad == null ? 0 : grad.getSessions().size();
        }
        return n;
    }

    @Test
    void noStageSessionOutlivesItsRun() {
        List<DataSet> data = SameDiffPipelineTest.batches(4, 2, 3);
        for (boolean replay : new boolean[] {false, true}) {
            SameDiff sd = SameDiffAsyncStashingTest.graph(DiscountedNadam.builder().learningRate(1e-2).build());
            try (AsyncPipelineWrapper w = SameDiffAsyncStashingTest.stashing(sd).singleThreadedReplay(replay).build()) {
                for (int fit = 0; fit < 3; fit++) {
                    w.fit(new ListDataSetIterator<>(data, 1));
                    assertEquals(0, sessions(w), "sessions left after fit " + fit + " (replay " + replay + ")");
                }
                assertEquals(12, sd.getTrainingConfig().getIterationCount(), "the fits trained");
            }
        }
    }

    @Test
    void aStageSessionCachesAtMostItsBound() {
        SameDiff sd = SameDiffAsyncStashingTest.graph(DiscountedNadam.builder().learningRate(1e-2).build());
        try (AsyncPipelineWrapper w = SameDiffAsyncStashingTest.stashing(sd).build()) {
            SameDiffStage stage = (SameDiffStage) w.pipelineModel().stages().get(0);
            int before = sessions(w);
            stage.enterThread();
            try {
                SameDiff g = stage.stageGraph().graph();
                org.nd4j.autodiff.samediff.internal.InferenceSession s = g.getSessions().get(Thread.currentThread().getId());
                org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr m =
                        (org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr) s.getMmgr();
                assertTrue(m.getMaxCacheBytes() <= SameDiffSessions.CACHE_BYTES, m.getMaxCacheBytes() + " bytes");
                assertTrue(m.getMaxCacheBytes() > SameDiffSessions.CACHE_BYTES / 2, "the cache still reuses arrays");
                assertEquals(before + 2, sessions(w), "one session for the stage graph, one for its gradient function");
            } finally {
                stage.leaveThread();
            }
            assertEquals(before, sessions(w));
        }
    }
}
