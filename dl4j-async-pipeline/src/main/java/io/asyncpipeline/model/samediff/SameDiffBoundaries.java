package io.asyncpipeline.model.samediff;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.Variable;

/**
 * Checks of the boundary variables a SameDiff graph is cut at, before any stage is built, and the
 * suggestions (valid names close to a wrong one) that the error messages carry.
 */
final class SameDiffBoundaries {

    private SameDiffBoundaries() {
    }

    /**
     * Checks the boundary names before any stage is built, with messages that say what to change: each
     * name must exist, be a floating point op output the loss depends on, appear once, and the names must
     * be in graph order (each boundary upstream of the next).
     */
    static void validate(SameDiff sd, String[] boundaries, List<String> losses) {
        if (boundaries == null || boundaries.length == 0) {
            throw new IllegalArgumentException("no boundary variables: name at least one with cutAfter(...), e.g. cutAfter("
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
        for (int i = 0; i < boundaries.length; i++) {
            String b = boundaries[i];
            if (b == null) {
                throw new IllegalArgumentException("boundary " + i + " is null: name a variable, e.g. one of "
                        + suggestions(sd, "", losses));
            }
            SDVariable v = sd.getVariable(b);
            if (v == null) {
                throw new IllegalArgumentException("No variable named \"" + b + "\" to cut at; boundaries are op outputs"
                        + " the loss depends on, e.g. " + suggestions(sd, b, losses));
            }
            if (v.getVariableType() != VariableType.ARRAY || !v.dataType().isFPType()) {
                throw new IllegalArgumentException("Boundary \"" + b + "\" must be a floating point op output (ARRAY), is "
                        + v.getVariableType() + " " + v.dataType() + "; cut at an activation instead, e.g. "
                        + suggestions(sd, b, losses));
            }
            if (!seen.add(b)) {
                throw new IllegalArgumentException("Boundary \"" + b + "\" given twice in " + java.util.Arrays.toString(boundaries)
                        + ": the stage between the two would be empty; remove the repeated name");
            }
            if (losses.contains(b) || !lossAncestors.contains(b)) {
                throw new IllegalArgumentException("Boundary \"" + b + "\" " + (losses.contains(b) ? "is the loss" : "is not"
                        + " used to compute the loss " + losses) + ", so the stage after it would be empty or cut off;"
                        + " cut at an activation upstream of the loss, e.g. " + suggestions(sd, b, losses));
            }
            String crossing = SameDiffCuts.crossing(sd, b, losses, feature, label, false);
            if (crossing != null) {
                throw new IllegalArgumentException("Boundary \"" + b + "\" does not separate the graph: " + crossing
                        + ", so a stage would need an activation the cut does not carry; cut at a single tensor every"
                        + " path to the loss crosses, e.g. " + suggestions(sd, b, losses,
                        new HashSet<>(SameDiffCuts.candidates(sd, losses, feature, label))));
            }
        }
        for (int i = 0; i + 1 < boundaries.length; i++) {
            Set<String> upstreamOfNext = SameDiffGraphs.ancestors(sd, boundaries[i + 1]);
            if (!upstreamOfNext.contains(boundaries[i])) {
                List<String> sorted = new ArrayList<>(List.of(boundaries));
                sorted.sort((a, c) -> SameDiffGraphs.ancestors(sd, c).contains(a) ? -1 : SameDiffGraphs.ancestors(sd, a).contains(c) ? 1 : 0);
                boolean reversed = SameDiffGraphs.ancestors(sd, boundaries[i]).contains(boundaries[i + 1]);
                throw new IllegalArgumentException("Boundaries out of graph order: \"" + boundaries[i + 1] + "\" "
                        + (reversed ? "comes before \"" + boundaries[i] + "\" in the graph" : "does not depend on \""
                        + boundaries[i] + "\" (they are on parallel paths, so neither separates the graph at the other)")
                        + "; list the boundaries first to last" + (reversed ? ", e.g. cutAfter(" + quoted(sorted) + ")" : ""));
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
        byDistance.sort(java.util.Comparator.comparingInt(n -> distance(n, wanted)));
        Set<String> pick = new HashSet<>(byDistance.subList(0, Math.min(6, byDistance.size())));
        List<String> shown = new ArrayList<>(pick);
        // graph order: a variable has fewer ancestors than any variable downstream of it
        Map<String, Integer> depth = new HashMap<>();
        for (String n : shown) {
            depth.put(n, SameDiffGraphs.ancestors(sd, n).size());
        }
        shown.sort(java.util.Comparator.<String>comparingInt(depth::get).thenComparing(n -> n));
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
