package io.asyncpipeline;

import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.model.PipelineModel;
import io.asyncpipeline.stage.UpdateObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.adapter.MultiDataSetIteratorAdapter;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a DL4J model split into pipeline stages, one thread (and device) per stage.
 *
 * <pre>{@code
 * try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net)
 *         .stages(4)                       // or .partition(2, 1, 2)
 *         .schedule(Schedule.ASYNC_1F1B)   // GPIPE, ONE_F_ONE_B
 *         .weightStashing(true)
 *         .build()) {
 *     w.fit(trainIterator);
 * }
 * }</pre>
 *
 * When {@code fit} returns the pipeline is drained and {@code net} holds the trained parameters,
 * optimizer state and iteration/epoch counters; {@code net.output}, {@code Evaluation} and
 * {@code ModelSerializer} work as usual. See {@link Builder} for every option.
 */
public final class AsyncPipelineWrapper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AsyncPipelineWrapper.class);

    private final PipelineModel model;
    private final PipelineSettings settings;
    private final Consumer<DataSet> batchCheck;
    private final Consumer<MultiDataSet> multiBatchCheck;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean stop = new AtomicBoolean();
    private volatile boolean closed;
    private volatile PipelineMetrics lastMetrics;

    AsyncPipelineWrapper(PipelineModel model, PipelineSettings settings, Consumer<DataSet> batchCheck) {
        this(model, settings, batchCheck, null);
    }

    /** @param multiBatchCheck non-null for a ComputationGraph model, which trains from MultiDataSets */
    AsyncPipelineWrapper(PipelineModel model, PipelineSettings settings, Consumer<DataSet> batchCheck,
                         Consumer<MultiDataSet> multiBatchCheck) {
        this.model = model;
        this.settings = settings;
        this.batchCheck = batchCheck;
        this.multiBatchCheck = multiBatchCheck;
    }

    /** Trains one epoch over {@code iterator}. */
    public void fit(DataSetIterator iterator) {
        fit(iterator, 1);
    }

    /**
     * Trains {@code epochs} epochs; the iterator is reset between epochs. The pipeline drains at the end
     * of every epoch (P-1 idle slots per stage per epoch).
     *
     * @throws PipelineException        if a stage fails; every stage thread has stopped by then
     * @throws IllegalArgumentException for an empty iterator or a batch the model cannot take
     */
    public void fit(DataSetIterator iterator, int epochs) {
        if (multiBatchCheck != null) {
            // a ComputationGraph with one input and one output: each DataSet is a MultiDataSet of one array each
            fit(iterator == null ? null : new MultiDataSetIteratorAdapter(iterator), epochs);
            return;
        }
        fitEpochs(iterator, epochs, () -> prepareIterator(iterator), () -> iterator.reset(),
                epoch -> new MultiDataSetSource(new MultiDataSetIteratorAdapter(iterator), perBatch(), epoch, stop,
                        mds -> batchCheck.accept(new org.nd4j.linalg.dataset.DataSet(mds.getFeatures(0), mds.getLabels(0),
                                mds.getFeaturesMaskArray(0), mds.getLabelsMaskArray(0)))));
    }

    /** Trains one epoch over {@code iterator} (ComputationGraph models). */
    public void fit(MultiDataSetIterator iterator) {
        fit(iterator, 1);
    }

    /**
     * Trains a ComputationGraph {@code epochs} epochs on multi-input / multi-output batches: features in the
     * order of the graph's inputs, labels in the order of its outputs. The iterator is reset between epochs.
     *
     * @throws PipelineException        if a stage fails; every stage thread has stopped by then
     * @throws IllegalArgumentException for an empty iterator, a batch the graph cannot take, or a MultiLayerNetwork
     */
    public void fit(MultiDataSetIterator iterator, int epochs) {
        if (multiBatchCheck == null) {
            throw new IllegalArgumentException("fit(MultiDataSetIterator) trains a ComputationGraph; this wrapper holds a"
                    + " MultiLayerNetwork: use fit(DataSetIterator)");
        }
        fitEpochs(iterator, epochs, () -> prepareIterator(iterator), () -> iterator.reset(),
                epoch -> new MultiDataSetSource(iterator, perBatch(), epoch, stop, multiBatchCheck));
    }

    private int perBatch() {
        return settings.schedule().isSynchronous() ? settings.microBatches() : 1;
    }

    private void fitEpochs(Object iterator, int epochs, Runnable prepare, Runnable reset,
                           java.util.function.IntFunction<CountingSource> sources) {
        if (closed) {
            throw new IllegalStateException("this AsyncPipelineWrapper is closed; build a new one");
        }
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
            List<StageMetrics> all = new ArrayList<>();
            long wall = 0;
            long examples = 0;
            int microBatches = 0;
            for (int e = 0; e < epochs && !stop.get(); e++) {
                if (e > 0) {
                    reset.run();
                }
                EpochResult r = runEpoch(sources);
                all = merge(all, r.run.stages());
                wall += r.run.wallNanos();
                examples += r.examples;
                microBatches += r.microBatches;
            }
            lastMetrics = new PipelineMetrics(all, wall, examples, microBatches);
            LOG.info("{}", lastMetrics);
        } finally {
            threads.restore();
            running.set(false);
        }
    }

    private record EpochResult(PipelineExecutor.RunResult run, long examples, int microBatches) {
    }

    private EpochResult runEpoch(java.util.function.IntFunction<CountingSource> sources) {
        int epoch = model.epochCount();
        int base = model.iterationCount();
        CountingSource source = sources.apply(epoch);
        PipelineExecutor executor = new PipelineExecutor(model, settings.schedule(), settings.microBatches(),
                settings.devices(), settings.weightStashing(), settings.seed(), settings.replay(),
                settings.offHeapGcBudget());
        model.epochEvent(true);
        PipelineExecutor.RunResult run;
        try {
            run = executor.run(source, new UpdateObserver() {
                @Override
                public void afterLoss(int iteration, int mb, double score) {
                    checkScore(iteration, mb, score);
                }

                @Override
                public void afterUpdate(int step, int iteration, int ep, double score, int mb) {
                    checkScore(iteration, mb, score);
                    model.reportIteration(iteration, ep, score);
                }
            }, base);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new PipelineException(-1, -1, "interrupted", ie);
        } finally {
            model.pushOptimizerState();
            model.setCounters(base + executor.updatesDone(), epoch);
        }
        if (source.error() != null) {
            throw source.error();
        }
        model.epochEvent(false);
        model.setCounters(model.iterationCount(), epoch + 1);
        return new EpochResult(run, source.examples(), source.microBatches());
    }

    private void checkScore(int iteration, int microBatch, double score) {
        if (settings.failOnNonFiniteScore() && !Double.isFinite(score)) {
            throw new NonFiniteScoreException(iteration, microBatch, score);
        }
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

    private void prepareIterator(DataSetIterator iterator) {
        if (!iterator.hasNext() && iterator.resetSupported()) {
            iterator.reset();
        }
        if (!iterator.hasNext()) {
            throw new IllegalArgumentException("the iterator is empty: it has no DataSet to train on"
                    + (iterator.resetSupported() ? "" : " (and does not support reset)"));
        }
    }

    private void prepareIterator(MultiDataSetIterator iterator) {
        if (!iterator.hasNext() && iterator.resetSupported()) {
            iterator.reset();
        }
        if (!iterator.hasNext()) {
            throw new IllegalArgumentException("the iterator is empty: it has no MultiDataSet to train on"
                    + (iterator.resetSupported() ? "" : " (and does not support reset)"));
        }
    }

    /** Asks a running {@code fit} to stop after the micro-batches already in the pipeline; it then drains and returns. */
    public void stopFit() {
        stop.set(true);
    }

    /**
     * Saves the wrapped model with its parameters, optimizer state and iteration/epoch counters, as
     * {@code ModelSerializer.writeModel(net, file, true)}. Between {@code fit} calls the pipeline is
     * drained, so wrapping the restored model again and continuing gives the same numbers as not stopping.
     *
     * @throws IllegalStateException while {@code fit} is running (there is no drained point then)
     */
    public void saveCheckpoint(java.io.File file) throws java.io.IOException {
        if (running.get()) {
            throw new IllegalStateException("fit is running: checkpoints are taken at a drained point, after fit returns");
        }
        model.saveCheckpoint(file);
    }

    /** Metrics of the last completed {@code fit}, or null. */
    public PipelineMetrics metrics() {
        return lastMetrics;
    }

    /** Layers (or units) per stage. */
    public int[] partition() {
        return model.partition();
    }

    /** The stage model (for tests and advanced use). */
    public PipelineModel pipelineModel() {
        return model;
    }

    public PipelineSettings settings() {
        return settings;
    }

    @Override
    public void close() {
        stopFit();
        closed = true;
    }

    /**
     * Builds a wrapper around a {@link MultiLayerNetwork} or a {@link ComputationGraph}; checks every option early.
     * A graph is cut in its topological order: balanced by parameter count ({@code stages(P)}), at named
     * vertices ({@code cutAfter("block1", "block3")}), or by vertex counts ({@code partition(...)}).
     */
    public static final class Builder extends PipelineBuilder<Builder> {

        private final MultiLayerNetwork net;
        private final ComputationGraph graph;
        private final org.nd4j.autodiff.samediff.SameDiff sameDiff;

        /** @param net an initialised network ({@code net.init()} called) */
        public Builder(MultiLayerNetwork net) {
            if (net == null) {
                throw new IllegalArgumentException("net is null");
            }
            this.net = net;
            this.graph = null;
            this.sameDiff = null;
        }

        /** @param graph an initialised graph ({@code graph.init()} called) */
        public Builder(ComputationGraph graph) {
            if (graph == null) {
                throw new IllegalArgumentException("graph is null");
            }
            this.net = null;
            this.graph = graph;
            this.sameDiff = null;
        }

        /**
         * A SameDiff graph with its {@code TrainingConfig} set ({@code sd.setTrainingConfig}); cut it with
         * {@link #cutAfter(String...)} at boundary variables, or give {@code stages(P)} only to cut it where the
         * estimated op costs balance ({@link io.asyncpipeline.partition.SameDiffPartitioner}). Every schedule
         * works, ASYNC_1F1B with and without weight stashing; see the README for the limits (no masks, no
         * variable shared by two stages).
         */
        public Builder(org.nd4j.autodiff.samediff.SameDiff sameDiff) {
            if (sameDiff == null) {
                throw new IllegalArgumentException("sameDiff is null");
            }
            this.net = null;
            this.graph = null;
            this.sameDiff = sameDiff;
        }

        /**
         * ComputationGraph: stage boundaries right after these vertices, named in the graph's topological
         * order; {@code n} names make {@code n + 1} stages. Every activation that crosses a boundary (skip
         * connections included) travels to its consumers, and its gradient back. SameDiff: the boundary
         * variables, first to last (each stage's output is the next stage's input).
         */
        public Builder cutAfter(String... vertexNames) {
            this.cutAfter = vertexNames == null ? null : vertexNames.clone();
            return this;
        }

        /** Validates the options, cuts the model into stages and returns the wrapper. */
        public AsyncPipelineWrapper build() {
            if (sameDiff != null) {
                return SameDiffSetup.build(sameDiff, this);
            }
            return graph != null ? GraphSetup.build(graph, this) : MultiLayerSetup.build(net, this);
        }
    }
}
