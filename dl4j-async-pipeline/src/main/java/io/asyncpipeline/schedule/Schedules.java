package io.asyncpipeline.schedule;

import java.util.Iterator;

/**
 * The supported pipeline schedules, each written once as a {@link PipelineSchedule} generator:
 *
 * <ul>
 *   <li>{@link #async1F1B()}: asynchronous PipeDream 1F1B, one update after every backward;</li>
 *   <li>{@link #gpipe(int)}: synchronous GPipe, all forwards then all backwards per mini-batch;</li>
 *   <li>{@link #oneFOneB(int)}: synchronous 1F1B (PipeDream-flush).</li>
 * </ul>
 * The finite plans {@link #async1F1B(int, int)}, {@link #gpipe(int, int, int)} and
 * {@link #oneFOneB(int, int, int)} are these streams truncated by {@link StagePlan#truncate}.
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
     * Asynchronous PipeDream 1F1B. Stage {@code k} runs {@code tau_k} warm-up forwards
     * {@code F(0..tau_k-1)}, then for every step {@code m}: {@code F(m+tau_k) B(m) U(m)}.
     *
     * @return the generator (one update per micro-batch)
     */
    public static PipelineSchedule async1F1B() {
        return new Async1F1B(0);
    }

    /**
     * Asynchronous 1F1B with {@code e} extra micro-batches in flight per cut, to keep a slow link busy while the
     * stages compute: stage k runs {@code τ_k = (1 + e)(P - 1 - k)} warm-up forwards, then {@code F(m+τ_k) B(m) U(m)}
     * for every step {@code m}, so its weights are {@code τ_k} updates stale. {@code e = 0} is {@link #async1F1B()}.
     *
     * @param extraInFlightPerCut {@code e}, 0 to {@link #MAX_EXTRA_IN_FLIGHT}
     * @return the generator (one update per micro-batch)
     * @throws IllegalArgumentException for {@code e} out of range
     */
    public static PipelineSchedule async1F1B(int extraInFlightPerCut) {
        if (extraInFlightPerCut < 0 || extraInFlightPerCut > MAX_EXTRA_IN_FLIGHT) {
            throw new IllegalArgumentException("extraInFlight must be 0.." + MAX_EXTRA_IN_FLIGHT + " micro-batches per"
                    + " cut, got " + extraInFlightPerCut);
        }
        return new Async1F1B(extraInFlightPerCut);
    }

    /** The most extra micro-batches in flight per cut {@link #async1F1B(int)} takes. */
    public static final int MAX_EXTRA_IN_FLIGHT = 64;

    /**
     * Synchronous GPipe. Round {@code j} of every stage: {@code F(jM .. jM+M-1)}, then
     * {@code B(jM .. jM+M-1)} in increasing order, then {@code U(j)}.
     *
     * @param microBatchesPerMiniBatch {@code M >= 1}
     * @return the generator
     */
    public static PipelineSchedule gpipe(int microBatchesPerMiniBatch) {
        requirePositive("microBatchesPerMiniBatch", microBatchesPerMiniBatch,
                "split each mini-batch into >= 1 micro-batch");
        return new GPipe(microBatchesPerMiniBatch);
    }

    /**
     * Synchronous 1F1B (PipeDream-flush). Round {@code j} of stage {@code k}: {@code min(P-1-k, M)}
     * warm-up forwards, then one forward and one backward alternately until the round's forwards are
     * exhausted, then the remaining backwards, then {@code U(j)}.
     *
     * @param microBatchesPerMiniBatch {@code M >= 1}
     * @return the generator
     */
    public static PipelineSchedule oneFOneB(int microBatchesPerMiniBatch) {
        requirePositive("microBatchesPerMiniBatch", microBatchesPerMiniBatch,
                "split each mini-batch into >= 1 micro-batch");
        return new OneFOneB(microBatchesPerMiniBatch);
    }

    /**
     * The generator of the schedule named as {@code io.asyncpipeline.Schedule} names it ({@code ASYNC_1F1B}, {@code GPIPE},
     * {@code ONE_F_ONE_B}), with {@code M} micro-batches per mini-batch for the synchronous ones: the one mapping from a
     * name to a generator, for the facade and for a stage process that receives the name.
     *
     * @throws IllegalArgumentException for another name, or a synchronous schedule with {@code M < 1}
     */
    public static PipelineSchedule named(String name, int microBatchesPerMiniBatch) {
        return named(name, microBatchesPerMiniBatch, 0);
    }

    /**
     * As {@link #named(String, int)}, with {@code e} extra micro-batches in flight per cut for ASYNC_1F1B.
     *
     * @throws IllegalArgumentException also for {@code e != 0} with a synchronous schedule, or {@code e} out of range
     */
    public static PipelineSchedule named(String name, int microBatchesPerMiniBatch, int extraInFlightPerCut) {
        if (extraInFlightPerCut != 0 && !"ASYNC_1F1B".equals(name)) {
            throw new IllegalArgumentException("extraInFlight(" + extraInFlightPerCut + ") needs the ASYNC_1F1B schedule,"
                    + " not " + name + ": the synchronous schedules keep M micro-batches in flight already");
        }
        return switch (name) {
            case "ASYNC_1F1B" -> async1F1B(extraInFlightPerCut);
            case "GPIPE" -> gpipe(microBatchesPerMiniBatch);
            case "ONE_F_ONE_B" -> oneFOneB(microBatchesPerMiniBatch);
            default -> throw new IllegalArgumentException("unknown schedule " + name
                    + ": use ASYNC_1F1B, GPIPE or ONE_F_ONE_B");
        };
    }

    /**
     * Asynchronous PipeDream 1F1B over {@code microBatches} micro-batches: {@link #async1F1B()}
     * truncated to {@code N} micro-batches. Stage {@code k} performs {@code min(tau_k, N)} warm-up
     * forwards, then for each {@code m}: {@code F(m+tau_k)} (if it exists), {@code B(m)}, {@code U(m)}.
     *
     * @param stages       number of stages {@code P >= 1}
     * @param microBatches number of micro-batches {@code N >= 1}
     * @return the plan
     */
    public static StagePlan async1F1B(int stages, int microBatches) {
        requirePositive("stages", stages, "use at least one pipeline stage");
        requirePositive("microBatches", microBatches, "train on at least one micro-batch");
        return async1F1B().plan(stages, microBatches);
    }

    /**
     * Synchronous GPipe over {@code J} mini-batches: {@link #gpipe(int)} truncated to {@code J*M}
     * micro-batches.
     *
     * @param stages                   number of stages {@code P >= 1}
     * @param microBatchesPerMiniBatch {@code M >= 1}
     * @param miniBatches              {@code J >= 1}
     * @return the plan
     */
    public static StagePlan gpipe(int stages, int microBatchesPerMiniBatch, int miniBatches) {
        checkSync(stages, microBatchesPerMiniBatch, miniBatches);
        return gpipe(microBatchesPerMiniBatch).plan(stages, microBatchesPerMiniBatch * miniBatches);
    }

    /**
     * Synchronous 1F1B (PipeDream-flush) over {@code J} mini-batches: {@link #oneFOneB(int)}
     * truncated to {@code J*M} micro-batches.
     *
     * @param stages                   number of stages {@code P >= 1}
     * @param microBatchesPerMiniBatch {@code M >= 1}
     * @param miniBatches              {@code J >= 1}
     * @return the plan
     */
    public static StagePlan oneFOneB(int stages, int microBatchesPerMiniBatch, int miniBatches) {
        checkSync(stages, microBatchesPerMiniBatch, miniBatches);
        return oneFOneB(microBatchesPerMiniBatch).plan(stages, microBatchesPerMiniBatch * miniBatches);
    }

    /*
     * The generators. Each writes one round (one update's worth) of one stage from formulas;
     * RoundStream concatenates the rounds lazily.
     */

    private record Async1F1B(int extra) implements PipelineSchedule {
        @Override
        public String name() {
            return extra == 0 ? "async 1F1B" : "async 1F1B (+" + extra + " in flight per cut)";
        }

        @Override
        public int microBatchesPerUpdate() {
            return 1;
        }

        @Override
        public int delay(int stage, int stages) {
            return Math.multiplyExact(1 + extra, Schedules.delay(stage, stages));
        }

        @Override
        public int extraInFlightPerCut() {
            return extra;
        }

        @Override
        public Iterator<Action> stream(int stage, int stages) {
            int tau = delay(stage, stages);
            return new RoundStream(stage, (m, out) -> {
                if (m == 0) {
                    for (int i = 0; i < tau; i++) {
                        out.forward(i);
                    }
                }
                out.forward((long) m + tau);
                out.backward(m);
                out.update(m);
            });
        }

        @Override
        public String toString() {
            return name();
        }
    }

    private record GPipe(int microBatchesPerUpdate) implements PipelineSchedule {
        @Override
        public String name() {
            return "GPipe (M=" + microBatchesPerUpdate + ")";
        }

        @Override
        public Iterator<Action> stream(int stage, int stages) {
            delay(stage, stages);
            int m = microBatchesPerUpdate;
            return new RoundStream(stage, (j, out) -> {
                long base = (long) j * m;
                for (int i = 0; i < m; i++) {
                    out.forward(base + i);
                }
                for (int i = 0; i < m; i++) {
                    out.backward(base + i);
                }
                out.update(j);
            });
        }

        @Override
        public String toString() {
            return name();
        }
    }

    private record OneFOneB(int microBatchesPerUpdate) implements PipelineSchedule {
        @Override
        public String name() {
            return "sync 1F1B (M=" + microBatchesPerUpdate + ")";
        }

        @Override
        public Iterator<Action> stream(int stage, int stages) {
            int m = microBatchesPerUpdate;
            int warmUp = Math.min(delay(stage, stages), m);
            return new RoundStream(stage, (j, out) -> {
                long base = (long) j * m;
                int nextF = 0;
                int nextB = 0;
                while (nextF < warmUp) {
                    out.forward(base + nextF++);
                }
                while (nextF < m) {
                    out.forward(base + nextF++);
                    out.backward(base + nextB++);
                }
                while (nextB < m) {
                    out.backward(base + nextB++);
                }
                out.update(j);
            });
        }

        @Override
        public String toString() {
            return name();
        }
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
