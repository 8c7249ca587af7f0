package io.asyncpipeline.model.samediff;

import io.asyncpipeline.transport.Message;
import io.asyncpipeline.stage.StageComputation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * One stage of a SameDiff pipeline as the {@link StageComputation} the runtime trains: forward, backward
 * and update of one {@link SameDiffSplitter.StageGraph stage graph}.
 *
 * <p>Forward runs the stage graph to its output cut variable. Backward runs the stage's gradient function
 * with the surrogate loss {@code sum(output · upstreamGradient)} (the last stage: the user's loss), which
 * recomputes the stage forward inside SameDiff, so one activation slot suffices and the slot state is
 * not used. Gradients of the micro-batches are summed weighted by their example counts; {@link #update}
 * divides by the examples of the step, so for a loss that is a per-example mean (as SameDiff losses
 * with the default reduction are) M micro-batches give the gradient of the whole mini-batch.
 *
 * <p>The update mirrors SameDiff's own training step per variable: BEFORE_UPDATER regularization,
 * {@link GradientUpdater#applyUpdater}, POST_UPDATER regularization, then {@code param -= update}
 * (or {@code +=} when the config maximises). Parameters are the user's arrays (shared through
 * {@link SameDiffSplitter}); the stage holds one {@link GradientUpdater} per variable, laid out as SameDiff
 * lays it out, which {@link SameDiffPipelineModel} swaps for the user's graph's own updaters when it has any.
 *
 * <p>{@link #params()} is a flattened COPY, not a view: SameDiff's thread-safe array holder does not
 * accept views. Weight stashing therefore goes through {@link #snapshotParams()} (that copy) and
 * {@link #restoreParams(INDArray)}, which assigns into each trainable variable's own array in
 * {@link SameDiffSplitter.StageGraph#trainableVariables()} order. As the backward recomputes the forward,
 * {@link #backwardRecomputesForward()} is true and the worker runs no extra forward before it.
 *
 * <p>Each stage has its own {@link IUpdater} (the config's, or a per-stage one: {@code stageUpdater},
 * delay-aware momentum, PipeMare), used for the per-variable updaters and the regularization rate.
 */
public final class SameDiffStage implements StageComputation {

    private final SameDiffSplitter.StageGraph graph;
    private final TrainingConfig config;
    private final IUpdater updater;
    private final SameDiff source;
    private final Map<String, GradientUpdater> updaters = new LinkedHashMap<>();
    /** Per variable: the example-weighted gradient sum of the step, and a buffer for one micro-batch's term. */
    private final Map<String, INDArray> accumulators = new HashMap<>();
    private final Map<String, INDArray> scratch = new HashMap<>();
    /** The variables with a gradient in the current step, in the order they got one. */
    private final java.util.Set<String> accumulated = new java.util.LinkedHashSet<>();
    private final String featureName;
    private final String labelName;
    private double lastScore = Double.NaN;
    /** The L2 norm a step's gradient is clipped to; infinite: no clipping. */
    private double clipNorm = Double.POSITIVE_INFINITY;
    private int clippedSteps;

    /**
     * @param splitter the stage graphs
     * @param index    which of them this stage runs (its variables must not be shared with another stage)
     * @param config   the user's training config: updater, regularization, minimize, and the DataSet
     *                 feature/label placeholder mapping (one feature and one label placeholder)
     */
    public SameDiffStage(SameDiffSplitter splitter, int index, TrainingConfig config) {
        this(splitter, index, config, null);
    }

    /**
     * @param updater this stage's updater, or null for {@code config.getUpdater()}
     */
    public SameDiffStage(SameDiffSplitter splitter, int index, TrainingConfig config, IUpdater updater) {
        this.graph = splitter.stageGraph(index);
        this.config = config;
        this.updater = updater != null ? updater : config.getUpdater();
        this.source = splitter.source();
        for (String v : graph.trainableVariables()) {
            if (splitter.sharedVariables().contains(v)) {
                throw new IllegalArgumentException("Variable \"" + v + "\" is used by more than one stage; pipelining"
                        + " needs each variable in one stage (e.g. an untied output head)");
            }
        }
        this.featureName = SameDiffGraphs.requireFeaturePlaceholder(config);
        this.labelName = SameDiffGraphs.requireLabelPlaceholder(config);
        IUpdater u = this.updater;
        for (String v : graph.trainableVariables()) {
            INDArray arr = source.getVariable(v).getArr();
            long size = u.stateSize(arr.length());
            INDArray view = size == 0 ? null : Nd4j.create(arr.dataType(), 1, size);
            GradientUpdater gu = u.instantiate(view, false);
            gu.setStateViewArray(view, arr.shape(), arr.ordering(), true);
            updaters.put(v, gu);
        }
    }

    /** The stage graph this stage runs. */
    public SameDiffSplitter.StageGraph stageGraph() {
        return graph;
    }

    /** This stage's updater configuration. */
    public IUpdater updaterConfig() {
        return updater;
    }

    /** Each variable's updater state, variables in the stage graph's order, each one's state arrays by key. */
    @Override
    public java.util.List<INDArray> optimizerState() {
        java.util.List<INDArray> out = new java.util.ArrayList<>();
        for (GradientUpdater<?> u : updaters.values()) {
            java.util.Map<String, INDArray> state = u.getState();
            if (state != null) {
                new java.util.TreeMap<>(state).values().forEach(out::add);
            }
        }
        return out;
    }

    /** The per-variable updaters (state of this stage's optimizer). */
    public Map<String, GradientUpdater> updaters() {
        return updaters;
    }

    @Override
    public void enterThread() {
        SameDiffSessions.enter(graph.graph());
        SameDiffSessions.enter(graph.graph().getFunction(SameDiffSessions.GRADIENT_FUNCTION));
    }

    @Override
    public void leaveThread() {
        SameDiffSessions.leave(graph.graph());
        SameDiffSessions.leave(graph.graph().getFunction(SameDiffSessions.GRADIENT_FUNCTION));
    }

    private Map<String, INDArray> placeholders(Message input) {
        Map<String, INDArray> ph = new HashMap<>();
        if (graph.isFirst()) {
            ph.put(featureName, input.tensors()[0]);
        }
        if (graph.isLast() && input.labels() != null) {
            ph.put(labelName, input.labels()[0]);
        }
        return ph;
    }

    @Override
    public INDArray[] forward(Message input, int slot, int iteration, int epoch) {
        if (graph.isLast()) {
            return new INDArray[0];       // the loss is computed with the backward
        }
        INDArray in = graph.isFirst() ? null : input.tensors()[0];
        INDArray out = graph.forward(placeholders(input), in).dup();
        SameDiffSessions.endPass(graph.graph());
        return new INDArray[] {out};
    }

    @Override
    public int slots() {
        return 1;
    }

    @Override
    public INDArray[] backward(Message input, INDArray[] outputGradients, int slot) {
        INDArray in = graph.isFirst() ? null : input.tensors()[0];
        INDArray g = graph.isLast() ? null : outputGradients[0];
        SameDiffSplitter.Gradients gr = graph.backward(placeholders(input), in, g);
        if (graph.isLast()) {
            lastScore = gr.loss();
        }
        int n = input.examples();
        for (Map.Entry<String, INDArray> e : gr.parameters().entrySet()) {
            INDArray pg = e.getValue();
            if (pg == null) {
                continue;
            }
            String v = e.getKey();
            INDArray acc = accumulators.get(v);
            if (acc == null) {                  // a variable's gradient keeps its shape: made once, reused
                acc = Nd4j.createUninitialized(pg.dataType(), pg.shape(), pg.ordering());
                accumulators.put(v, acc);
                scratch.put(v, acc.ulike());
            }
            if (accumulated.add(v)) {
                pg.mul(n, acc);
            } else {
                acc.addi(pg.mul(n, scratch.get(v)));
            }
        }
        INDArray[] inputGradient = gr.input() == null ? null : new INDArray[] {gr.input().dup()};
        SameDiffSessions.endPass(graph.graph().getFunction(SameDiffSessions.GRADIENT_FUNCTION));
        return inputGradient;
    }

    @Override
    public INDArray[] lastOutputMasks() {
        return null;
    }

    @Override
    public double lastScore() {
        return lastScore;
    }

    /**
     * Clips each step's gradient to L2 norm {@code maxNorm}: when the norm over all of this stage's variables with a
     * gradient exceeds it, each gradient is scaled by {@code maxNorm / norm} before regularization and the updater.
     */
    public void clipGradientNorm(double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("clipGradientNorm needs a positive norm, got " + maxNorm);
        }
        this.clipNorm = maxNorm;
    }

    /** Steps whose gradient {@link #clipGradientNorm clipping} scaled down so far. */
    public int clippedSteps() {
        return clippedSteps;
    }

    @Override
    public void update(int iteration, int epoch, int examples) {
        List<Regularization> regs = config.getRegularization() == null ? List.of() : config.getRegularization();
        IUpdater u = updater;
        double lr = u.hasLearningRate() ? u.getLearningRate(iteration, epoch) : 1.0;
        for (String v : accumulated) {
            accumulators.get(v).divi(examples);
        }
        if (clipNorm < Double.POSITIVE_INFINITY) {
            double squares = 0;
            for (String v : accumulated) {
                double n = accumulators.get(v).norm2Number().doubleValue();
                squares += n * n;
            }
            double norm = Math.sqrt(squares);
            if (norm > clipNorm) {
                clippedSteps++;
                for (String v : accumulated) {
                    accumulators.get(v).muli(clipNorm / norm);
                }
            }
        }
        for (String v : accumulated) {
            INDArray grad = accumulators.get(v);
            INDArray param = source.getVariable(v).getArr();
            for (Regularization r : regs) {
                if (r.applyStep() == Regularization.ApplyStep.BEFORE_UPDATER) {
                    r.apply(param, grad, lr, iteration, epoch);
                }
            }
            updaters.get(v).applyUpdater(grad, iteration, epoch);
            for (Regularization r : regs) {
                if (r.applyStep() == Regularization.ApplyStep.POST_UPDATER) {
                    r.apply(param, grad, lr, iteration, epoch);
                }
            }
            if (config.isMinimize()) {
                param.subi(grad);
            } else {
                param.addi(grad);
            }
        }
        accumulated.clear();
    }

    @Override
    public void discardGradients() {
        accumulated.clear();
    }

    @Override
    public boolean backwardRecomputesForward() {
        return true;
    }

    /** {@link #params()} is already a copy. */
    @Override
    public INDArray snapshotParams() {
        return params();
    }

    /** Copies each trainable variable into its range of {@code target} (laid out as {@link #params()}): no new array. */
    @Override
    public void snapshotParamsInto(INDArray target) {
        if (graph.trainableVariables().isEmpty()) {
            return;
        }
        INDArray f = target.reshape(target.length());
        long offset = 0;
        for (String v : graph.trainableVariables()) {
            INDArray arr = source.getVariable(v).getArr();
            long n = arr.length();
            f.get(NDArrayIndex.interval(offset, offset + n)).assign(arr.reshape('c', new long[] {n}));
            offset += n;
        }
    }

    /** Assigns {@code flat} (laid out as {@link #params()}) into each trainable variable's own array. */
    @Override
    public void restoreParams(INDArray flat) {
        if (graph.trainableVariables().isEmpty() && flat.length() == 0) {
            return;
        }
        long total = 0;
        for (String v : graph.trainableVariables()) {
            total += source.getVariable(v).getArr().length();
        }
        if (total != flat.length()) {        // checked before any assignment: never leave a mix of versions
            throw new IllegalArgumentException("stage " + graph.index() + " has " + total + " parameters, the copy "
                    + flat.length());
        }
        INDArray f = flat.reshape(flat.length());
        long offset = 0;
        for (String v : graph.trainableVariables()) {
            INDArray arr = source.getVariable(v).getArr();
            long n = arr.length();
            arr.assign(f.get(NDArrayIndex.interval(offset, offset + n)).reshape('c', arr.shape()));
            offset += n;
        }
    }

    @Override
    public INDArray params() {
        List<INDArray> arrs = new ArrayList<>();
        for (String v : graph.trainableVariables()) {
            arrs.add(source.getVariable(v).getArr());
        }
        return arrs.isEmpty() ? Nd4j.empty() : Nd4j.toFlattened('c', arrs);
    }
}
