package io.asyncpipeline.arbiter;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.NativeMemoryGuard;
import io.asyncpipeline.NonFiniteScoreException;
import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import org.deeplearning4j.arbiter.DL4JConfiguration;
import org.deeplearning4j.arbiter.GraphConfiguration;
import org.deeplearning4j.arbiter.optimize.api.Candidate;
import org.deeplearning4j.arbiter.optimize.api.OptimizationResult;
import org.deeplearning4j.arbiter.optimize.api.TaskCreator;
import org.deeplearning4j.arbiter.optimize.api.data.DataProvider;
import org.deeplearning4j.arbiter.optimize.api.data.DataSource;
import org.deeplearning4j.arbiter.optimize.api.saving.ResultSaver;
import org.deeplearning4j.arbiter.optimize.api.score.ScoreFunction;
import org.deeplearning4j.arbiter.optimize.runner.CandidateInfo;
import org.deeplearning4j.arbiter.optimize.runner.CandidateStatus;
import org.deeplearning4j.arbiter.optimize.runner.IOptimizationRunner;
import org.deeplearning4j.arbiter.optimize.runner.listener.StatusListener;
import org.deeplearning4j.arbiter.scoring.util.ScoreUtil;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIteratorFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * An Arbiter {@link TaskCreator} that trains each candidate with {@link AsyncPipelineWrapper} and scores it with the
 * search's {@link ScoreFunction} on held-out data. Candidates are {@link PipelineCandidate}s (from a
 * {@link PipelineCandidateSpace}), or plain {@code MultiLayerSpace} / {@code ComputationGraphSpace} values, trained
 * with {@link Builder#pipeline(PipelineConfig)}'s settings. SameDiff candidates train the model of
 * {@link Builder#sameDiff(Supplier)} or {@link Builder#transformer(TransformerConfig)}, scored with
 * {@link SameDiffLossScoreFunction}.
 *
 * <p>Each candidate trains for at most {@link Builder#stepsPerCandidate(int)} batches of the data source's
 * {@code trainData()}. A candidate whose loss or score is not finite, or whose training throws, is recorded as
 * failed with its reason (Arbiter's {@code CandidateInfo.getExceptionStackTrace()}, and {@link #trials()}), its
 * pipeline threads stopped, and the search goes on. A completed candidate's pipeline metrics ({@link RunSummary})
 * are its result's {@code getModelSpecificResults()}. Status listeners hear each candidate start, finish, and every
 * {@link Builder#reportEvery(int)} steps ({@code onCandidateIteration}, from the pipeline's first stage).
 *
 * <pre>{@code
 * PipelineTaskCreator tasks = PipelineTaskCreator.builder().transformer(config).stepsPerCandidate(300).build();
 * OptimizationConfiguration conf = new OptimizationConfiguration.Builder()
 *         .candidateGenerator(new GridSearchCandidateGenerator(space, 3,
 *                 GridSearchCandidateGenerator.Mode.Sequential, null))
 *         .dataSource(MyText.class, properties).scoreFunction(new SameDiffLossScoreFunction())
 *         .terminationConditions(new MaxCandidatesCondition(27)).build();
 * new LocalOptimizationRunner(conf, tasks).execute();
 * tasks.trials();   // every candidate, failed ones included
 * }</pre>
 */
public final class PipelineTaskCreator implements TaskCreator {

    private static final Logger LOG = LoggerFactory.getLogger(PipelineTaskCreator.class);

    private final int steps;
    private final PipelineConfig pipeline;
    private final Supplier<SameDiff> sameDiff;
    private final IntFunction<String[]> cuts;
    private final Long seed;
    private final boolean replay;
    private final int reportEvery;
    private final boolean guardMemory;
    private final List<Trial> trials = Collections.synchronizedList(new ArrayList<>());

    private PipelineTaskCreator(Builder b) {
        this.steps = b.steps;
        this.pipeline = b.pipeline;
        this.sameDiff = b.sameDiff;
        this.cuts = b.cuts;
        this.seed = b.seed;
        this.replay = b.replay;
        this.reportEvery = b.reportEvery;
        this.guardMemory = b.guardMemory;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Every candidate this creator has run in a search so far, in the order they finished, failed ones included. */
    public List<Trial> trials() {
        synchronized (trials) {
            return List.copyOf(trials);
        }
    }

    @Override
    @Deprecated
    public Callable<OptimizationResult> create(Candidate candidate, DataProvider dataProvider, ScoreFunction scoreFunction,
                                               List<StatusListener> statusListeners, IOptimizationRunner runner) {
        Map<String, Object> params = candidate.getDataParameters();
        return () -> task(candidate, () -> dataProvider.trainData(params),
                model -> scoreFunction.score(model, dataProvider, params), statusListeners, runner);
    }

    @Override
    public Callable<OptimizationResult> create(Candidate candidate, Class<? extends DataSource> dataSource,
                                               Properties dataSourceProperties, ScoreFunction scoreFunction,
                                               List<StatusListener> statusListeners, IOptimizationRunner runner) {
        return () -> task(candidate, () -> dataSource(dataSource, dataSourceProperties).trainData(),
                model -> scoreFunction.score(model, dataSource, dataSourceProperties), statusListeners, runner);
    }

    /**
     * Trains and scores one candidate outside a search, as a search would (the same data, budget and settings): the
     * way to retrain a stored best candidate. The trial is not added to {@link #trials()}.
     *
     * @param candidate a {@link PipelineCandidate}, {@code DL4JConfiguration} or {@code GraphConfiguration}
     */
    public Trial run(Object candidate, Class<? extends DataSource> dataSource, Properties dataSourceProperties,
                     ScoreFunction scoreFunction) {
        Objects.requireNonNull(scoreFunction, "scoreFunction");
        long t0 = System.nanoTime();
        PipelineCandidate c = candidate(candidate);
        try (NativeMemoryGuard guard = guardMemory ? NativeMemoryGuard.open() : null;
             Run r = train(c, dataSource(dataSource, dataSourceProperties).trainData(), step -> { })) {
            double score = scoreFunction.score(r.model, dataSource, dataSourceProperties);
            String failure = Double.isFinite(score) ? null : "diverged: score " + score;
            return new Trial(-1, c, failure == null ? score : null, failure, r.summary, (System.nanoTime() - t0) / 1e9);
        } catch (RuntimeException | AssertionError | OutOfMemoryError e) {
            LOG.info("the candidate failed: {}", reason(e));
            return new Trial(-1, c, null, reason(e), null, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** Scores a trained model (implemented by the two {@code create} variants). */
    @FunctionalInterface
    private interface Scorer {
        double score(Object model) throws Exception;
    }

    private OptimizationResult task(Candidate<?> candidate, Supplier<Object> trainData, Scorer scorer,
                                    List<StatusListener> listeners, IOptimizationRunner runner) {
        long started = System.currentTimeMillis();
        long t0 = System.nanoTime();
        int index = candidate.getIndex();
        CandidateInfo info = new CandidateInfo(index, CandidateStatus.Running, null, started, started, null,
                candidate.getFlatParameters(), null);
        notify(listeners, info, runner, null);
        PipelineCandidate c = null;
        Run run = null;
        Double score = null;
        String failure;
        String stackTrace = null;
        Object model = null;
        try (NativeMemoryGuard guard = guardMemory ? NativeMemoryGuard.open() : null) {
            c = candidate(candidate.getValue());
            Object[] trained = new Object[1];
            try (Run r = train(c, trainData.get(), step -> {
                if (reportEvery > 0 && step % reportEvery == 0 && listeners != null) {
                    for (StatusListener l : listeners) {
                        try {
                            l.onCandidateIteration(info, trained[0], step);
                        } catch (RuntimeException e) {
                            LOG.warn("status listener {} failed on candidate {} at step {}", l, index, step, e);
                        }
                    }
                }
            }, m -> trained[0] = m)) {
                run = r;
                model = r.model;
                double s = scorer.score(r.model);
                failure = Double.isFinite(s) ? null : "diverged: score " + s;
                score = failure == null ? s : null;
            }
        } catch (Throwable e) {
            failure = reason(e);
            stackTrace = stackTrace(e);
            if (e instanceof Error) {
                LOG.warn("candidate {} failed: {}", index, failure, e);
            } else {
                LOG.info("candidate {} failed: {}", index, failure);
            }
        }
        if (failure != null && stackTrace == null) {
            stackTrace = failure;
        }
        long ended = System.currentTimeMillis();
        CandidateInfo done = new CandidateInfo(index, failure == null ? CandidateStatus.Complete : CandidateStatus.Failed,
                score, started, started, ended, candidate.getFlatParameters(), stackTrace);
        RunSummary summary = run == null ? null : run.summary;
        OptimizationResult result = new OptimizationResult(candidate, score, index, summary, done, null);
        if (failure == null && runner != null && runner.getConfiguration() != null) {
            ResultSaver saver = runner.getConfiguration().getResultSaver();
            if (saver != null) {
                try {
                    result.setResultReference(saver.saveModel(result, model));
                } catch (Exception e) {
                    LOG.warn("candidate {}: the result saver {} failed ({}); Arbiter's FileModelSaver cannot save"
                            + " PipelineCandidates or SameDiff models: use PipelineModelSaver", index, saver, e.toString());
                }
            }
        }
        trials.add(new Trial(index, c, score, failure, summary, (System.nanoTime() - t0) / 1e9));
        notify(listeners, done, runner, result);
        return result;
    }

    private static void notify(List<StatusListener> listeners, CandidateInfo info, IOptimizationRunner runner,
                               OptimizationResult result) {
        if (listeners == null) {
            return;
        }
        for (StatusListener l : listeners) {
            try {
                l.onCandidateStatusChange(info, runner, result);
            } catch (RuntimeException e) {
                LOG.warn("status listener {} failed on candidate {}", l, info.getIndex(), e);
            }
        }
    }

    /** A trained model and its pipeline metrics; closing it closes the wrapper (its stage threads are gone by then). */
    private record Run(Object model, RunSummary summary, AsyncPipelineWrapper wrapper) implements AutoCloseable {
        @Override
        public void close() {
            wrapper.close();
        }
    }

    private PipelineCandidate candidate(Object value) {
        if (value instanceof PipelineCandidate c) {
            return c;
        }
        if (value instanceof DL4JConfiguration d) {
            return PipelineCandidate.of(d.getMultiLayerConfiguration(), pipeline);
        }
        if (value instanceof GraphConfiguration g) {
            return PipelineCandidate.of(g.getConfiguration(), pipeline);
        }
        throw new IllegalArgumentException("PipelineTaskCreator trains PipelineCandidate, DL4JConfiguration or"
                + " GraphConfiguration candidates, got " + (value == null ? "null" : value.getClass().getName()));
    }

    private Run train(PipelineCandidate c, Object data, java.util.function.IntConsumer onStep) {
        return train(c, data, onStep, m -> { });
    }

    /** Builds, wraps and trains {@code c}; {@code built} hears the model before training starts. */
    private Run train(PipelineCandidate c, Object data, java.util.function.IntConsumer onStep,
                      java.util.function.Consumer<Object> built) {
        AsyncPipelineWrapper.Builder b;
        Object model;
        PipelineConfig p = c.pipeline();
        if (c.multiLayer() != null) {
            MultiLayerNetwork net = new MultiLayerNetwork(c.multiLayer().clone());
            net.init();
            model = net;
            b = p.applyTo(new AsyncPipelineWrapper.Builder(net));
        } else if (c.graph() != null) {
            ComputationGraph graph = new ComputationGraph(c.graph().clone());
            graph.init();
            model = graph;
            b = p.applyTo(new AsyncPipelineWrapper.Builder(graph));
        } else {
            if (sameDiff == null) {
                throw new IllegalStateException("a SameDiff candidate needs the model: PipelineTaskCreator.builder()"
                        + ".sameDiff(supplier) or .transformer(config)");
            }
            SameDiff sd = Objects.requireNonNull(sameDiff.get(), "the SameDiff supplier returned null");
            TrainingConfig tc = sd.getTrainingConfig();
            if (tc == null) {
                throw new IllegalStateException("the supplied SameDiff model has no TrainingConfig (sd.setTrainingConfig)");
            }
            if (c.updater() != null) {
                tc.setUpdater(c.updater().clone());
            }
            model = sd;
            b = new AsyncPipelineWrapper.Builder(sd);
            if (cuts != null) {
                int stages = p.stages() != null ? p.stages() : 2;
                p.withoutStages().applyTo(b).cutAfter(cuts.apply(stages));
            } else {
                p.applyTo(b);
            }
        }
        if (seed != null) {
            b.seed(seed);
        }
        b.singleThreadedReplay(replay);
        built.accept(model);
        AsyncPipelineWrapper w = b.build();
        int[] handedOut = new int[1];
        java.util.function.IntConsumer counting = step -> {
            handedOut[0] = step;
            onStep.accept(step);
        };
        try {
            if (data instanceof MultiDataSetIterator || data instanceof MultiDataSetIteratorFactory) {
                MultiDataSetIterator it = ScoreUtil.getMultiIterator(data);
                if (model instanceof MultiLayerNetwork) {
                    throw new IllegalArgumentException("a MultiLayerNetwork trains on a DataSetIterator, the data"
                            + " source gave a MultiDataSetIterator");
                }
                w.fit(StepBudget.of(it, steps, counting));
            } else {
                w.fit(StepBudget.of(ScoreUtil.getIterator(data), steps, counting));
            }
            return new Run(model, RunSummary.of(handedOut[0], w.metrics(), w.partition()), w);
        } catch (RuntimeException | Error e) {
            w.close();
            throw e;
        }
    }

    /** Instantiates and configures a data source as Arbiter does (public no-argument constructor). */
    static DataSource dataSource(Class<? extends DataSource> type, Properties properties) {
        Objects.requireNonNull(type, "dataSource");
        DataSource ds;
        try {
            ds = type.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("cannot create the data source " + type.getName()
                    + ": it needs a public no-argument constructor (" + e + ")", e);
        }
        if (properties != null) {
            ds.configure(properties);
        }
        return ds;
    }

    /** One line: "diverged: ..." for a non-finite loss, else the exception and its root cause. */
    static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NonFiniteScoreException) {
                return "diverged: " + t.getMessage();
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String top = e.getClass().getSimpleName() + ": " + e.getMessage();
        return root == e ? top : top + " (cause: " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }

    private static String stackTrace(Throwable e) {
        StringWriter s = new StringWriter();
        e.printStackTrace(new PrintWriter(s));
        return s.toString();
    }

    /** Options of the search's training runs. */
    public static final class Builder {
        private int steps;
        private PipelineConfig pipeline = PipelineConfig.DEFAULTS;
        private Supplier<SameDiff> sameDiff;
        private IntFunction<String[]> cuts;
        private Long seed;
        private boolean replay;
        private int reportEvery = 10;
        private boolean guardMemory = true;

        private Builder() {
        }

        /**
         * Batches each candidate trains on (the data source's iterator starts again if it runs out first); 0, the
         * default, is one pass over the training data.
         */
        public Builder stepsPerCandidate(int steps) {
            if (steps < 0) {
                throw new IllegalArgumentException("stepsPerCandidate must be at least 0 (0: one pass), got " + steps);
            }
            this.steps = steps;
            return this;
        }

        /** Pipeline settings for candidates that carry none (plain MultiLayerSpace / ComputationGraphSpace values). */
        public Builder pipeline(PipelineConfig pipeline) {
            this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
            return this;
        }

        /**
         * The SameDiff model of SameDiff candidates: a fresh graph with its TrainingConfig per call (the candidate's
         * updater replaces the config's), cut into the candidate's stages where the op costs balance.
         */
        public Builder sameDiff(Supplier<SameDiff> model) {
            return sameDiff(model, null);
        }

        /** As {@link #sameDiff(Supplier)}, cut where {@code cuts} says for P stages (P - 1 cut variables). */
        public Builder sameDiff(Supplier<SameDiff> model, IntFunction<String[]> cuts) {
            this.sameDiff = Objects.requireNonNull(model, "model");
            this.cuts = cuts;
            return this;
        }

        /**
         * The bundled decoder-only transformer as the SameDiff model, with {@link DecoderTransformer#trainingConfig}
         * (the candidate's updater, DiscountedNadam by default), cut after every (layers / P)-th block; P must divide
         * the number of blocks.
         */
        public Builder transformer(TransformerConfig config) {
            Objects.requireNonNull(config, "config");
            if (config.tiedOutputHead()) {
                throw new IllegalArgumentException("a pipelined transformer needs an untied output head (the tied one"
                        + " shares wte between the first and last stage): TransformerConfig.builder().tiedOutputHead(false)");
            }
            return sameDiff(() -> {
                SameDiff sd = DecoderTransformer.build(config);
                sd.setTrainingConfig(DecoderTransformer.trainingConfig(io.asyncpipeline.updater.DiscountedNadam.builder()
                        .build()));
                return sd;
            }, stages -> DecoderTransformer.blockCuts(config, stages));
        }

        /** The wrapper's seed (partition profiling, dropout); unset: the wrapper's default. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Trains each candidate single-threaded in the pipeline's order: the same bits as threads, reproducible. */
        public Builder singleThreadedReplay(boolean replay) {
            this.replay = replay;
            return this;
        }

        /** Steps between {@code onCandidateIteration} calls to the search's status listeners; 0: none. Default 10. */
        public Builder reportEvery(int steps) {
            if (steps < 0) {
                throw new IllegalArgumentException("reportEvery must be at least 0, got " + steps);
            }
            this.reportEvery = steps;
            return this;
        }

        /** Run each candidate inside a {@link NativeMemoryGuard} (default true). */
        public Builder guardMemory(boolean guard) {
            this.guardMemory = guard;
            return this;
        }

        public PipelineTaskCreator build() {
            return new PipelineTaskCreator(this);
        }
    }
}
