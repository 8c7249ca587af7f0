package io.asyncpipeline.model;

import io.asyncpipeline.runtime.RunSettings;
import io.asyncpipeline.schedule.PlanStats;
import io.asyncpipeline.schedule.PlanValidator;
import io.asyncpipeline.schedule.Schedules;
import io.asyncpipeline.schedule.StagePlan;
import io.asyncpipeline.transport.DeviceCopy;
import io.asyncpipeline.updater.StageUpdaters;
import java.util.Arrays;
import org.nd4j.linalg.learning.config.IUpdater;

/** The option checks and per-stage settings every model type shares. */
public final class CommonSetup {

    private CommonSetup() {
    }

    /** Validates the run options for a model cut into {@code p} stages. */
    public static RunSettings runSettings(PipelineOptions o, long defaultSeed, int p) {
        if (p < 1) {
            throw new IllegalArgumentException("stages must be >= 1, got " + p);
        }
        int[] devices = o.devices() != null ? o.devices() : defaultDevices(p);
        if (devices.length != p) {
            throw new IllegalArgumentException("devices(...) names " + devices.length + " devices for " + p
                    + " stages: give one device per stage");
        }
        for (int d : devices) {
            if (d < 0 || d >= DeviceCopy.deviceCount()) {
                throw new IllegalArgumentException("device " + d + " does not exist: ND4J sees " + DeviceCopy.deviceCount()
                        + " device(s), numbered from 0");
            }
        }
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = o.ndThreadsPerStage() != null ? o.ndThreadsPerStage() : p > 1 ? Math.max(1, cores / p) : 0;
        if (threads < 0) {
            throw new IllegalArgumentException("ndThreadsPerStage must be >= 0, got " + threads);
        }
        long seed = o.seed() != null ? o.seed() : defaultSeed;
        StagePlan plan = plan(o, p);
        int window = 0;
        for (int k = 0; k < p; k++) {
            window = Math.max(window, PlanStats.inFlight(plan, k));
        }
        return new RunSettings(o.schedule(), window + 2, devices, o.weightStashing(), seed, o.replay(), threads,
                Math.max(0, o.offHeapGcBudget()));
    }

    /**
     * The schedule's plan for {@code p} stages over enough micro-batches to reach its steady state, checked by
     * the {@link PlanValidator} (well formed, deadlock-free). The stages' slots, stash copies and the channels'
     * capacity are read from it.
     */
    public static StagePlan plan(PipelineOptions o, int p) {
        StagePlan plan = o.schedule().analysisPlan(p);
        PlanValidator.validate(plan);
        return plan;
    }

    /** The number of stages the options ask for: the partition's length, else stages(P), else {@code fallback}. */
    public static int requestedStages(PipelineOptions o, int fallback) {
        if (o.stages() != null && o.partition() != null && o.stages() != o.partition().length) {
            throw new IllegalArgumentException("stages(" + o.stages() + ") disagrees with partition "
                    + Arrays.toString(o.partition()) + " of " + o.partition().length + " stages: set only one of them");
        }
        return o.partition() != null ? o.partition().length : o.stages() != null ? o.stages() : fallback;
    }

    /** Activation slots per stage: 1 with recompute, else the most micro-batches the schedule keeps in flight. */
    public static int[] slots(PipelineOptions o, int p) {
        StagePlan plan = plan(o, p);
        int[] slots = new int[p];
        for (int k = 0; k < p; k++) {
            slots[k] = o.recompute() ? 1 : PlanStats.inFlight(plan, k);
        }
        return slots;
    }

    /**
     * Stages that keep one weight copy per slot: weight stashing, no recompute, and a delay (an update between
     * a micro-batch's forward and its backward).
     */
    public static boolean[] privateWeights(PipelineOptions o, int p) {
        StagePlan plan = plan(o, p);
        boolean[] own = new boolean[p];
        for (int k = 0; k < p; k++) {
            own[k] = o.weightStashing() && !o.recompute() && PlanStats.maxDelay(plan, k) > 0;
        }
        return own;
    }

    private static int[] defaultDevices(int p) {
        int[] d = new int[p];
        for (int k = 0; k < p; k++) {
            d[k] = k % DeviceCopy.deviceCount();
        }
        return d;
    }

    /** True when stageUpdater, delayAwareMomentum or pipeMareLearningRate is set. */
    public static boolean hasStageOptions(PipelineOptions o) {
        return !o.stageUpdaters().isEmpty() || o.delayAwareMomentum() != null || o.pipeMareIterations() != null;
    }

    /** Validates stageUpdater stage numbers, γ_0 and T_c for a model of {@code p} stages. */
    public static void checkStageOptions(PipelineOptions o, int p) {
        for (Integer k : o.stageUpdaters().keySet()) {
            if (k < 0 || k >= p) {
                throw new IllegalArgumentException("stageUpdater(" + k + ", ...) names a stage that does not exist: stages are 0.."
                        + (p - 1));
            }
        }
        if (o.delayAwareMomentum() != null) {
            double g0 = o.delayAwareMomentum();
            if (!(g0 >= 0 && g0 < 0.99)) {
                throw new IllegalArgumentException("delayAwareMomentum(γ_0) needs 0 <= γ_0 < 0.99, got " + g0);
            }
        }
        if (o.pipeMareIterations() != null && o.pipeMareIterations() < 1) {
            throw new IllegalArgumentException("pipeMareLearningRate(T_c) needs T_c >= 1, got " + o.pipeMareIterations());
        }
    }

    /**
     * The updater of stage {@code k} of {@code p}: stageUpdater(k) if set, else {@code u}; then delay-aware
     * momentum and PipeMare as set (method.md §5). Always a copy.
     */
    public static IUpdater stageUpdater(IUpdater u, PipelineOptions o, int k, int p) {
        int tau = Schedules.delay(k, p);
        IUpdater out = o.stageUpdaters().getOrDefault(k, u).clone();
        if (o.delayAwareMomentum() != null) {
            out = StageUpdaters.withMomentum(out, StageUpdaters.delayAwareMomentum(o.delayAwareMomentum(), tau, p));
        }
        if (o.pipeMareIterations() != null) {
            out = StageUpdaters.withPipeMare(out, tau, o.pipeMareIterations());
        }
        return out;
    }
}
