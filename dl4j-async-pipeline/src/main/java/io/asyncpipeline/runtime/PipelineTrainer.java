package io.asyncpipeline.runtime;

import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.metrics.PipelineTimeline;
import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.metrics.StageTimeline;
import io.asyncpipeline.stage.UpdateObserver;
import io.asyncpipeline.transport.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import org.nd4j.linalg.dataset.adapter.MultiDataSetIteratorAdapter;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bookkeeping around pipeline runs: one {@link PipelineRun} per epoch, the user's model's iteration and
 * epoch counters, listeners' epoch events, optimizer state in and out, the loss check, and the metrics of
 * the whole {@code fit}. One fit at a time.
 */
public final class PipelineTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(PipelineTrainer.class);

    /** Checks the loss of a micro-batch (last stage thread); throwing stops the pipeline. */
    @FunctionalInterface
    public interface ScoreCheck {
        void check(int iteration, int microBatch, double score);
    }

    private final PipelineModel model;
    private final RunSettings settings;
    private final StageEngine engine;
    private final ScoreCheck scoreCheck;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean stop = new AtomicBoolean();
    private volatile PipelineMetrics lastMetrics;

    /** Stages as threads of this JVM, joined by {@code transport}. */
    public PipelineTrainer(PipelineModel model, RunSettings settings, Transport transport, ScoreCheck scoreCheck) {
        this(model, settings, StageEngine.inProcess(model.stages(), settings, transport), scoreCheck);
    }

    /** Stages wherever {@code engine} runs them. */
    public PipelineTrainer(PipelineModel model, RunSettings settings, StageEngine engine, ScoreCheck scoreCheck) {
        this.model = model;
        this.settings = settings;
        this.engine = engine;
        this.scoreCheck = scoreCheck;
    }

    /** The engine that runs the stages. */
    public StageEngine engine() {
        return engine;
    }

    /** Trains {@code epochs} epochs from a DataSetIterator (a graph reads it as one input and one output). */
    public PipelineMetrics fit(DataSetIterator iterator, int epochs) {
        if (model.takesMultiDataSets()) {
            return fit(iterator == null ? null : new MultiDataSetIteratorAdapter(iterator), epochs);
        }
        return fitEpochs(iterator, epochs, () -> prepare(iterator), iterator == null ? null : iterator::reset,
                epoch -> source(new MultiDataSetIteratorAdapter(iterator), epoch));
    }

    /** Trains {@code epochs} epochs from a MultiDataSetIterator (models that {@link PipelineModel#takesMultiDataSets()}). */
    public PipelineMetrics fit(MultiDataSetIterator iterator, int epochs) {
        if (!model.takesMultiDataSets()) {
            throw new IllegalArgumentException("fit(MultiDataSetIterator) trains a ComputationGraph; this wrapper holds a"
                    + " model with one input and one output: use fit(DataSetIterator)");
        }
        return fitEpochs(iterator, epochs, () -> prepare(iterator), iterator == null ? null : iterator::reset,
                epoch -> source(iterator, epoch));
    }

    private CountingSource source(MultiDataSetIterator iterator, int epoch) {
        return new MultiDataSetSource(iterator, settings.perBatch(), epoch, stop, model::checkBatch);
    }

    /** Asks a running fit to stop after the micro-batches already in the pipeline; it then drains and returns. */
    public void stop() {
        stop.set(true);
    }

    /** True while a fit runs. */
    public boolean isRunning() {
        return running.get();
    }

    /** Metrics of the last completed fit, or null. */
    public PipelineMetrics lastMetrics() {
        return lastMetrics;
    }

    private PipelineMetrics fitEpochs(Object iterator, int epochs, Runnable prepare, Runnable reset,
                                      IntFunction<CountingSource> sources) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (iterator == null) {
            throw new IllegalArgumentException("iterator is null");
        }
        if (!running.compareAndSet(false, true)) {
            throw new IllegalStateException("fit is already running on this wrapper (one fit at a time)");
        }
        stop.set(false);
        ThreadSettings threads = ThreadSettings.apply(settings.ndThreadsPerStage());
        try {
            prepare.run();
            model.pullOptimizerState();
            engine.beginFit();
            List<StageTimeline> timelines = timelines(System.nanoTime());
            List<StageMetrics> all = new ArrayList<>();
            long wall = 0;
            long examples = 0;
            int microBatches = 0;
            for (int e = 0; e < epochs && !stop.get(); e++) {
                if (e > 0) {
                    reset.run();
                }
                EpochResult r = runEpoch(sources, timelines);
                all = merge(all, r.run.stages());
                wall += r.run.wallNanos();
                examples += r.examples;
                microBatches += r.microBatches;
            }
            // no epoch ran when stopFit() came first: no stage metrics, and no timeline either
            lastMetrics = new PipelineMetrics(all, wall, examples, microBatches, timelines == null || all.isEmpty()
                    ? PipelineTimeline.notRecorded(all.size()) : PipelineTimeline.of(timelines));
            LOG.info("{}", lastMetrics);
            return lastMetrics;
        } finally {
            engine.endFit();
            threads.restore();
            running.set(false);
        }
    }

    private record EpochResult(StageEngine.Epoch run, long examples, int microBatches) {
    }

    /** One recorder per stage for a fit that began at {@code origin}, or null when no timeline is recorded. */
    private List<StageTimeline> timelines(long origin) {
        if (settings.timelineSpans() == 0) {
            return null;
        }
        List<StageTimeline> t = new ArrayList<>();
        for (int k = 0; k < model.stages().size(); k++) {
            t.add(new StageTimeline(k, settings.timelineSpans(), origin));
        }
        return t;
    }

    private EpochResult runEpoch(IntFunction<CountingSource> sources, List<StageTimeline> timelines) {
        int epoch = model.epochCount();
        int base = model.iterationCount();
        CountingSource source = sources.apply(epoch);
        model.epochEvent(true);
        StageEngine.Epoch result;
        boolean completed = false;
        try {
            result = engine.runEpoch(source, new UpdateObserver() {
                @Override
                public void afterLoss(int iteration, int mb, double score) {
                    scoreCheck.check(iteration, mb, score);
                }

                @Override
                public void afterUpdate(int step, int iteration, int ep, double score, int mb) {
                    scoreCheck.check(iteration, mb, score);
                    model.reportIteration(iteration, ep, score);
                }
            }, base, timelines);
            completed = true;
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new RunFailedException(-1, -1, "interrupted", ie);
        } finally {
            engine.afterEpoch(completed);
            model.pushOptimizerState();
            model.setCounters(base + engine.updatesDone(), epoch);
        }
        if (source.error() != null) {
            throw source.error();
        }
        model.epochEvent(false);
        model.setCounters(model.iterationCount(), epoch + 1);
        return new EpochResult(result, source.examples(), source.microBatches());
    }

    private static List<StageMetrics> merge(List<StageMetrics> a, List<StageMetrics> b) {
        if (a.isEmpty()) {
            return b;
        }
        List<StageMetrics> out = new ArrayList<>();
        for (int k = 0; k < a.size(); k++) {
            out.add(a.get(k).plus(b.get(k)));
        }
        return out;
    }

    private static void prepare(DataSetIterator iterator) {
        if (!iterator.hasNext() && iterator.resetSupported()) {
            iterator.reset();
        }
        if (!iterator.hasNext()) {
            throw new IllegalArgumentException("the iterator is empty: it has no DataSet to train on"
                    + (iterator.resetSupported() ? "" : " (and does not support reset)"));
        }
    }

    private static void prepare(MultiDataSetIterator iterator) {
        if (!iterator.hasNext() && iterator.resetSupported()) {
            iterator.reset();
        }
        if (!iterator.hasNext()) {
            throw new IllegalArgumentException("the iterator is empty: it has no MultiDataSet to train on"
                    + (iterator.resetSupported() ? "" : " (and does not support reset)"));
        }
    }
}
