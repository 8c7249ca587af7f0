package io.asyncpipeline.model.samediff;

import io.asyncpipeline.partition.Balancer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;

/**
 * Automatic cuts of a {@link SameDiff} graph: finds the variables the graph can be cut at
 * ({@link SameDiffCuts#candidates}), estimates each op's cost from one forward pass on a small batch,
 * and picks the cuts that minimise the most expensive stage ({@link Balancer}).
 *
 * <p>Op cost, in floating point operations of the forward pass: {@code 2·m·n·k} for matrix products
 * ({@code matmul}, {@code mmul}, {@code batched_gemm}, {@code tensordot}/{@code tensormmul}; k derived from
 * the operand and output sizes), the larger of output and input element counts for every other op.
 * The batch is {@code profileWith}'s sample if given, else zeros shaped like the placeholders with every
 * {@code -1} dimension replaced by {@value #DEFAULT_BATCH}.
 */
public final class SameDiffPartitioner {

    /** What a {@code -1} placeholder dimension becomes in the estimate batch. */
    public static final int DEFAULT_BATCH = 2;

    private SameDiffPartitioner() {
    }

    /** The variables {@code sd} (with its TrainingConfig and loss set) can be cut at, first to last. */
    public static List<String> candidates(SameDiff sd) {
        requireConfig(sd);
        return SameDiffCuts.candidates(sd, sd.getLossVariables(), SameDiffGraphs.featurePlaceholder(sd),
                SameDiffGraphs.labelPlaceholder(sd));
    }

    /** The balanced cuts into {@code stages} stages, costs estimated on a batch built from the placeholder shapes. */
    public static Plan balance(SameDiff sd, int stages) {
        return balance(sd, stages, null);
    }

    /**
     * The balanced cuts into {@code stages} stages.
     *
     * @param sample a batch to estimate the op costs on (null: zeros shaped like the placeholders)
     * @throws IllegalArgumentException when the graph has fewer than {@code stages - 1} candidate cuts
     */
    public static Plan balance(SameDiff sd, int stages, DataSet sample) {
        if (stages < 2) {
            throw new IllegalArgumentException("stages(" + stages + "): a SameDiff pipeline needs at least 2 stages"
                    + " (for one, train with sd.fit)");
        }
        List<String> candidates = candidates(sd);
        if (candidates.size() < stages - 1) {
            throw new IllegalArgumentException("cannot cut the SameDiff graph into " + stages + " stages: it has "
                    + candidates.size() + " candidate cut variable(s) (single tensors that every path from the"
                    + " features to the loss crosses) " + candidates + ", so at most " + (candidates.size() + 1)
                    + " stages are possible; use stages(" + Math.max(2, candidates.size() + 1) + ") or fewer"
                    + (candidates.isEmpty() ? " (with none, the graph cannot be pipelined: a tied weight used by the"
                    + " first and last layers, or a skip connection over everything, prevents every cut)" : ""));
        }
        List<String> losses = sd.getLossVariables();
        Map<String, Double> opCosts = opCosts(sd, losses, sample);
        List<Set<String>> segments = SameDiffCuts.segments(sd, losses, candidates);
        double[] segmentCosts = new double[segments.size()];
        for (int i = 0; i < segmentCosts.length; i++) {
            for (String op : segments.get(i)) {
                segmentCosts[i] += opCosts.getOrDefault(op, 1.0);
            }
        }
        int[] sizes = Balancer.balance(segmentCosts, stages);
        List<String> cuts = new ArrayList<>();
        double[] stageCosts = new double[stages];
        int seg = 0;
        for (int k = 0; k < stages; k++) {
            for (int j = 0; j < sizes[k]; j++) {
                stageCosts[k] += segmentCosts[seg++];
            }
            if (k < stages - 1) {
                cuts.add(candidates.get(seg - 1));
            }
        }
        return new Plan(cuts, stageCosts, candidates, segmentCosts);
    }

    /** Estimated forward cost (flops) of each op on the loss path, from one forward pass. */
    public static Map<String, Double> opCosts(SameDiff sd, List<String> losses, DataSet sample) {
        Set<String> ops = SameDiffGraphs.lossOps(sd, losses);
        Map<String, INDArray> feeds = feeds(sd, ops, sample);
        List<String> outputs = new ArrayList<>();
        for (String op : ops) {
            for (String o : sd.getOps().get(op).getOutputsOfOp()) {
                if (sd.getVariable(o).getVariableType() == VariableType.ARRAY) {
                    outputs.add(o);
                }
            }
        }
        Map<String, INDArray> values = new HashMap<>(sd.output(feeds, outputs));
        values.putAll(feeds);
        Map<String, Double> costs = new LinkedHashMap<>();
        for (String op : ops) {
            costs.put(op, cost(sd, sd.getOps().get(op), values));
        }
        return costs;
    }

    private static INDArray value(SameDiff sd, String name, Map<String, INDArray> values) {
        INDArray a = values.get(name);
        if (a == null) {
            SDVariable v = sd.getVariable(name);
            a = v.getVariableType() == VariableType.VARIABLE || v.getVariableType() == VariableType.CONSTANT ? v.getArr() : null;
        }
        return a;
    }

    static double cost(SameDiff sd, SameDiffOp op, Map<String, INDArray> values) {
        double outLen = 0;
        INDArray out0 = null;
        for (String o : op.getOutputsOfOp()) {
            INDArray a = value(sd, o, values);
            if (a != null) {
                outLen += a.length();
                out0 = out0 == null ? a : out0;
            }
        }
        List<String> ins = op.getInputsToOp() == null ? List.of() : op.getInputsToOp();
        double inLen = 0;
        for (String in : ins) {
            INDArray a = value(sd, in, values);
            inLen = Math.max(inLen, a == null ? 0 : a.length());
        }
        String name = op.getOp().opName();
        boolean product = name.equals("matmul") || name.equals("mmul") || name.equals("batched_gemm")
                || name.equals("tensordot") || name.equals("tensormmul");
        if (product && ins.size() >= 2 && out0 != null && out0.length() > 0) {
            INDArray a = value(sd, ins.get(0), values);
            INDArray b = value(sd, ins.get(1), values);
            if (a != null && b != null) {
                // A [batch, m, k] · B [batch, k, n] = C [batch, m, n]: |A|·|B| / (|C|·batch) = k² (any transposes)
                double batch = !name.startsWith("tensor") && out0.rank() > 2
                        ? (double) out0.length() / (out0.size(-2) * out0.size(-1)) : 1;
                double k = Math.sqrt((double) a.length() * b.length() / (out0.length() * batch));
                return 2.0 * out0.length() * Math.max(1, Math.round(k));
            }
        }
        return Math.max(1, Math.max(outLen, inLen));
    }

    /** The sample's arrays for the feature and label placeholders; zeros shaped like the declared shape for the rest. */
    static Map<String, INDArray> feeds(SameDiff sd, Set<String> ops, DataSet sample) {
        requireConfig(sd);
        String feature = SameDiffGraphs.featurePlaceholder(sd);
        String label = SameDiffGraphs.labelPlaceholder(sd);
        Map<String, INDArray> feeds = new HashMap<>();
        for (String in : SameDiffGraphs.inputsOf(sd, ops)) {
            SDVariable v = sd.getVariable(in);
            if (v.getVariableType() != VariableType.PLACEHOLDER) {
                continue;
            }
            if (sample != null && in.equals(feature)) {
                feeds.put(in, sample.getFeatures());
            } else if (sample != null && in.equals(label)) {
                feeds.put(in, sample.getLabels());
            } else {
                requireShape(v);
                feeds.put(in, SameDiffGraphs.zeros(v));
            }
        }
        return feeds;
    }

    private static void requireShape(SDVariable placeholder) {
        if (placeholder.getShape() == null) {
            throw new IllegalArgumentException("placeholder \"" + placeholder.name() + "\" has no declared shape, so the"
                    + " op costs cannot be estimated: declare it (e.g. sd.placeHolder(\"" + placeholder.name() + "\", type, -1,"
                    + " 32)), pass a sample batch with profileWith(dataSet), or name the cuts with cutAfter(...)");
        }
    }

    private static void requireConfig(SameDiff sd) {
        if (sd.getTrainingConfig() == null || sd.getLossVariables() == null || sd.getLossVariables().isEmpty()) {
            throw new IllegalArgumentException("the SameDiff graph needs a TrainingConfig (sd.setTrainingConfig) and loss"
                    + " variables to find where it can be cut");
        }
    }

    /** Chosen cuts and the estimated cost of each stage. */
    public static final class Plan {
        private final List<String> cuts;
        private final double[] stageCosts;
        private final List<String> candidates;
        private final double[] segmentCosts;

        Plan(List<String> cuts, double[] stageCosts, List<String> candidates, double[] segmentCosts) {
            this.cuts = Collections.unmodifiableList(cuts);
            this.stageCosts = stageCosts;
            this.candidates = Collections.unmodifiableList(candidates);
            this.segmentCosts = segmentCosts;
        }

        /** The cut variables, first to last ({@code cutAfter(...)} would take the same names). */
        public List<String> cuts() {
            return cuts;
        }

        /** Estimated forward flops of each stage on the estimate batch. */
        public double[] stageCosts() {
            return stageCosts.clone();
        }

        /** Every variable the graph can be cut at, first to last. */
        public List<String> candidates() {
            return candidates;
        }

        /** Estimated cost of the ops between consecutive candidates (candidates().size() + 1 entries). */
        public double[] segmentCosts() {
            return segmentCosts.clone();
        }

        /** Most expensive stage over the mean stage cost (1 = perfectly balanced). */
        public double imbalance() {
            double max = 0;
            double sum = 0;
            for (double c : stageCosts) {
                max = Math.max(max, c);
                sum += c;
            }
            return sum == 0 ? 1 : max / (sum / stageCosts.length);
        }

        @Override
        public String toString() {
            long[] rounded = Arrays.stream(stageCosts).mapToLong(Math::round).toArray();
            return "cutAfter" + cuts + ", estimated stage costs (forward flops) " + Arrays.toString(rounded)
                    + String.format(", max/mean %.3f", imbalance());
        }
    }
}
