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
 * A {@link SameDiff} graph cut into stages at named boundary variables, each stage a graph of its own
 * that computes its outputs from its boundary input and, with the surrogate loss
 * {@code sum(output * upstreamGradient)}, the gradients of its trainable variables and of its boundary
 * input from the gradient of its output.
 *
 * <p>Each stage graph is built as {@code sd.dup()} of the whole graph, then cut: a new placeholder
 * {@code <boundary>__in} replaces the boundary variable as the input of every op that consumed it
 * (the ops upstream of it stay in the graph but are never reached), and, except on the last stage, a
 * placeholder {@code <boundary>__grad} and the surrogate loss {@value #SURROGATE_LOSS} are added and made
 * the only loss variable. The last stage keeps the user's loss variables.
 *
 * <p>Parameters are SHARED, not copied: every stage graph holds its VARIABLE arrays in the user's graph's
 * own array holder, so each stage variable is the very array of the user's graph, so an in-place update of a stage's variable is the update of the user's
 * model. A variable used by more than one stage (a tied embedding used by the first and the last stage)
 * gets a gradient from each of them; {@link #sharedVariables()} names them.
 *
 * <p>The boundaries must be in graph order, and every path from the user's placeholders to the loss
 * must cross each boundary (a boundary is a single tensor that separates the graph); each stage may also
 * read the user's placeholders directly (typically {@code tokens} on the first and {@code labels} on the
 * last stage).
 */
public final class SameDiffStages {

    /** Name of the surrogate loss variable in the stage graphs other than the last. */
    public static final String SURROGATE_LOSS = "stage_surrogate_loss";
    /** Suffix of the placeholder that replaces a boundary variable in the next stage. */
    public static final String INPUT_SUFFIX = "__in";
    /** Suffix of the placeholder that carries the gradient of a stage's output. */
    public static final String GRADIENT_SUFFIX = "__grad";

    private final SameDiff source;
    private final List<Stage> stages;
    private final Set<String> shared;

    private SameDiffStages(SameDiff source, List<Stage> stages, Set<String> shared) {
        this.source = source;
        this.stages = stages;
        this.shared = shared;
    }

    /**
     * Cuts {@code sd} at {@code boundaries} (in graph order) into {@code boundaries.length + 1} stages.
     * The loss variables of {@code sd} must be set.
     */
    public static SameDiffStages split(SameDiff sd, String... boundaries) {
        List<String> losses = sd.getLossVariables();
        if (losses == null || losses.isEmpty()) {
            throw new IllegalArgumentException("The SameDiff graph has no loss variables: call setLossVariables first");
        }
        SameDiffCuts.check(sd, boundaries, losses);
        List<Stage> stages = new ArrayList<>();
        Map<String, Integer> useCount = new HashMap<>();
        for (int i = 0; i <= boundaries.length; i++) {
            String in = i == 0 ? null : boundaries[i - 1];
            String out = i == boundaries.length ? null : boundaries[i];
            Stage s = buildStage(sd, i, in, out, losses);
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
        return new SameDiffStages(sd, Collections.unmodifiableList(stages), Collections.unmodifiableSet(shared));
    }

    private static Stage buildStage(SameDiff sd, int index, String in, String out, List<String> losses) {
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
            throw new IllegalArgumentException("Stage " + index + " does not depend on its input boundary \"" + in + "\": the"
                    + " path to " + (out == null ? "the loss" : "\"" + out + "\"") + " bypasses it; cut at a tensor every path"
                    + " crosses, e.g. " + SameDiffCuts.suggestions(sd, in, losses));
        }
        if (opsInStage.isEmpty()) {
            throw new IllegalArgumentException("Stage " + index + " (" + (in == null ? "input" : "\"" + in + "\"") + " -> "
                    + (out == null ? "loss" : "\"" + out + "\"") + ") computes nothing: remove one of its boundaries");
        }
        placeholders.remove(inputName);
        placeholders.remove(gradName);
        if (inputName != null) {
            SameDiffGradients.create(g, inputName);
        } else {
            SameDiffGradients.create(g);
        }
        return new Stage(index, g, in, out, inputName, gradName, List.copyOf(trainable), List.copyOf(placeholders),
                List.copyOf(opsInStage), stageLosses);
    }

    /** Every op on a path to the loss in the user's graph must belong to some stage (else a boundary was bypassed). */
    private static void validateCover(SameDiff sd, List<Stage> stages) {
        Set<String> covered = new HashSet<>();
        for (Stage s : stages) {
            covered.addAll(s.ops);
        }
        for (String name : SameDiffGraphs.variablesUpstream(sd, sd.getLossVariables())) {
            String op = SameDiffGraphs.producer(sd, name);
            if (op != null && !covered.contains(op)) {
                throw new IllegalArgumentException("Op \"" + op + "\" belongs to no stage: the boundaries do not cut the graph");
            }
        }
        // an op in two stages means a boundary does not separate the graph
        Map<String, Integer> count = new HashMap<>();
        for (Stage s : stages) {
            for (String op : s.ops) {
                if (count.merge(op, 1, Integer::sum) > 1) {
                    throw new IllegalArgumentException("Op \"" + op + "\" is computed by two stages: a path bypasses a boundary"
                            + " (boundaries must be single tensors that separate the graph, in graph order)");
                }
            }
        }
    }

    /** The user's graph. */
    public SameDiff source() {
        return source;
    }

    public int size() {
        return stages.size();
    }

    public Stage stage(int i) {
        return stages.get(i);
    }

    public List<Stage> stages() {
        return stages;
    }

    /** Trainable variables used by more than one stage (their gradients must be summed over stages). */
    public Set<String> sharedVariables() {
        return shared;
    }

    /** One stage: its graph and how to run it. */
    public static final class Stage {
        private final int index;
        private final SameDiff graph;
        private final String inputBoundary;
        private final String outputBoundary;
        private final String inputPlaceholder;
        private final String gradientPlaceholder;
        private final List<String> trainable;
        private final List<String> userPlaceholders;
        private final List<String> ops;
        private final List<String> losses;

        Stage(int index, SameDiff graph, String inputBoundary, String outputBoundary, String inputPlaceholder,
              String gradientPlaceholder, List<String> trainable, List<String> userPlaceholders, List<String> ops,
              List<String> losses) {
            this.index = index;
            this.graph = graph;
            this.inputBoundary = inputBoundary;
            this.outputBoundary = outputBoundary;
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
            return inputBoundary == null;
        }

        public boolean isLast() {
            return outputBoundary == null;
        }

        /** Boundary variable this stage starts from (null on the first stage). */
        public String inputBoundary() {
            return inputBoundary;
        }

        /** Boundary variable this stage ends at (null on the last stage). */
        public String outputBoundary() {
            return outputBoundary;
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
         * Forward: the stage's output boundary value (on the last stage: the loss).
         *
         * @param placeholders the user's placeholder values (extra entries are ignored)
         * @param input        the input boundary value (ignored on the first stage)
         */
        public INDArray forward(Map<String, INDArray> placeholders, INDArray input) {
            String out = isLast() ? losses.get(0) : outputBoundary;
            return graph.output(feeds(placeholders, input, null), out).get(out);
        }

        /**
         * Backward (recomputes the forward): gradients of the trainable variables and of the input boundary.
         *
         * @param outputGradient dL/d(output boundary) (ignored on the last stage)
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
                throw new IllegalStateException("SameDiff returned no gradient for the input boundary " + inputBoundary);
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
                    throw new IllegalArgumentException("Stage " + index + " needs its input " + inputBoundary);
                }
                f.put(inputPlaceholder, input);
            }
            if (outputGradient != null && !isLast()) {
                f.put(gradientPlaceholder, outputGradient);
            } else if (!isLast()) {
                // forward only: the gradient placeholder is not needed for the output boundary
            }
            return f;
        }

        @Override
        public String toString() {
            return "Stage " + index + " [" + (inputBoundary == null ? "input" : inputBoundary) + " -> "
                    + (outputBoundary == null ? "loss" : outputBoundary) + ", " + ops.size() + " ops, "
                    + trainable.size() + " variables]";
        }
    }

    /** Result of a stage backward. */
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

        /** dL/d(input boundary); null on the first stage. */
        public INDArray input() {
            return input;
        }

        /** The loss (last stage only; NaN elsewhere). */
        public double loss() {
            return loss;
        }
    }
}
