package io.asyncpipeline.model.samediff;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.Variable;

/**
 * Where a {@link SameDiff} graph can be cut, and the checks of the cuts a user names. Cutting after a
 * variable {@code v} (the cut variable) splits the ops on the path to the loss into those computing
 * {@code v} (its ancestors) and the rest; {@code v} is a valid cut variable when the rest reads no other
 * activation computed before {@code v}, so that {@code v} is the only tensor crossing the cut. The user's
 * placeholders are read directly by the stages: the feature placeholder only before a cut, the label
 * placeholder only after it.
 *
 * <p>{@link #candidates} lists every valid cut variable (what {@link SameDiffPartitioner} balances over);
 * {@link #check} rejects wrong {@code cutAfter(...)} names before any stage is built, with messages that
 * suggest valid names close to the wrong one.
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

    /**
     * Checks the cut variables a user names ({@code cutAfter(...)}) before any stage is built, with messages
     * that say what to change: each name must exist, be a floating point op output the loss depends on,
     * appear once and be the only tensor crossing its cut, and the names must be in graph order (each cut
     * variable upstream of the next).
     */
    static void check(SameDiff sd, String[] cuts, List<String> losses) {
        if (cuts == null || cuts.length == 0) {
            throw new IllegalArgumentException("no cut variables: name at least one with cutAfter(...), e.g. cutAfter("
                    + suggestions(sd, "", losses) + ")");
        }
        Set<String> lossAncestors = new HashSet<>();
        for (String l : losses) {
            lossAncestors.addAll(SameDiffGraphs.ancestors(sd, l));
        }
        // only the first stage gets the DataSet features and only the last the labels (when a config maps them)
        String feature = SameDiffGraphs.featurePlaceholder(sd);
        String label = SameDiffGraphs.labelPlaceholder(sd);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < cuts.length; i++) {
            String c = cuts[i];
            if (c == null) {
                throw new IllegalArgumentException("cut variable " + i + " is null: name a variable, e.g. one of "
                        + suggestions(sd, "", losses));
            }
            SDVariable v = sd.getVariable(c);
            if (v == null) {
                throw new IllegalArgumentException("No variable named \"" + c + "\" to cut at; cut variables are op outputs"
                        + " the loss depends on, e.g. " + suggestions(sd, c, losses));
            }
            if (v.getVariableType() != VariableType.ARRAY || !v.dataType().isFPType()) {
                throw new IllegalArgumentException("Cut variable \"" + c + "\" must be a floating point op output (ARRAY), is "
                        + v.getVariableType() + " " + v.dataType() + "; cut at an activation instead, e.g. "
                        + suggestions(sd, c, losses));
            }
            if (!seen.add(c)) {
                throw new IllegalArgumentException("Cut variable \"" + c + "\" given twice in " + Arrays.toString(cuts)
                        + ": the stage between the two would be empty; remove the repeated name");
            }
            if (losses.contains(c) || !lossAncestors.contains(c)) {
                throw new IllegalArgumentException("Cut variable \"" + c + "\" " + (losses.contains(c) ? "is the loss" : "is not"
                        + " used to compute the loss " + losses) + ", so the stage after it would be empty or cut off;"
                        + " cut at an activation upstream of the loss, e.g. " + suggestions(sd, c, losses));
            }
            String crossing = crossing(sd, c, losses, feature, label, false);
            if (crossing != null) {
                throw new IllegalArgumentException("Cut variable \"" + c + "\" does not separate the graph: " + crossing
                        + ", so a stage would need an activation the cut does not carry; cut at a single tensor every"
                        + " path to the loss crosses, e.g. " + suggestions(sd, c, losses,
                        new HashSet<>(candidates(sd, losses, feature, label))));
            }
        }
        for (int i = 0; i + 1 < cuts.length; i++) {
            Set<String> upstreamOfNext = SameDiffGraphs.ancestors(sd, cuts[i + 1]);
            if (!upstreamOfNext.contains(cuts[i])) {
                List<String> sorted = new ArrayList<>(List.of(cuts));
                sorted.sort((a, b) -> SameDiffGraphs.ancestors(sd, b).contains(a) ? -1
                        : SameDiffGraphs.ancestors(sd, a).contains(b) ? 1 : 0);
                boolean reversed = SameDiffGraphs.ancestors(sd, cuts[i]).contains(cuts[i + 1]);
                throw new IllegalArgumentException("Cut variables out of graph order: \"" + cuts[i + 1] + "\" "
                        + (reversed ? "comes before \"" + cuts[i] + "\" in the graph" : "does not depend on \""
                        + cuts[i] + "\" (they are on parallel paths, so neither separates the graph at the other)")
                        + "; list the cut variables first to last" + (reversed ? ", e.g. cutAfter(" + quoted(sorted) + ")" : ""));
            }
        }
    }

    /**
     * Up to 6 user-named floating point op outputs the loss depends on (names SameDiff made up, like
     * {@code add_27}, are left out), the closest to {@code wanted} first, listed in graph order.
     */
    static String suggestions(SameDiff sd, String wanted, List<String> losses) {
        return suggestions(sd, wanted, losses, null);
    }

    /** As {@link #suggestions(SameDiff, String, List)}, among {@code only} (null: all). */
    static String suggestions(SameDiff sd, String wanted, List<String> losses, Set<String> only) {
        Set<String> upstream = new HashSet<>();
        for (String l : losses) {
            upstream.addAll(SameDiffGraphs.ancestors(sd, l));
        }
        List<String> named = new ArrayList<>();
        for (Map.Entry<String, Variable> e : sd.getVariables().entrySet()) {
            String n = e.getKey();
            String op = e.getValue().getOutputOfOp();
            SDVariable v = e.getValue().getVariable();
            if (op == null || (only != null && !only.contains(n)) || n.equals(op) || n.startsWith(op + ":") || !upstream.contains(n)
                    || v.getVariableType() != VariableType.ARRAY || v.dataType() == null || !v.dataType().isFPType()) {
                continue;
            }
            named.add(n);
        }
        List<String> byDistance = new ArrayList<>(named);
        byDistance.sort(Comparator.comparingInt(n -> distance(n, wanted)));
        Set<String> pick = new HashSet<>(byDistance.subList(0, Math.min(6, byDistance.size())));
        List<String> shown = new ArrayList<>(pick);
        // graph order: a variable has fewer ancestors than any variable downstream of it
        Map<String, Integer> depth = new HashMap<>();
        for (String n : shown) {
            depth.put(n, SameDiffGraphs.ancestors(sd, n).size());
        }
        shown.sort(Comparator.<String>comparingInt(depth::get).thenComparing(n -> n));
        return shown.isEmpty() ? "(the graph has no named activations: name them, e.g. sd.math().add(\"block0_out\", a, b))"
                : quoted(shown) + (named.size() > shown.size() ? " (" + named.size() + " named activations in all)" : "");
    }

    private static String quoted(List<String> names) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            sb.append(sb.length() == 0 ? "" : ", ").append('"').append(n).append('"');
        }
        return sb.toString();
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
