package io.asyncpipeline.model.samediff;

import io.asyncpipeline.PipelineSettings;
import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.runtime.PipelineTrainer;
import io.asyncpipeline.runtime.RunSettings;
import io.asyncpipeline.transport.InJvmTransport;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.runtime.PipelineModel;
import io.asyncpipeline.transport.Message;
import io.asyncpipeline.stage.SlotWeights;
import io.asyncpipeline.stage.StageComputation;
import io.asyncpipeline.updater.DiscountedNadam;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * SameDiff stages recompute their forward inside the backward, so the worker runs no forward before a
 * backward ({@code backwardRecomputesForward}): the same bits as a run that re-runs it, with fewer forwards.
 */
class SameDiffForwardSkipTest {

    /** Counts forward calls; optionally hides {@code backwardRecomputesForward} (the behaviour before the skip). */
    private static final class Counting implements StageComputation {
        private final StageComputation inner;
        private final boolean skip;
        int forwards;

        Counting(StageComputation inner, boolean skip) {
            this.inner = inner;
            this.skip = skip;
        }

        @Override
        public INDArray[] forward(Message input, int slot, int iteration, int epoch) {
            forwards++;
            return inner.forward(input, slot, iteration, epoch);
        }

        @Override
        public int slots() {
            return inner.slots();
        }

        @Override
        public SlotWeights slotWeights() {
            return inner.slotWeights();
        }

        @Override
        public INDArray[] backward(Message input, INDArray[] outputGradients, int slot) {
            return inner.backward(input, outputGradients, slot);
        }

        @Override
        public INDArray[] lastOutputMasks() {
            return inner.lastOutputMasks();
        }

        @Override
        public double lastScore() {
            return inner.lastScore();
        }

        @Override
        public void update(int iteration, int epoch, int examples) {
            inner.update(iteration, epoch, examples);
        }

        @Override
        public void discardGradients() {
            inner.discardGradients();
        }

        @Override
        public INDArray params() {
            return inner.params();
        }

        @Override
        public INDArray snapshotParams() {
            return inner.snapshotParams();
        }

        @Override
        public void restoreParams(INDArray flat) {
            inner.restoreParams(flat);
        }

        @Override
        public boolean backwardRecomputesForward() {
            return skip && inner.backwardRecomputesForward();
        }
    }

    /** The SameDiff model with counting stages. */
    private record CountingModel(PipelineModel inner, List<Counting> counting) implements PipelineModel {
        static CountingModel of(PipelineModel inner, boolean skip) {
            List<Counting> c = new ArrayList<>();
            for (StageComputation s : inner.stages()) {
                c.add(new Counting(s, skip));
            }
            return new CountingModel(inner, c);
        }

        @Override
        public List<StageComputation> stages() {
            return List.copyOf(counting);
        }

        @Override
        public int[] partition() {
            return inner.partition();
        }

        @Override
        public String unit() {
            return inner.unit();
        }

        @Override
        public List<String> cutAfter() {
            return inner.cutAfter();
        }

        @Override
        public List<List<String>> crossing() {
            return inner.crossing();
        }

        @Override
        public boolean takesMultiDataSets() {
            return inner.takesMultiDataSets();
        }

        @Override
        public void checkBatch(org.nd4j.linalg.dataset.api.MultiDataSet batch) {
        }

        @Override
        public void pullOptimizerState() {
            inner.pullOptimizerState();
        }

        @Override
        public void pushOptimizerState() {
            inner.pushOptimizerState();
        }

        @Override
        public int iterationCount() {
            return inner.iterationCount();
        }

        @Override
        public int epochCount() {
            return inner.epochCount();
        }

        @Override
        public void setCounters(int iteration, int epoch) {
            inner.setCounters(iteration, epoch);
        }

        @Override
        public void reportIteration(int iteration, int epoch, double score) {
            inner.reportIteration(iteration, epoch, score);
        }

        @Override
        public void epochEvent(boolean start) {
            inner.epochEvent(start);
        }

        @Override
        public void saveCheckpoint(File file) throws IOException {
            inner.saveCheckpoint(file);
        }
    }

    private record Run(SameDiff sd, int[] forwards, PipelineMetrics metrics) {
    }

    private static Run run(boolean stashing, boolean skip, List<DataSet> data) {
        SameDiff sd = SameDiffAsyncStashingTest.graph(DiscountedNadam.builder().learningRate(1e-2).build());
        CountingModel model;
        PipelineSettings s;
        try (AsyncPipelineWrapper plain = SameDiffAsyncStashingTest.stashing(sd).weightStashing(stashing).build()) {
            model = CountingModel.of(plain.pipelineModel(), skip);
            s = plain.settings();
        }
        // the runtime trains the counting stages directly (the facade builds its own stages)
        RunSettings settings = new RunSettings(s.schedule().generator(s.microBatches()), s.devices().length + 2, s.devices(),
                s.weightStashing(), s.seed(), s.replay(), s.ndThreadsPerStage(), s.offHeapGcBudget(), 0);
        PipelineTrainer trainer = new PipelineTrainer(model, settings, new InJvmTransport(), (i, m, score) -> { });
        PipelineMetrics metrics = trainer.fit(new ListDataSetIterator<>(data, 1), 1);
        int[] f = new int[model.counting().size()];
        for (int k = 0; k < f.length; k++) {
            f[k] = model.counting().get(k).forwards;
        }
        return new Run(sd, f, metrics);
    }

    @Test
    void skippingTheRedundantForwardKeepsTheBits() {
        List<DataSet> data = SameDiffPipelineTest.batches(6, 2, 17);
        for (boolean stashing : new boolean[] {true, false}) {
            Run skipped = run(stashing, true, data);
            Run rerun = run(stashing, false, data);
            Map<String, INDArray> a = SameDiffAsyncStashingTest.variables(skipped.sd());
            Map<String, INDArray> b = SameDiffAsyncStashingTest.variables(rerun.sd());
            for (Map.Entry<String, INDArray> e : a.entrySet()) {
                assertArrayEquals(b.get(e.getKey()).data().asDouble(), e.getValue().data().asDouble(), 0.0,
                        e.getKey() + " (stashing " + stashing + ")");
            }
            int saved = 0;
            for (int k = 0; k < 3; k++) {
                assertEquals(data.size(), skipped.forwards()[k], "stage " + k + ": one forward per micro-batch");
                assertEquals(0, skipped.metrics().stage(k).recomputes());
                assertEquals(data.size() + rerun.metrics().stage(k).recomputes(), rerun.forwards()[k]);
                saved += rerun.forwards()[k] - skipped.forwards()[k];
            }
            // stage k (τ_k = 2 - k) re-ran every forward whose backward followed another forward
            assertTrue(rerun.metrics().stage(0).recomputes() >= data.size() - 1, "stage 0 recomputed");
            assertTrue(rerun.metrics().stage(1).recomputes() >= data.size() - 1, "stage 1 recomputed");
            System.out.printf("SameDiff ASYNC_1F1B, stashing %b, %d micro-batches: forwards per stage %s with the skip,"
                    + " %s without (%d saved)%n", stashing, data.size(), java.util.Arrays.toString(skipped.forwards()),
                    java.util.Arrays.toString(rerun.forwards()), saved);
        }
    }
}
