package io.asyncpipeline.model.samediff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.transport.Message;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Regression: SameDiff keeps one execution session (with an array cache of up to a quarter of JavaCPP's limit)
 * per thread and graph; every fit runs the stage graphs from new threads, so the sessions of finished stage
 * threads used to pile up, fit after fit. Now a stage's sessions live exactly as long as its thread's run, and
 * their memory is scoped to one pass.
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

    private static PassArena arena(SameDiff g) {
        return (PassArena) g.getSessions().get(Thread.currentThread().getId()).getMmgr();
    }

    /**
     * A stage allocates its SameDiff arrays in the first micro-batch only: from the second on, every forward and
     * backward array is taken from the pass before, and no array of a pass outlives the next pass unused.
     */
    @Test
    void aStagePassAllocatesNothingInTheSteadyState() {
        List<DataSet> data = SameDiffPipelineTest.batches(3, 2, 5);
        SameDiff sd = SameDiffAsyncStashingTest.graph(DiscountedNadam.builder().learningRate(1e-2).build());
        try (AsyncPipelineWrapper w = SameDiffAsyncStashingTest.stashing(sd).build()) {
            SameDiffStage stage = (SameDiffStage) w.pipelineModel().stages().get(0);
            int before = sessions(w);
            stage.enterThread();
            try {
                assertEquals(before + 2, sessions(w), "one session for the stage graph, one for its gradient function");
                SameDiff g = stage.stageGraph().graph();
                PassArena fwd = arena(g);
                PassArena bwd = arena(g.getFunction(SameDiffSessions.GRADIENT_FUNCTION));
                long[] fresh = new long[data.size()];
                INDArray previousOutput = null;
                for (int mb = 0; mb < data.size(); mb++) {
                    DataSet d = data.get(mb);
                    Message m = new Message(mb, 0, 2, new INDArray[] {d.getFeatures()}, new INDArray[] {d.getLabels()},
                            null, null);
                    INDArray out = stage.forward(m, 0, mb, 0)[0];
                    if (previousOutput != null) {
                        assertNotSame(previousOutput, out, "the activation sent on is the stage's own copy");
                        assertFalse(previousOutput.wasClosed(), "an activation already sent stays valid");
                    }
                    previousOutput = out;
                    stage.backward(m, new INDArray[] {out.ulike().assign(1e-3)}, 0);
                    fresh[mb] = fwd.allocations() + bwd.allocations();
                }
                assertTrue(fresh[0] > 0, "the first micro-batch allocates");
                assertEquals(fresh[0], fresh[data.size() - 1], "later micro-batches allocate nothing new");
                assertTrue(bwd.reuses() > 0, "the backward reuses the previous pass's arrays");
            } finally {
                stage.leaveThread();
            }
            assertEquals(before, sessions(w));
        }
    }
}
