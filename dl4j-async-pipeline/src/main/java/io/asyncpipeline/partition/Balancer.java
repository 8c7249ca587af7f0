package io.asyncpipeline.partition;

import java.util.Arrays;

/**
 * Pure solver: cuts a sequence of per-unit costs into {@code P} contiguous, non-empty groups so that
 * the most expensive group is as cheap as possible (the pipeline runs at the pace of its slowest stage).
 */
public final class Balancer {

    private Balancer() {
    }

    /**
     * @param costs  cost of each unit (layer), all ≥ 0
     * @param stages number of groups P, 1 ≤ P ≤ costs.length
     * @return units per group, summing to {@code costs.length}
     */
    public static int[] balance(double[] costs, int stages) {
        int n = costs.length;
        if (stages < 1 || stages > n) {
            throw new IllegalArgumentException("cannot cut " + n + " layers into " + stages + " stages: use 1.." + n
                    + " stages");
        }
        for (double c : costs) {
            if (!(c >= 0) || Double.isInfinite(c)) {
                throw new IllegalArgumentException("layer costs must be finite and >= 0, got " + Arrays.toString(costs));
            }
        }
        double[] prefix = new double[n + 1];
        for (int i = 0; i < n; i++) {
            prefix[i + 1] = prefix[i] + costs[i];
        }
        // best[p][i]: minimal max-group cost for the first i units in p groups; cut[p][i]: start of the last group
        double[][] best = new double[stages + 1][n + 1];
        int[][] cut = new int[stages + 1][n + 1];
        for (double[] row : best) {
            Arrays.fill(row, Double.POSITIVE_INFINITY);
        }
        best[0][0] = 0;
        for (int p = 1; p <= stages; p++) {
            for (int i = p; i <= n - (stages - p); i++) {
                for (int j = p - 1; j < i; j++) {
                    double v = Math.max(best[p - 1][j], prefix[i] - prefix[j]);
                    if (v < best[p][i]) {
                        best[p][i] = v;
                        cut[p][i] = j;
                    }
                }
            }
        }
        int[] sizes = new int[stages];
        int i = n;
        for (int p = stages; p >= 1; p--) {
            int j = cut[p][i];
            sizes[p - 1] = i - j;
            i = j;
        }
        return sizes;
    }

    /** The cost of the most expensive group of a partition. */
    public static double bottleneck(double[] costs, int[] sizes) {
        double worst = 0;
        int i = 0;
        for (int s : sizes) {
            double c = 0;
            for (int j = 0; j < s; j++) {
                c += costs[i++];
            }
            worst = Math.max(worst, c);
        }
        return worst;
    }
}
