package io.asyncpipeline;

import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.model.ModelSetup;
import io.asyncpipeline.model.graph.GraphSetup;
import io.asyncpipeline.model.multilayer.MultiLayerSetup;
import io.asyncpipeline.model.samediff.SameDiffSetup;
import io.asyncpipeline.runtime.PipelineModel;
import io.asyncpipeline.runtime.PipelineTrainer;
import io.asyncpipeline.runtime.StageEngine;
import io.asyncpipeline.process.RemoteEngine;
import io.asyncpipeline.process.RemoteStages;
import io.asyncpipeline.model.PipelineOptions;
import io.asyncpipeline.runtime.RunFailedException;
import io.asyncpipeline.runtime.RunSettings;
import java.util.function.Supplier;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

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

    private final PipelineModel model;
    private final PipelineSettings settings;
    private final PipelineTrainer trainer;
    private volatile boolean closed;

    private AsyncPipelineWrapper(PipelineModel model, PipelineSettings settings, PipelineTrainer trainer) {
        this.model = model;
        this.settings = settings;
        this.trainer = trainer;
    }

    /** Trains one epoch over {@code iterator}. */
    public void fit(DataSetIterator iterator) {
        fit(iterator, 1);
    }

    /**
     * Trains {@code epochs} epochs; the iterator is reset between epochs. The pipeline drains at the end
     * of every epoch (P-1 idle slots per stage per epoch). A ComputationGraph reads each DataSet as its one
     * input and one output.
     *
     * @throws PipelineException        if a stage fails; every stage thread has stopped by then
     * @throws IllegalArgumentException for an empty iterator or a batch the model cannot take
     */
    public void fit(DataSetIterator iterator, int epochs) {
        run(() -> trainer.fit(iterator, epochs));
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
     * @throws IllegalArgumentException for an empty iterator, a batch the graph cannot take, or a model that is
     *                                  not a ComputationGraph
     */
    public void fit(MultiDataSetIterator iterator, int epochs) {
        run(() -> trainer.fit(iterator, epochs));
    }

    private void run(Supplier<PipelineMetrics> fit) {
        if (closed) {
            throw new IllegalStateException("this AsyncPipelineWrapper is closed; build a new one");
        }
        try {
            fit.get();
        } catch (RunFailedException e) {
            throw new PipelineException(e.stage(), e.microBatch(), e.getMessage(), e.getCause());
        }
    }

    /** Asks a running {@code fit} to stop after the micro-batches already in the pipeline; it then drains and returns. */
    public void stopFit() {
        trainer.stop();
    }

    /**
     * Saves the wrapped model with its parameters, optimizer state and iteration/epoch counters, as
     * {@code ModelSerializer.writeModel(net, file, true)} (SameDiff: {@code sd.save(file, true)}), atomically (a
     * temporary file beside it, then one rename: a crash leaves the old checkpoint or the new one). With stage
     * processes the state was brought home at the end of the last fit, so the file is the same. Between
     * {@code fit} calls the pipeline is drained, so wrapping the restored model again and continuing gives the
     * same numbers as not stopping.
     *
     * @throws IllegalStateException while {@code fit} is running (there is no drained point then)
     */
    public void saveCheckpoint(java.io.File file) throws java.io.IOException {
        if (trainer.isRunning()) {
            throw new IllegalStateException("fit is running: checkpoints are taken at a drained point, after fit returns");
        }
        model.saveCheckpoint(file);
    }

    /**
     * Saves a checkpoint as one file per stage (its parameters and optimizer state) plus a manifest
     * ({@code manifest.json}: the cut, the iteration and epoch counters, each file's SHA-256), in {@code directory}.
     * Atomic: the new files get new names, the manifest is replaced in one rename, and only then are the previous
     * checkpoint's files deleted, so a crash leaves the old checkpoint or the new one. With stage processes the
     * coordinator writes the files, from the state the processes sent back at the end of the last fit.
     * {@link #restoreStageCheckpoint} on a wrapper of a freshly built model with the same cut continues to the same
     * bits as never stopping.
     *
     * @throws IllegalStateException while {@code fit} is running (there is no drained point then)
     */
    public void saveStageCheckpoint(java.nio.file.Path directory) throws java.io.IOException {
        if (trainer.isRunning()) {
            throw new IllegalStateException("fit is running: checkpoints are taken at a drained point, after fit returns");
        }
        io.asyncpipeline.model.StageCheckpoint.save(model, directory);
    }

    /**
     * Puts the checkpoint that {@link #saveStageCheckpoint} wrote in {@code directory} into the wrapped model: every
     * stage's parameters and optimizer state, and the iteration and epoch counters. Everything is read and checked
     * first (the manifest, the cut, each file's checksum, each array's length), so a missing, damaged or foreign
     * checkpoint throws, naming the problem, and the model keeps its state.
     *
     * @throws IllegalArgumentException when the checkpoint is missing, damaged, or from a different cut
     * @throws IllegalStateException    while {@code fit} is running
     */
    public void restoreStageCheckpoint(java.nio.file.Path directory) throws java.io.IOException {
        if (trainer.isRunning()) {
            throw new IllegalStateException("fit is running: a checkpoint is restored between fits");
        }
        io.asyncpipeline.model.StageCheckpoint.restore(model, directory);
    }

    /**
     * The OS process ids of the stage processes, in stage order: those this wrapper started
     * ({@link StageProcesses#local(int)}), or those that processes started by hand reported with their first fit (their
     * hosts' process ids; empty before it). Empty when the stages are threads of this JVM.
     */
    public java.util.List<Long> stageProcessIds() {
        return trainer.engine() instanceof RemoteEngine r ? r.processIds() : java.util.List.of();
    }

    /** Metrics of the last completed {@code fit}, or null. */
    public PipelineMetrics metrics() {
        return trainer.lastMetrics();
    }

    /** Units (layers, vertices or ops) per stage; the same as {@code cuts().partition()}. */
    public int[] partition() {
        return model.partition();
    }

    /** Where the model was cut: units per stage, the unit before each cut, and the tensors crossing each cut. */
    public PipelineCuts cuts() {
        return new PipelineCuts(model.unit(), model.partition(), model.cutAfter(), model.crossing());
    }

    /** The model cut into stages (runtime internals, for tests and advanced use; not a stable API). */
    public PipelineModel pipelineModel() {
        return model;
    }

    public PipelineSettings settings() {
        return settings;
    }

    /** Stops a running fit, and the stage processes if the wrapper started them. */
    @Override
    public void close() {
        stopFit();
        if (!closed) {
            closed = true;
            trainer.engine().close();
        }
    }

    /**
     * Builds a wrapper around a {@link MultiLayerNetwork}, a {@link ComputationGraph} or a {@link SameDiff}
     * graph; checks every option early. A graph is cut in its topological order: balanced by parameter count
     * ({@code stages(P)}), at named vertices ({@code cutAfter("block1", "block3")}), or by vertex counts
     * ({@code partition(...)}).
     */
    public static final class Builder extends PipelineBuilder<Builder> {

        private final ModelSetup setup;
        private final Object userModel;

        /** @param net an initialised network ({@code net.init()} called) */
        public Builder(MultiLayerNetwork net) {
            this.setup = new MultiLayerSetup(net);
            this.userModel = net;
        }

        /** @param graph an initialised graph ({@code graph.init()} called) */
        public Builder(ComputationGraph graph) {
            this.setup = new GraphSetup(graph);
            this.userModel = graph;
        }

        /**
         * A SameDiff graph with its {@code TrainingConfig} set ({@code sd.setTrainingConfig}); cut it with
         * {@link #cutAfter(String...)} at cut variables, or give {@code stages(P)} only to cut it where the
         * estimated op costs balance ({@link io.asyncpipeline.model.samediff.SameDiffPartitioner}). Every schedule
         * works, ASYNC_1F1B with and without weight stashing; see the README for the limits (no masks, no
         * variable shared by two stages).
         */
        public Builder(SameDiff sameDiff) {
            this.setup = new SameDiffSetup(sameDiff);
            this.userModel = sameDiff;
        }

        /**
         * ComputationGraph: stage cuts right after these vertices, named in the graph's topological order;
         * {@code n} names make {@code n + 1} stages. Every activation that crosses a cut (skip connections
         * included) travels to its consumers, and its gradient back. SameDiff: the cut variables, first to last
         * (each stage's output is the next stage's input).
         */
        public Builder cutAfter(String... vertexNames) {
            this.cutAfter = vertexNames == null ? null : vertexNames.clone();
            return this;
        }

        /** Validates the options, cuts the model into stages and returns the wrapper. */
        public AsyncPipelineWrapper build() {
            PipelineOptions o = options();
            ModelSetup.Built built = setup.build(o);
            RunSettings r = built.settings();
            PipelineSettings settings = new PipelineSettings(schedule, microBatches, r.devices(), r.weightStashing(),
                    r.seed(), r.replay(), failOnNonFiniteScore, r.ndThreadsPerStage(), r.offHeapGcBudget(), r.timelineSpans(),
                    r.compression());
            PipelineTrainer.ScoreCheck check = failOnNonFiniteScore ? AsyncPipelineWrapper::checkScore : (i, m, s) -> { };
            StageEngine engine = processes == null ? StageEngine.inProcess(built.model().stages(), r, transport)
                    : RemoteStages.start(processes.launch(), built.model(), r, o, failOnNonFiniteScore, userModel);
            return new AsyncPipelineWrapper(built.model(), settings, new PipelineTrainer(built.model(), r, engine, check));
        }
    }

    private static void checkScore(int iteration, int microBatch, double score) {
        if (!Double.isFinite(score)) {
            throw new NonFiniteScoreException(iteration, microBatch, score);
        }
    }
}
