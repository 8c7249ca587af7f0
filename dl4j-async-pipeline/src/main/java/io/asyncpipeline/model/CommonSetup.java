package io.asyncpipeline.model;

import io.asyncpipeline.runtime.RunSettings;
import io.asyncpipeline.schedule.PlanStats;
import io.asyncpipeline.schedule.PlanValidator;
import io.asyncpipeline.schedule.StagePlan;
import io.asyncpipeline.transport.DeviceCopy;
import io.asyncpipeline.updater.StageUpdaters;
import java.util.Arrays;
import org.nd4j.linalg.learning.config.IUpdater;

/** The option checks and per-stage settings every model type shares. */
public final class CommonSetup {

    private CommonSetup() {
    }

    /** Validates the run options for a model cut into the {@code layout}'s stages. */
    public static RunSettings runSettings(PipelineOptions o, long defaultSeed, StageLayout layout) {
        int p = layout.stages();
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
        return new RunSettings(o.schedule(), layout.channelCapacity(), devices, o.weightStashing(), seed, o.replay(),
                threads, Math.max(0, o.offHeapGcBudget()), o.timelineSpans(), o.compression());
    }

    /** The number of stages the options ask for: the partition's length, else stages(P), else {@code fallback}. */
    public static int requestedStages(PipelineOptions o, int fallback) {
        if (o.stages() != null && o.partition() != null && o.stages() != o.partition().length) {
            throw new IllegalArgumentException("stages(" + o.stages() + ") disagrees with partition "
                    + Arrays.toString(o.partition()) + " of " + o.partition().length + " stages: set only one of them");
        }
        return o.partition() != null ? o.partition().length : o.stages() != null ? o.stages() : fallback;
    }

    /**
     * What the stages need, read from the schedule's plan for {@code p} stages over enough micro-batches to reach
     * its steady state, after the {@link PlanValidator} has checked it (well formed, deadlock-free).
     */
    public static StageLayout layout(PipelineOptions o, int p) {
        if (p < 1) {
            throw new IllegalArgumentException("stages must be >= 1, got " + p);
        }
        StagePlan plan = o.schedule().analysisPlan(p);
        PlanValidator.validate(plan);
        int[] inFlight = new int[p];
        int[] delay = new int[p];
        for (int k = 0; k < p; k++) {
            inFlight[k] = PlanStats.inFlight(plan, k);
            delay[k] = PlanStats.maxDelay(plan, k);
        }
        return new StageLayout(inFlight, delay, o.recompute(), o.weightStashing());
    }

    /**
     * Per-stage sizes from the plan.
     *
     * @param inFlight most micro-batches each stage holds between a forward and its backward
     * @param maxDelay most updates each stage makes between a forward and its backward
     */
    public record StageLayout(int[] inFlight, int[] maxDelay, boolean recompute, boolean weightStashing) {

        public int stages() {
            return inFlight.length;
        }

        /** Activation slots per stage: 1 with recompute, else the most micro-batches in flight. */
        public int[] slots() {
            int[] slots = new int[inFlight.length];
            for (int k = 0; k < slots.length; k++) {
                slots[k] = recompute ? 1 : inFlight[k];
            }
            return slots;
        }

        /** Stages that keep one weight copy per slot: weight stashing, no recompute, and a delay. */
        public boolean[] privateWeights() {
            boolean[] own = new boolean[inFlight.length];
            for (int k = 0; k < own.length; k++) {
                own[k] = weightStashing && !recompute && maxDelay[k] > 0;
            }
            return own;
        }

        /** Messages one channel holds without blocking its sender: the plan's most in-flight micro-batches plus two. */
        public int channelCapacity() {
            int window = 0;
            for (int n : inFlight) {
                window = Math.max(window, n);
            }
            return window + 2;
        }
    }

    /** A batch of one feature and one label array (with their masks) as a DataSet. */
    public static org.nd4j.linalg.dataset.api.DataSet asDataSet(org.nd4j.linalg.dataset.api.MultiDataSet mds) {
        return new org.nd4j.linalg.dataset.DataSet(mds.getFeatures(0), mds.getLabels(0), mds.getFeaturesMaskArray(0),
                mds.getLabelsMaskArray(0));
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
        int tau = o.schedule().delay(k, p);
        IUpdater out = o.stageUpdaters().getOrDefault(k, u).clone();
        if (o.delayAwareMomentum() != null) {
            // §5 divides by P, the largest delay plus one; with extra micro-batches in flight the largest delay grows,
            // and dividing by it plus one keeps every γ_k below 0.99 (the same as P when there are none)
            int span = o.schedule().delay(0, p) + 1;
            out = StageUpdaters.withMomentum(out, StageUpdaters.delayAwareMomentum(o.delayAwareMomentum(), tau, span));
        }
        if (o.pipeMareIterations() != null) {
            out = StageUpdaters.withPipeMare(out, tau, o.pipeMareIterations());
        }
        return out;
    }
}
