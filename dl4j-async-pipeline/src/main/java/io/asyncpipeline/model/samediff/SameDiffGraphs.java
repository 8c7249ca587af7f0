package io.asyncpipeline.model.samediff;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What the rest of the package asks of a {@link SameDiff} graph, in one place: walks back through the
 * graph (a variable is the output of at most one op, {@code getOutputOfOp()}, and an op reads its
 * {@code getInputsToOp()}), the TrainingConfig's feature and label placeholders, and zeros shaped like a
 * placeholder's declared shape.
 */
final class SameDiffGraphs {

    private SameDiffGraphs() {
    }

    /**
     * Ops computing {@code name} (the op producing it included), walking back from it depth first and
     * stopping at {@code stop} (null: at nothing but leaves).
     */
    static Set<String> opsUpstream(SameDiff sd, String name, String stop) {
        Set<String> ops = new LinkedHashSet<>();
        Set<String> seen = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        todo.push(name);
        while (!todo.isEmpty()) {
            String n = todo.pop();
            if (!seen.add(n) || n.equals(stop)) {
                continue;
            }
            String op = producer(sd, n);
            if (op != null && ops.add(op)) {
                List<String> ins = sd.getOps().get(op).getInputsToOp();
                if (ins != null) {
                    ins.forEach(todo::push);
                }
            }
        }
        return ops;
    }

    /** Ops on a path to {@code losses} (names of ops). */
    static Set<String> lossOps(SameDiff sd, List<String> losses) {
        Set<String> ops = new LinkedHashSet<>();
        for (String l : losses) {
            ops.addAll(opsUpstream(sd, l, null));
        }
        return ops;
    }

    /** Variables upstream of {@code name} (excluding itself) in {@code sd}. */
    static Set<String> ancestors(SameDiff sd, String name) {
        return inputsOf(sd, opsUpstream(sd, name, null));
    }

    /** The variables {@code ops} read. */
    static Set<String> inputsOf(SameDiff sd, Collection<String> ops) {
        Set<String> in = new LinkedHashSet<>();
        for (String op : ops) {
            List<String> ins = sd.getOps().get(op).getInputsToOp();
            if (ins != null) {
                in.addAll(ins);
            }
        }
        return in;
    }

    /**
     * {@code from} and every variable they are computed from, breadth first: each name once, in the
     * order the walk reaches it.
     */
    static List<String> variablesUpstream(SameDiff sd, Collection<String> from) {
        List<String> order = new ArrayList<>();
        Set<String> visited = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>(from);
        while (!todo.isEmpty()) {
            String name = todo.pop();
            if (!visited.add(name)) {
                continue;
            }
            order.add(name);
            String op = producer(sd, name);
            if (op != null) {
                List<String> ins = sd.getOps().get(op).getInputsToOp();
                if (ins != null) {
                    todo.addAll(ins);
                }
            }
        }
        return order;
    }

    /** The op whose output {@code name} is; null for a placeholder, parameter, constant or unknown name. */
    static String producer(SameDiff sd, String name) {
        Variable v = sd.getVariables().get(name);
        return v == null ? null : v.getOutputOfOp();
    }

    /** The placeholder {@code sd}'s TrainingConfig maps the DataSet features to; null without a config or one mapping. */
    static String featurePlaceholder(SameDiff sd) {
        TrainingConfig tc = sd.getTrainingConfig();
        return tc == null ? null : single(tc.getDataSetFeatureMapping());
    }

    /** The placeholder {@code sd}'s TrainingConfig maps the DataSet labels to; null without a config or one mapping. */
    static String labelPlaceholder(SameDiff sd) {
        TrainingConfig tc = sd.getTrainingConfig();
        return tc == null ? null : single(tc.getDataSetLabelMapping());
    }

    /** The placeholder {@code tc} maps the DataSet features to; it must map exactly one. */
    static String requireFeaturePlaceholder(TrainingConfig tc) {
        return required(tc.getDataSetFeatureMapping(), "feature");
    }

    /** The placeholder {@code tc} maps the DataSet labels to; it must map exactly one. */
    static String requireLabelPlaceholder(TrainingConfig tc) {
        return required(tc.getDataSetLabelMapping(), "label");
    }

    private static String single(List<String> names) {
        return names == null || names.size() != 1 ? null : names.get(0);
    }

    private static String required(List<String> names, String what) {
        String name = single(names);
        if (name == null) {
            throw new IllegalArgumentException("The TrainingConfig must map exactly one " + what + " placeholder, has " + names);
        }
        return name;
    }

    /**
     * Zeros shaped like {@code placeholder}'s declared shape, every {@code -1} (any size) replaced by
     * {@link SameDiffPartitioner#DEFAULT_BATCH}: a small batch for a forward pass before any data is seen.
     * The placeholder must be declared with a shape.
     */
    static INDArray zeros(SDVariable placeholder) {
        long[] s = placeholder.getShape().clone();
        for (int i = 0; i < s.length; i++) {
            s[i] = s[i] < 0 ? SameDiffPartitioner.DEFAULT_BATCH : s[i];
        }
        return Nd4j.zeros(placeholder.dataType(), s);
    }
}
