package io.asyncpipeline.arbiter;

import io.asyncpipeline.Schedule;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.transformer.TinyText;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import org.deeplearning4j.arbiter.ComputationGraphSpace;
import org.deeplearning4j.arbiter.MultiLayerSpace;
import org.deeplearning4j.arbiter.layers.DenseLayerSpace;
import org.deeplearning4j.arbiter.layers.OutputLayerSpace;
import org.deeplearning4j.arbiter.optimize.api.OptimizationResult;
import org.deeplearning4j.arbiter.optimize.api.ParameterSpace;
import org.deeplearning4j.arbiter.optimize.api.data.DataSource;
import org.deeplearning4j.arbiter.optimize.api.saving.ResultReference;
import org.deeplearning4j.arbiter.optimize.api.score.ScoreFunction;
import org.deeplearning4j.arbiter.optimize.api.termination.MaxCandidatesCondition;
import org.deeplearning4j.arbiter.optimize.config.OptimizationConfiguration;
import org.deeplearning4j.arbiter.optimize.generator.GridSearchCandidateGenerator;
import org.deeplearning4j.arbiter.optimize.generator.RandomSearchGenerator;
import org.deeplearning4j.arbiter.optimize.parameter.continuous.ContinuousParameterSpace;
import org.deeplearning4j.arbiter.optimize.parameter.discrete.DiscreteParameterSpace;
import org.deeplearning4j.arbiter.optimize.runner.CandidateInfo;
import org.deeplearning4j.arbiter.optimize.runner.CandidateStatus;
import org.deeplearning4j.arbiter.optimize.runner.IOptimizationRunner;
import org.deeplearning4j.arbiter.optimize.runner.LocalOptimizationRunner;
import org.deeplearning4j.arbiter.optimize.runner.listener.BaseStatusListener;
import org.deeplearning4j.arbiter.optimize.api.saving.InMemoryResultSaver;
import org.deeplearning4j.arbiter.scoring.impl.TestSetLossScoreFunction;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Arbiter searches through the pipeline: MultiLayerNetwork, ComputationGraph and SameDiff, failures, retraining. */
class PipelineSearchTest {

    /** Iris: the first 120 rows to train on (batches of 10), the last 30 to score. */
    public static final class IrisSource implements DataSource {
        private static final long serialVersionUID = 1L;
        private DataType type = DataType.FLOAT;      // Arbiter 1.0.0-beta7's network spaces build FLOAT networks

        public IrisSource() {
        }

        @Override
        public void configure(Properties p) {
            type = DataType.valueOf(p.getProperty("type", "FLOAT"));
        }

        @Override
        public Object trainData() {
            return new ListDataSetIterator<>(Iris.all(type).asList().subList(0, 120), 10);
        }

        @Override
        public Object testData() {
            return new ListDataSetIterator<>(Iris.all(type).asList().subList(120, 150), 30);
        }

        @Override
        public Class<?> getDataType() {
            return org.nd4j.linalg.dataset.api.iterator.DataSetIterator.class;
        }
    }

    /** Windows of {@link TinyText}: training batches from seed 1, a fixed held-out set from seed 99. */
    public static final class TextSource implements DataSource {
        private static final long serialVersionUID = 1L;

        public TextSource() {
        }

        @Override
        public void configure(Properties p) {
        }

        @Override
        public Object trainData() {
            return new ListDataSetIterator<>(new TinyText().batches(6, 4, 8, 1, DataType.DOUBLE), 1);
        }

        @Override
        public Object testData() {
            return new ListDataSetIterator<>(new TinyText().batches(2, 8, 8, 99, DataType.DOUBLE), 1);
        }

        @Override
        public Class<?> getDataType() {
            return org.nd4j.linalg.dataset.api.iterator.DataSetIterator.class;
        }
    }

    /** Iris training data whose iterator throws on its 5th batch: a candidate that fails in the middle of training. */
    public static final class BrokenSource implements DataSource {
        private static final long serialVersionUID = 1L;

        public BrokenSource() {
        }

        @Override
        public void configure(Properties p) {
        }

        @Override
        public Object trainData() {
            List<DataSet> rows = Iris.all(DataType.FLOAT).asList().subList(0, 120);
            List<DataSet> batches = new ArrayList<>();
            for (int i = 0; i < 120; i += 10) {
                batches.add(DataSet.merge(rows.subList(i, i + 10)));
            }
            return new ListDataSetIterator<DataSet>(batches, 1) {
                private int served;

                @Override
                public DataSet next() {
                    if (++served == 5) {
                        throw new IllegalStateException("the data source broke at batch 5");
                    }
                    return super.next();
                }
            };
        }

        @Override
        public Object testData() {
            return new ListDataSetIterator<>(Iris.all(DataType.FLOAT).asList().subList(120, 150), 30);
        }

        @Override
        public Class<?> getDataType() {
            return org.nd4j.linalg.dataset.api.iterator.DataSetIterator.class;
        }
    }

    static TransformerConfig tinyTransformer() {
        return TransformerConfig.builder().vocabSize(new TinyText().vocabSize()).contextLength(8).modelDim(8).heads(2)
                .layers(2).tiedOutputHead(false).seed(3).dataType(DataType.DOUBLE).build();
    }

    static MultiLayerSpace irisSpace(ParameterSpace<IUpdater> updater) {
        return new MultiLayerSpace.Builder().seed(7).updater(updater)
                .addLayer(new DenseLayerSpace.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .addLayer(new DenseLayerSpace.Builder().nIn(8).nOut(8).activation(Activation.TANH).build())
                .addLayer(new OutputLayerSpace.Builder().nIn(8).nOut(3).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .build();
    }

    /** Counts what the status listeners hear. */
    static final class Heard extends BaseStatusListener {
        final List<CandidateStatus> statuses = new ArrayList<>();
        final AtomicInteger iterations = new AtomicInteger();

        @Override
        public synchronized void onCandidateStatusChange(CandidateInfo info, IOptimizationRunner runner,
                                                         OptimizationResult result) {
            statuses.add(info.getCandidateStatus());
        }

        @Override
        public void onCandidateIteration(CandidateInfo info, Object candidate, int iteration) {
            iterations.incrementAndGet();
        }
    }

    static IOptimizationRunner search(Object generatorSpace, boolean grid, int candidates, ScoreFunction score,
                                      Class<? extends DataSource> data, PipelineTaskCreator tasks, Heard heard) {
        ParameterSpace<?> space = (ParameterSpace<?>) generatorSpace;
        OptimizationConfiguration conf = new OptimizationConfiguration.Builder()
                .candidateGenerator(grid ? new GridSearchCandidateGenerator(space, candidates,
                        GridSearchCandidateGenerator.Mode.Sequential, null) : new RandomSearchGenerator(space, null))
                .dataSource(data, new Properties())
                .modelSaver(new InMemoryResultSaver())
                .scoreFunction(score)
                .terminationConditions(new MaxCandidatesCondition(candidates))
                .rngSeed(12345)
                .build();
        IOptimizationRunner runner = new LocalOptimizationRunner(conf, tasks);
        runner.addListeners(heard);
        runner.execute();
        return runner;
    }

    static void assertNoStageThreads() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertTrue(!t.isAlive() || !t.getName().startsWith("async-pipeline-stage-"), "left behind: " + t.getName());
        }
    }

    @Test
    void aMultiLayerSearchRunsThreeCandidatesThroughThePipelineAndStoresItsMetrics() throws Exception {
        PipelineTaskCreator tasks = PipelineTaskCreator.builder().stepsPerCandidate(12).reportEvery(4)
                .pipeline(PipelineConfig.builder().stages(2).weightStashing(true).build()).build();
        Heard heard = new Heard();
        IOptimizationRunner runner = search(irisSpace(DiscountedNadamSpace.builder()
                        .learningRate(new ContinuousParameterSpace(1e-3, 1e-2)).build()), false, 3,
                new TestSetLossScoreFunction(true), IrisSource.class, tasks, heard);
        assertEquals(3, runner.numCandidatesCompleted(), "failed: " + tasks.trials());
        assertEquals(0, runner.numCandidatesFailed());
        List<Trial> trials = tasks.trials();
        assertEquals(3, trials.size());
        for (Trial t : trials) {
            assertTrue(t.completed(), t.toString());
            assertTrue(Double.isFinite(t.score()));
            assertEquals(12, t.summary().steps());
            assertEquals(120, t.summary().examples());        // 12 batches of 10
            assertEquals(2, t.summary().utilisation().length);
            assertTrue(t.summary().examplesPerSecond() > 0);
            assertEquals(1, t.summary().modalDelay()[0], "stage 0 of 2 sees delay 1 in async 1F1B");
        }
        ResultReference best = runner.getResults().get(0);
        OptimizationResult r = best.getResult();
        assertTrue(r.getModelSpecificResults() instanceof RunSummary, String.valueOf(r.getModelSpecificResults()));
        assertTrue(heard.statuses.contains(CandidateStatus.Running) && heard.statuses.contains(CandidateStatus.Complete));
        assertEquals(9, heard.iterations.get(), "every 4 of 12 steps, 3 candidates");
        assertNoStageThreads();
    }

    @Test
    void aGraphSearchRunsThreeCandidates() {
        ComputationGraphSpace cgs = new ComputationGraphSpace.Builder().seed(7)
                .updater(DelayCorrectedNesterovSpace.builder().learningRate(0.05)
                        .momentum(new DiscreteParameterSpace<>(0.5, 0.7, 0.9)).build())
                .addInputs("in")
                .addLayer("h1", new DenseLayerSpace.Builder().nIn(4).nOut(8).activation(Activation.TANH).build(), "in")
                .addLayer("h2", new DenseLayerSpace.Builder().nIn(8).nOut(8).activation(Activation.TANH).build(), "h1")
                .addLayer("out", new OutputLayerSpace.Builder().nIn(8).nOut(3).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build(), "h2")
                .setOutputs("out").build();
        PipelineCandidateSpace space = PipelineCandidateSpace.graph(cgs, PipelineSpace.builder().stages(3).build());
        PipelineTaskCreator tasks = PipelineTaskCreator.builder().stepsPerCandidate(8).build();
        IOptimizationRunner runner = search(space, true, 3, new TestSetLossScoreFunction(true), IrisSource.class,
                tasks, new Heard());
        assertEquals(3, runner.numCandidatesCompleted(), "failed: " + tasks.trials());
        List<Double> momenta = new ArrayList<>();
        for (Trial t : tasks.trials()) {
            assertNotNull(t.candidate().graph());
            assertEquals(3, t.summary().utilisation().length);
            DelayCorrectedNesterov u = (DelayCorrectedNesterov) ((org.deeplearning4j.nn.conf.layers.BaseLayer)
                    ((org.deeplearning4j.nn.conf.graph.LayerVertex) t.candidate().graph().getVertices().get("h1"))
                            .getLayerConf().getLayer()).getIUpdater();
            momenta.add(u.getMomentum());
        }
        momenta.sort(Comparator.naturalOrder());
        assertEquals(List.of(0.5, 0.7, 0.9), momenta);
        assertNoStageThreads();
    }

    @Test
    void aSameDiffSearchRunsThreeCandidatesAndItsBestRetrainsToTheSameScoreFromJson() {
        PipelineCandidateSpace space = PipelineCandidateSpace.sameDiff(
                DiscountedNadamSpace.builder().learningRate(new DiscreteParameterSpace<>(1e-3, 3e-3, 1e-2)).build(),
                PipelineSpace.builder().stages(2).schedule(Schedule.ASYNC_1F1B).weightStashing(true).build());
        PipelineTaskCreator tasks = PipelineTaskCreator.builder().transformer(tinyTransformer()).stepsPerCandidate(6)
                .singleThreadedReplay(true).seed(5).build();
        IOptimizationRunner runner = search(space, true, 3, new SameDiffLossScoreFunction(), TextSource.class, tasks,
                new Heard());
        assertEquals(3, runner.numCandidatesCompleted(), "failed: " + tasks.trials());
        Trial best = tasks.trials().stream().min(Comparator.comparingDouble(Trial::score)).orElseThrow();
        assertEquals(runner.bestScore(), best.score(), 0);
        assertEquals(2, best.summary().partition().length);

        String json = best.candidate().toJson();
        PipelineCandidate again = PipelineCandidate.fromJson(json);
        assertEquals(best.candidate(), again);
        Trial retrained = tasks.run(again, TextSource.class, new Properties(), new SameDiffLossScoreFunction());
        assertEquals(best.score(), retrained.score(), 0, "replayed in double precision: the same bits");
        assertNoStageThreads();
    }

    @Test
    void aCandidateThatFailsInTheMiddleOfTrainingStopsItsStagesAndIsRecorded() {
        PipelineTaskCreator tasks = PipelineTaskCreator.builder().stepsPerCandidate(12)
                .pipeline(PipelineConfig.builder().stages(3).build()).build();
        IOptimizationRunner runner = search(irisSpace(DiscountedNadamSpace.builder()
                        .learningRate(new ContinuousParameterSpace(1e-3, 1e-2)).build()), false, 2,
                new TestSetLossScoreFunction(true), BrokenSource.class, tasks, new Heard());
        assertEquals(2, runner.numCandidatesFailed());
        for (Trial t : tasks.trials()) {
            assertTrue(t.failure().contains("the data source broke at batch 5"), t.failure());
            assertNull(t.summary());
        }
        assertNoStageThreads();
    }

    @Test
    void multiLayerAndGraphCandidatesRoundTripThroughJsonAndRetrainToTheirScore() throws Exception {
        IUpdater u = DelayCorrectedNesterov.builder().learningRate(0.05).momentum(0.9).discount(0.3).build();
        PipelineConfig p = PipelineConfig.builder().stages(2).schedule(Schedule.GPIPE).microBatches(2).build();
        PipelineCandidate ml = PipelineCandidate.of(io.asyncpipeline.testdata.Nets.irisMlpConf(u, DataType.FLOAT, 3), p);
        PipelineCandidate cg = PipelineCandidate.of(io.asyncpipeline.testdata.Nets.irisGraphConf(u, DataType.FLOAT, 3), p);
        for (PipelineCandidate c : List.of(ml, cg)) {
            PipelineCandidate back = PipelineCandidate.fromJson(c.toJson());
            assertEquals(c, back);
            PipelineTaskCreator tasks = PipelineTaskCreator.builder().stepsPerCandidate(6).singleThreadedReplay(true).build();
            Trial first = tasks.run(c, IrisSource.class, new Properties(), new TestSetLossScoreFunction(true));
            Trial again = tasks.run(back, IrisSource.class, new Properties(), new TestSetLossScoreFunction(true));
            assertTrue(first.completed(), first.toString());
            assertEquals(first.score(), again.score(), 0);
            assertEquals(6, first.summary().steps(), "6 batches (each split into 2 micro-batches by GPIPE)");
        }
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> PipelineCandidate.fromJson("[1, 2]")).getMessage().contains("PipelineCandidate"));
    }

    @Test
    void thePipelineModelSaverStoresEachCandidateAndReadsItsModelBack(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        PipelineCandidateSpace space = PipelineCandidateSpace.sameDiff(
                DiscountedNadamSpace.builder().learningRate(new DiscreteParameterSpace<>(1e-3, 1e-2)).build(),
                PipelineSpace.builder().stages(2).build());
        PipelineTaskCreator tasks = PipelineTaskCreator.builder().transformer(tinyTransformer()).stepsPerCandidate(3).build();
        OptimizationConfiguration conf = new OptimizationConfiguration.Builder()
                .candidateGenerator(new GridSearchCandidateGenerator(space, 2, GridSearchCandidateGenerator.Mode.Sequential, null))
                .dataSource(TextSource.class, new Properties()).modelSaver(new PipelineModelSaver(dir))
                .scoreFunction(new SameDiffLossScoreFunction()).terminationConditions(new MaxCandidatesCondition(2)).build();
        IOptimizationRunner runner = new LocalOptimizationRunner(conf, tasks);
        runner.execute();
        assertEquals(2, runner.getResults().size());
        for (ResultReference ref : runner.getResults()) {
            int i = ref.getResult().getIndex();
            assertTrue(java.nio.file.Files.exists(dir.resolve(i + "/candidate.json")));
            Object model = ref.getResultModel();
            assertTrue(model instanceof org.nd4j.autodiff.samediff.SameDiff, String.valueOf(model));
            assertEquals(ref.getResult().getScore(), SameDiffLossScoreFunction.meanLoss(
                    (org.nd4j.autodiff.samediff.SameDiff) model, new TextSource().testData()), 1e-9);
        }
    }

    @Test
    void failingCandidatesAreRecordedWithTheirReasonAndTheSearchGoesOn() {
        // learning rates 0.01 (fine) and 1e30 (diverges: NaN loss in float); 2 stages (fine) and 9 (more than layers)
        PipelineCandidateSpace space = PipelineCandidateSpace.multiLayer(
                new MultiLayerSpace.Builder().seed(7)
                        .updater(DelayCorrectedNesterovSpace.builder()
                                .learningRate(new DiscreteParameterSpace<>(0.01, 1e30)).build())
                        .addLayer(new DenseLayerSpace.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                        .addLayer(new OutputLayerSpace.Builder().nIn(8).nOut(3).activation(Activation.SOFTMAX)
                                .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                        .build(),
                PipelineSpace.builder().stages(new DiscreteParameterSpace<>(2, 9)).build());
        PipelineTaskCreator tasks = PipelineTaskCreator.builder().stepsPerCandidate(12).build();
        Heard heard = new Heard();
        Properties floats = new Properties();
        OptimizationConfiguration conf = new OptimizationConfiguration.Builder()
                .candidateGenerator(new GridSearchCandidateGenerator(space, 2, GridSearchCandidateGenerator.Mode.Sequential,
                        null))
                .dataSource(IrisSource.class, floats).scoreFunction(new TestSetLossScoreFunction(true))
                .terminationConditions(new MaxCandidatesCondition(4)).build();
        IOptimizationRunner runner = new LocalOptimizationRunner(conf, tasks);
        runner.addListeners(heard);
        runner.execute();

        assertEquals(4, tasks.trials().size());
        assertEquals(1, runner.numCandidatesCompleted(), String.valueOf(tasks.trials()));
        assertEquals(3, runner.numCandidatesFailed());
        int diverged = 0;
        int tooManyStages = 0;
        for (Trial t : tasks.trials()) {
            double lr = ((DelayCorrectedNesterov) ((org.deeplearning4j.nn.conf.layers.BaseLayer)
                    t.candidate().multiLayer().getConf(0).getLayer()).getIUpdater()).getLearningRate(0, 0);
            int stages = t.candidate().pipeline().stages();
            if (stages == 9) {
                assertNull(t.score());
                assertTrue(t.failure().contains("stages"), t.failure());
                tooManyStages++;
            } else if (lr > 1) {
                assertNull(t.score());
                assertTrue(t.failure().startsWith("diverged"), t.failure());
                diverged++;
            } else {
                assertTrue(t.completed(), t.toString());
            }
        }
        assertEquals(2, tooManyStages);
        assertEquals(1, diverged);
        for (CandidateInfo info : runner.getCandidateStatus()) {
            if (info.getCandidateStatus() == CandidateStatus.Failed) {
                assertNotNull(info.getExceptionStackTrace());
            }
        }
        assertTrue(heard.statuses.contains(CandidateStatus.Failed));
        assertNoStageThreads();
    }
}
