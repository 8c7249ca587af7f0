package io.asyncpipeline.model.samediff;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;

/**
 * Where a {@link SameDiff} graph can be cut: the variables that separate it. Cutting after a variable
 * {@code v} splits the ops on the path to the loss into those computing {@code v} (its ancestors) and the
 * rest; {@code v} is a valid cut when the rest reads no other activation computed before {@code v}, so
 * that {@code v} is the only tensor crossing the cut. The user's placeholders are read directly by the
 * stages: the feature placeholder only before a cut, the label placeholder only after it.
 */
public final class SameDiffCuts {

    private SameDiffCuts() {
    }

    /**
     * Why cutting after {@code v} leaves more than {@code v} crossing the cut, or null if it does not.
     *
     * @param feature the feature placeholder (may only be read before the cut), or null not to check
     * @param label   the label placeholder (may only be read after the cut), or null not to check
     * @param shared  whether a trainable variable read on both sides makes the cut invalid
     */
    public static String crossing(SameDiff sd, String v, List<String> losses, String feature, String label, boolean shared) {
        Set<String> before = SameDiffGraphs.opsUpstream(sd, v, null);
        Set<String> after = new LinkedHashSet<>();
        for (String l : losses) {
            after.addAll(SameDiffGraphs.opsUpstream(sd, l, v));
        }
        Set<String> readAfter = SameDiffGraphs.inputsOf(sd, after);
        Set<String> readBefore = SameDiffGraphs.inputsOf(sd, before);
        for (String in : readAfter) {
            String producer = SameDiffGraphs.producer(sd, in);
            if (!in.equals(v) && producer != null && before.contains(producer)) {
                return "the ops after it also read \"" + in + "\", which is computed before it and does not cross the cut";
            }
        }
        if (feature != null && readAfter.contains(feature)) {
            return "the ops after it read the feature placeholder \"" + feature + "\", which only the first stage gets";
        }
        if (label != null && readBefore.contains(label)) {
            return "the ops before it read the label placeholder \"" + label + "\", which only the last stage gets";
        }
        if (shared) {
            for (String in : readBefore) {
                SDVariable var = sd.getVariable(in);
                if (var.getVariableType() == VariableType.VARIABLE && readAfter.contains(in)) {
                    return "trainable variable \"" + in + "\" is used on both sides of it (a tied weight)";
                }
            }
        }
        return null;
    }

    /**
     * The valid cut variables of {@code sd}, first to last: floating point op outputs on the path to the
     * loss (not the loss itself) that are the only tensor crossing a cut after them, with the feature
     * placeholder read only before and the label placeholder only after, no trainable variable used on
     * both sides (pipeline stages own their variables), and at least one trainable variable before (SameDiff
     * cannot differentiate a first stage without one).
     */
    public static List<String> candidates(SameDiff sd, List<String> losses, String feature, String label) {
        Set<String> ops = SameDiffGraphs.lossOps(sd, losses);
        Map<String, Integer> depth = new HashMap<>();
        List<String> found = new ArrayList<>();
        for (String op : ops) {
            for (String out : sd.getOps().get(op).getOutputsOfOp()) {
                SDVariable var = sd.getVariable(out);
                if (losses.contains(out) || var.getVariableType() != VariableType.ARRAY || var.dataType() == null
                        || !var.dataType().isFPType() || !consumedOnLossPath(sd, out, ops)) {
                    continue;
                }
                if (readsTrainable(sd, out) && crossing(sd, out, losses, feature, label, true) == null) {
                    found.add(out);
                    depth.put(out, SameDiffGraphs.opsUpstream(sd, out, null).size());
                }
            }
        }
        // graph order: each valid cut is upstream of the next, so it has fewer ops upstream
        found.sort(Comparator.<String>comparingInt(depth::get).thenComparing(n -> n));
        return found;
    }

    /** Whether a trainable variable is used to compute {@code name} (a first stage without one has nothing to train). */
    private static boolean readsTrainable(SameDiff sd, String name) {
        for (String in : SameDiffGraphs.ancestors(sd, name)) {
            if (sd.getVariable(in).getVariableType() == VariableType.VARIABLE) {
                return true;
            }
        }
        return false;
    }

    private static boolean consumedOnLossPath(SameDiff sd, String name, Set<String> lossOps) {
        List<String> consumers = sd.getVariables().get(name).getInputsForOp();
        if (consumers != null) {
            for (String c : consumers) {
                if (lossOps.contains(c)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Splits the ops on the loss path into {@code cuts.size() + 1} consecutive segments: segment i holds the
     * ops computing {@code cuts.get(i)} that no earlier segment holds; the last one the rest.
     */
    public static List<Set<String>> segments(SameDiff sd, List<String> losses, List<String> cuts) {
        Set<String> remaining = new LinkedHashSet<>(SameDiffGraphs.lossOps(sd, losses));
        List<Set<String>> out = new ArrayList<>();
        for (String c : cuts) {
            Set<String> seg = new LinkedHashSet<>();
            for (String op : SameDiffGraphs.opsUpstream(sd, c, null)) {
                if (remaining.remove(op)) {
                    seg.add(op);
                }
            }
            out.add(seg);
        }
        out.add(remaining);
        return out;
    }
}
