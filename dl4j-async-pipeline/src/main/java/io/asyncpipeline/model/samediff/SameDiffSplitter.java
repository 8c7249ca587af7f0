package io.asyncpipeline.model.samediff;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The graph splitter: a {@link SameDiff} graph cut after named cut variables into stage graphs
 * ({@link StageGraph}), each a graph of its own that computes its output from its input cut variable and,
 * with the surrogate loss {@code sum(output * upstreamGradient)}, the gradients of its trainable variables
 * and of its input from the gradient of its output. (The {@link SameDiffStage} that trains one stage graph
 * in a pipeline is built on it.)
 *
 * <p>Each stage graph is built as {@code sd.dup()} of the whole graph, then cut: a new placeholder
 * {@code <cut variable>__in} replaces the input cut variable as the input of every op that consumed it
 * (the ops upstream of it stay in the graph but are never reached), and, except on the last stage, a
 * placeholder {@code <cut variable>__grad} and the surrogate loss {@value #SURROGATE_LOSS} are added and
 * made the only loss variable. The last stage keeps the user's loss variables.
 *
 * <p>Parameters are SHARED, not copied: every stage graph holds its VARIABLE arrays in the user's graph's
 * own array holder, so each stage variable is the very array of the user's graph, and an in-place update
 * of a stage's variable is the update of the user's model. A variable used by more than one stage (a tied
 * embedding used by the first and the last stage) gets a gradient from each of them;
 * {@link #sharedVariables()} names them.
 *
 * <p>The cut variables must be in graph order, and every path from the user's placeholders to the loss
 * must cross each cut (a cut variable is a single tensor that separates the graph, see
 * {@link SameDiffCuts}); each stage may also read the user's placeholders directly (typically
 * {@code tokens} on the first and {@code labels} on the last stage).
 */
public final class SameDiffSplitter {

    /** Name of the surrogate loss variable in the stage graphs other than the last. */
    public static final String SURROGATE_LOSS = "stage_surrogate_loss";
    /** Suffix of the placeholder that replaces a cut variable in the next stage. */
    public static final String INPUT_SUFFIX = "__in";
    /** Suffix of the placeholder that carries the gradient of a stage's output. */
    public static final String GRADIENT_SUFFIX = "__grad";

    private final SameDiff source;
    private final List<StageGraph> stages;
    private final Set<String> shared;

    private SameDiffSplitter(SameDiff source, List<StageGraph> stages, Set<String> shared) {
        this.source = source;
        this.stages = stages;
        this.shared = shared;
    }

    /**
     * Cuts {@code sd} after the cut variables {@code cuts} (in graph order) into {@code cuts.length + 1}
     * stage graphs. The loss variables of {@code sd} must be set.
     */
    public static SameDiffSplitter split(SameDiff sd, String... cuts) {
        List<String> losses = sd.getLossVariables();
        if (losses == null || losses.isEmpty()) {
            throw new IllegalArgumentException("The SameDiff graph has no loss variables: call setLossVariables first");
        }
        SameDiffCuts.check(sd, cuts, losses);
        List<StageGraph> stages = new ArrayList<>();
        Map<String, Integer> useCount = new HashMap<>();
        for (int i = 0; i <= cuts.length; i++) {
            String in = i == 0 ? null : cuts[i - 1];
            String out = i == cuts.length ? null : cuts[i];
            StageGraph s = buildStageGraph(sd, i, in, out, losses);
            stages.add(s);
            for (String v : s.trainable) {
                useCount.merge(v, 1, Integer::sum);
            }
        }
        Set<String> shared = new LinkedHashSet<>();
        for (Map.Entry<String, Integer> e : useCount.entrySet()) {
            if (e.getValue() > 1) {
                shared.add(e.getKey());
            }
        }
        validateCover(sd, stages);
        return new SameDiffSplitter(sd, Collections.unmodifiableList(stages), Collections.unmodifiableSet(shared));
    }

    private static StageGraph buildStageGraph(SameDiff sd, int index, String in, String out, List<String> losses) {
        SameDiff g = sd.dup();
        // Share the user's parameter arrays: the stage graph uses the user's graph's variable array holder
        // itself. (associateArrayWithVariable would not do: ThreadSafeArrayHolder copies values into the
        // array it already holds.) The gradient function created below takes these array references.
        g.setVariablesArrays(sd.getVariablesArrays());
        String inputName = null;
        if (in != null) {
            SDVariable orig = g.getVariable(in);
            inputName = in + INPUT_SUFFIX;
            SDVariable ph = g.placeHolder(inputName, orig.dataType(), (long[]) null);
            List<String> consumers = g.getVariables().get(in).getInputsForOp();
            for (String opName : consumers == null ? List.<String>of() : new ArrayList<>(consumers)) {
                DifferentialFunction f = g.getOpById(opName);
                String[] args = f.argNames();
                for (int a = 0; a < args.length; a++) {
                    if (in.equals(args[a])) {
                        g.replaceArgFor(a, ph, f);
                    }
                }
            }
        }
        List<String> stageLosses;
        String gradName = null;
        if (out != null) {
            gradName = out + GRADIENT_SUFFIX;
            SDVariable o = g.getVariable(out);
            SDVariable gradPh = g.placeHolder(gradName, o.dataType(), (long[]) null);
            SDVariable surrogate = g.sum(SURROGATE_LOSS, o.mul(gradPh));
            g.setLossVariables(surrogate);
            stageLosses = List.of(SURROGATE_LOSS);
        } else {
            g.setLossVariables(losses.toArray(new String[0]));
            stageLosses = losses;
        }
        // what the stage computes: walk back from its losses, stopping at placeholders
        Set<String> trainable = new LinkedHashSet<>();
        Set<String> placeholders = new LinkedHashSet<>();
        Set<String> opsInStage = new LinkedHashSet<>();
        for (String name : SameDiffGraphs.variablesUpstream(g, stageLosses)) {
            VariableType t = g.getVariable(name).getVariableType();
            if (t == VariableType.VARIABLE) {
                trainable.add(name);
            } else if (t == VariableType.PLACEHOLDER) {
                placeholders.add(name);
            }
            String op = SameDiffGraphs.producer(g, name);
            if (op != null && sd.getOps().containsKey(op)) {
                opsInStage.add(op);     // ops of the user's graph (not the surrogate's)
            }
        }
        if (inputName != null && !placeholders.contains(inputName)) {
            throw new IllegalArgumentException("Stage " + index + " does not depend on its input cut variable \"" + in + "\": the"
                    + " path to " + (out == null ? "the loss" : "\"" + out + "\"") + " bypasses it; cut at a tensor every path"
                    + " crosses, e.g. " + SameDiffCuts.suggestions(sd, in, losses));
        }
        if (opsInStage.isEmpty()) {
            throw new IllegalArgumentException("Stage " + index + " (" + (in == null ? "input" : "\"" + in + "\"") + " -> "
                    + (out == null ? "loss" : "\"" + out + "\"") + ") computes nothing: remove one of its cut variables");
        }
        placeholders.remove(inputName);
        placeholders.remove(gradName);
        if (inputName != null) {
            SameDiffGradients.create(g, inputName);
        } else {
            SameDiffGradients.create(g);
        }
        return new StageGraph(index, g, in, out, inputName, gradName, List.copyOf(trainable), List.copyOf(placeholders),
                List.copyOf(opsInStage), stageLosses);
    }

    /** Every op on a path to the loss in the user's graph must belong to exactly one stage (else a cut was bypassed). */
    private static void validateCover(SameDiff sd, List<StageGraph> stages) {
        Set<String> covered = new HashSet<>();
        for (StageGraph s : stages) {
            covered.addAll(s.ops);
        }
        for (String name : SameDiffGraphs.variablesUpstream(sd, sd.getLossVariables())) {
            String op = SameDiffGraphs.producer(sd, name);
            if (op != null && !covered.contains(op)) {
                throw new IllegalArgumentException("Op \"" + op + "\" belongs to no stage: the cuts do not separate the graph");
            }
        }
        // an op in two stages means a cut variable does not separate the graph
        Map<String, Integer> count = new HashMap<>();
        for (StageGraph s : stages) {
            for (String op : s.ops) {
                if (count.merge(op, 1, Integer::sum) > 1) {
                    throw new IllegalArgumentException("Op \"" + op + "\" is computed by two stages: a path bypasses a cut"
                            + " (cut variables must be single tensors that separate the graph, in graph order)");
                }
            }
        }
    }

    /** The user's graph. */
    public SameDiff source() {
        return source;
    }

    /** Number of stage graphs. */
    public int size() {
        return stages.size();
    }

    /** Stage graph {@code i} (0-based). */
    public StageGraph stageGraph(int i) {
        return stages.get(i);
    }

    /** The stage graphs, first to last. */
    public List<StageGraph> stageGraphs() {
        return stages;
    }

    /** Trainable variables used by more than one stage (their gradients must be summed over stages). */
    public Set<String> sharedVariables() {
        return shared;
    }

    /** One stage graph: the part of the user's graph between two cuts, and how to run it. */
    public static final class StageGraph {
        private final int index;
        private final SameDiff graph;
        private final String inputCut;
        private final String outputCut;
        private final String inputPlaceholder;
        private final String gradientPlaceholder;
        private final List<String> trainable;
        private final List<String> userPlaceholders;
        private final List<String> ops;
        private final List<String> losses;

        StageGraph(int index, SameDiff graph, String inputCut, String outputCut, String inputPlaceholder,
              String gradientPlaceholder, List<String> trainable, List<String> userPlaceholders, List<String> ops,
              List<String> losses) {
            this.index = index;
            this.graph = graph;
            this.inputCut = inputCut;
            this.outputCut = outputCut;
            this.inputPlaceholder = inputPlaceholder;
            this.gradientPlaceholder = gradientPlaceholder;
            this.trainable = trainable;
            this.userPlaceholders = userPlaceholders;
            this.ops = ops;
            this.losses = losses;
        }

        public int index() {
            return index;
        }

        /** The stage's own graph (shares parameter arrays with the user's graph). */
        public SameDiff graph() {
            return graph;
        }

        public boolean isFirst() {
            return inputCut == null;
        }

        public boolean isLast() {
            return outputCut == null;
        }

        /** Cut variable this stage starts from (null on the first stage). */
        public String inputCut() {
            return inputCut;
        }

        /** Cut variable this stage ends at (null on the last stage). */
        public String outputCut() {
            return outputCut;
        }

        /** Trainable (VARIABLE) names this stage computes with, in the user's graph's names. */
        public List<String> trainableVariables() {
            return trainable;
        }

        /** The user's placeholders the stage reads (e.g. tokens on the first, labels on the last stage). */
        public List<String> userPlaceholders() {
            return userPlaceholders;
        }

        /** Number of ops of the user's graph this stage computes. */
        public int opCount() {
            return ops.size();
        }

        /**
         * Forward: the value of the stage's output cut variable (on the last stage: the loss).
         *
         * @param placeholders the user's placeholder values (extra entries are ignored)
         * @param input        the value of the input cut variable (ignored on the first stage)
         */
        public INDArray forward(Map<String, INDArray> placeholders, INDArray input) {
            String out = isLast() ? losses.get(0) : outputCut;
            return graph.output(feeds(placeholders, input, null), out).get(out);
        }

        /**
         * Backward (recomputes the forward): gradients of the trainable variables and of the input cut variable.
         *
         * @param outputGradient dL/d(output cut variable) (ignored on the last stage)
         */
        public Gradients backward(Map<String, INDArray> placeholders, INDArray input, INDArray outputGradient) {
            List<String> wanted = new ArrayList<>(trainable);
            if (!isFirst()) {
                wanted.add(inputPlaceholder);
            }
            Map<String, INDArray> grads;
            double loss = Double.NaN;
            if (isLast()) {
                org.nd4j.autodiff.samediff.api.OutAndGrad oag = graph.calculateGradientsAndOutputs(
                        feeds(placeholders, input, null), losses, wanted);
                grads = oag.getGradients();
                loss = 0;
                for (String l : losses) {
                    loss += oag.getOutputs().get(l).getDouble(0);
                }
            } else {
                grads = graph.calculateGradients(feeds(placeholders, input, outputGradient), wanted);
            }
            Map<String, INDArray> params = new LinkedHashMap<>();
            for (String v : trainable) {
                INDArray gv = grads.get(v);
                params.put(v, gv);
            }
            INDArray inGrad = isFirst() ? null : grads.get(inputPlaceholder);
            if (!isFirst() && inGrad == null) {
                throw new IllegalStateException("SameDiff returned no gradient for the input cut variable " + inputCut);
            }
            return new Gradients(params, inGrad, loss);
        }

        private Map<String, INDArray> feeds(Map<String, INDArray> placeholders, INDArray input, INDArray outputGradient) {
            Map<String, INDArray> f = new HashMap<>();
            for (String p : userPlaceholders) {
                INDArray a = placeholders == null ? null : placeholders.get(p);
                if (a == null) {
                    throw new IllegalArgumentException("Stage " + index + " needs placeholder \"" + p + "\"");
                }
                f.put(p, a);
            }
            if (!isFirst()) {
                if (input == null) {
                    throw new IllegalArgumentException("Stage " + index + " needs its input " + inputCut);
                }
                f.put(inputPlaceholder, input);
            }
            if (outputGradient != null && !isLast()) {
                f.put(gradientPlaceholder, outputGradient);
            } else if (!isLast()) {
                // forward only: the gradient placeholder is not needed for the output cut variable
            }
            return f;
        }

        @Override
        public String toString() {
            return "Stage " + index + " [" + (inputCut == null ? "input" : inputCut) + " -> "
                    + (outputCut == null ? "loss" : outputCut) + ", " + ops.size() + " ops, "
                    + trainable.size() + " variables]";
        }
    }

    /** Result of a stage graph's backward. */
    public static final class Gradients {
        private final Map<String, INDArray> parameters;
        private final INDArray input;
        private final double loss;

        Gradients(Map<String, INDArray> parameters, INDArray input, double loss) {
            this.parameters = parameters;
            this.input = input;
            this.loss = loss;
        }

        /** dL/dθ per trainable variable of the stage (null for a variable with no path to the loss). */
        public Map<String, INDArray> parameters() {
            return parameters;
        }

        /** dL/d(input cut variable); null on the first stage. */
        public INDArray input() {
            return input;
        }

        /** The loss (last stage only; NaN elsewhere). */
        public double loss() {
            return loss;
        }
    }
}
