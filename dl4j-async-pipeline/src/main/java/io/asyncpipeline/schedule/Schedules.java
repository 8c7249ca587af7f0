package io.asyncpipeline.schedule;

import java.util.ArrayList;
import java.util.List;

/**
 * Static generators of per-stage action lists for the supported pipeline schedules.
 *
 * <ul>
 *   <li>{@link #async1F1B(int, int)}: asynchronous PipeDream 1F1B, one update after every backward;</li>
 *   <li>{@link #gpipe(int, int, int)}: synchronous GPipe, all forwards then all backwards per mini-batch;</li>
 *   <li>{@link #oneFOneB(int, int, int)}: synchronous 1F1B (PipeDream-flush).</li>
 * </ul>
 * Backwards are always issued in increasing micro-batch order.
 */
public final class Schedules {

    private Schedules() {
    }

    /**
     * Weight-staleness delay of a stage in asynchronous 1F1B: {@code tau_k = P - 1 - k}.
     *
     * @param stage  stage index {@code k}
     * @param stages number of stages {@code P}
     * @return {@code stages - 1 - stage}
     */
    public static int delay(int stage, int stages) {
        requirePositive("stages", stages, "use at least one pipeline stage");
        if (stage < 0 || stage >= stages) {
            throw new IllegalArgumentException("stage must be in 0.." + (stages - 1) + " but was " + stage
                    + "; pass a stage index smaller than stages=" + stages);
        }
        return stages - 1 - stage;
    }

    /**
     * Asynchronous PipeDream 1F1B over {@code microBatches} micro-batches. Stage {@code k} performs
     * {@code tau_k} warm-up forwards, then for each {@code m}: {@code F(m+tau_k)} (if it exists),
     * {@code B(m)}, {@code U(m)}.
     *
     * @param stages       number of stages {@code P >= 1}
     * @param microBatches number of micro-batches {@code N >= 1}
     * @return the plan
     */
    public static StagePlan async1F1B(int stages, int microBatches) {
        requirePositive("stages", stages, "use at least one pipeline stage");
        requirePositive("microBatches", microBatches, "train on at least one micro-batch");
        List<List<Action>> plan = new ArrayList<>(stages);
        for (int k = 0; k < stages; k++) {
            int tau = delay(k, stages);
            List<Action> list = new ArrayList<>();
            for (int m = 0; m < Math.min(tau, microBatches); m++) {
                list.add(Action.forward(k, m));
            }
            for (int m = 0; m < microBatches; m++) {
                if (m + tau < microBatches) {
                    list.add(Action.forward(k, m + tau));
                }
                list.add(Action.backward(k, m));
                list.add(Action.update(k, m));
            }
            plan.add(list);
        }
        return StagePlan.of(plan);
    }

    /**
     * Synchronous GPipe: per mini-batch {@code j}, every stage runs the forwards of micro-batches
     * {@code j*M .. j*M+M-1}, then their backwards in increasing order, then {@code U(j)}.
     *
     * @param stages                   number of stages {@code P >= 1}
     * @param microBatchesPerMiniBatch {@code M >= 1}
     * @param miniBatches              {@code J >= 1}
     * @return the plan
     */
    public static StagePlan gpipe(int stages, int microBatchesPerMiniBatch, int miniBatches) {
        checkSync(stages, microBatchesPerMiniBatch, miniBatches);
        int m = microBatchesPerMiniBatch;
        List<List<Action>> plan = new ArrayList<>(stages);
        for (int k = 0; k < stages; k++) {
            List<Action> list = new ArrayList<>();
            for (int j = 0; j < miniBatches; j++) {
                for (int i = 0; i < m; i++) {
                    list.add(Action.forward(k, j * m + i));
                }
                for (int i = 0; i < m; i++) {
                    list.add(Action.backward(k, j * m + i));
                }
                list.add(Action.update(k, j));
            }
            plan.add(list);
        }
        return StagePlan.of(plan);
    }

    /**
     * Synchronous 1F1B (PipeDream-flush): per mini-batch {@code j}, stage {@code k} runs
     * {@code min(P-1-k, M)} warm-up forwards, then alternates one forward and one backward until the
     * forwards are exhausted, then the remaining backwards, then {@code U(j)}.
     *
     * @param stages                   number of stages {@code P >= 1}
     * @param microBatchesPerMiniBatch {@code M >= 1}
     * @param miniBatches              {@code J >= 1}
     * @return the plan
     */
    public static StagePlan oneFOneB(int stages, int microBatchesPerMiniBatch, int miniBatches) {
        checkSync(stages, microBatchesPerMiniBatch, miniBatches);
        List<List<Action>> plan = new ArrayList<>(stages);
        for (int k = 0; k < stages; k++) {
            List<Action> list = new ArrayList<>();
            for (int j = 0; j < miniBatches; j++) {
                appendOneFOneBMiniBatch(list, k, stages, microBatchesPerMiniBatch, j);
            }
            plan.add(list);
        }
        return StagePlan.of(plan);
    }

    private static void appendOneFOneBMiniBatch(List<Action> list, int k, int stages, int m, int j) {
        int base = j * m;
        int warmUp = Math.min(stages - 1 - k, m);
        int nextF = 0;
        int nextB = 0;
        while (nextF < warmUp) {
            list.add(Action.forward(k, base + nextF++));
        }
        while (nextF < m) {
            list.add(Action.forward(k, base + nextF++));
            list.add(Action.backward(k, base + nextB++));
        }
        while (nextB < m) {
            list.add(Action.backward(k, base + nextB++));
        }
        list.add(Action.update(k, j));
    }

    private static void checkSync(int stages, int perMiniBatch, int miniBatches) {
        requirePositive("stages", stages, "use at least one pipeline stage");
        requirePositive("microBatchesPerMiniBatch", perMiniBatch, "split each mini-batch into >= 1 micro-batch");
        requirePositive("miniBatches", miniBatches, "train on at least one mini-batch");
        if ((long) perMiniBatch * miniBatches > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("microBatchesPerMiniBatch*miniBatches = " + perMiniBatch + "*"
                    + miniBatches + " overflows int; use fewer micro-batches");
        }
    }

    static void requirePositive(String name, int value, String hint) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1 but was " + value + "; " + hint);
        }
    }
}
