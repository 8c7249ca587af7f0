package io.asyncpipeline.model.samediff;

import io.asyncpipeline.model.CommonSetup;
import io.asyncpipeline.runtime.PipelineModel;
import io.asyncpipeline.stage.StageComputation;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The model the runtime trains: a {@link SameDiff} graph cut after its cut variables into stage graphs
 * ({@link SameDiffSplitter}), each trained by a {@link SameDiffStage}. Parameters are the user's arrays;
 * the counters are the user's {@link TrainingConfig}'s.
 *
 * <p>Optimizer state is the user's SameDiff's: SameDiff keeps one {@link GradientUpdater} per trainable
 * variable in its updater map ({@link SameDiff#getUpdaterMap()}). {@link #pullOptimizerState()} makes
 * the stages use those very updater objects (when the graph has trained before, with {@code sd.fit} or a
 * pipeline, or was loaded with its updater state); {@link #pushOptimizerState()} puts the stages'
 * updaters into the graph's map. So {@code sd.fit}, {@code sd.save(file, true)} and a later pipeline
 * all continue from the state the stages built.
 *
 * <p>A stage whose updater config differs from the graph's updater's (stageUpdater, delay-aware momentum,
 * PipeMare) keeps its own {@link GradientUpdater} objects, so it never steps with the graph's config:
 * the state arrays are copied from the graph's updaters into the stage's when both are of the same class
 * with the same state keys and shapes (e.g. Adam with another β1), and back after the run into the
 * graph's own updaters, which keep the graph's config. Where the layout differs (another updater type)
 * the stage starts from fresh state and the graph's optimizer state is left unchanged, as for a
 * MultiLayerNetwork.
 */
public final class SameDiffPipelineModel implements PipelineModel {

    private final SameDiff sd;
    private final TrainingConfig config;
    private final SameDiffSplitter splitter;
    private final List<StageComputation> stages = new ArrayList<>();

    private SameDiffPipelineModel(SameDiff sd, IUpdater[] stageUpdaters, String[] cuts) {
        this.sd = sd;
        this.config = sd.getTrainingConfig();
        if (config == null) {
            throw new IllegalArgumentException("the SameDiff graph has no TrainingConfig: call sd.setTrainingConfig first");
        }
        this.splitter = SameDiffSplitter.split(sd, cuts);
        if (stageUpdaters != null && stageUpdaters.length != splitter.size()) {
            throw new IllegalArgumentException(stageUpdaters.length + " stage updaters for " + splitter.size() + " stages");
        }
        for (int i = 0; i < splitter.size(); i++) {
            stages.add(new SameDiffStage(splitter, i, config, stageUpdaters == null ? null : stageUpdaters[i]));
        }
        for (StageComputation c : stages) {
            c.leaveThread();        // sessions the checks at build time opened on this thread
        }
    }

    /**
     * Cuts {@code sd} (with its training config set) after the cut variables {@code cuts}, in graph order, with
     * one updater per stage ({@code null}, or a null entry: the training config's updater).
     */
    public static SameDiffPipelineModel split(SameDiff sd, IUpdater[] stageUpdaters, String... cuts) {
        return new SameDiffPipelineModel(sd, stageUpdaters, cuts);
    }

    /** Every stage clips its step's gradient to L2 norm {@code maxNorm} (see {@link SameDiffStage#clipGradientNorm}). */
    public void clipGradientNorm(double maxNorm) {
        for (StageComputation c : stages) {
            ((SameDiffStage) c).clipGradientNorm(maxNorm);
        }
    }

    /** The cut variables the graph is cut after, first to last (chosen by the balancer when not named). */
    public List<String> cuts() {
        List<String> c = new ArrayList<>();
        for (int i = 0; i + 1 < splitter.size(); i++) {
            c.add(splitter.stageGraph(i).outputCut());
        }
        return c;
    }

    /** The stage graphs the user's graph was cut into (each stage's {@link SameDiffStage} runs one). */
    public SameDiffSplitter splitter() {
        return splitter;
    }

    @Override
    public List<StageComputation> stages() {
        return Collections.unmodifiableList(stages);
    }

    /** Number of the user's graph's ops in each stage. */
    @Override
    public int[] partition() {
        int[] p = new int[splitter.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = splitter.stageGraph(i).opCount();
        }
        return p;
    }

    /**
     * The stages adopt the user's graph's updaters (state and all), when the graph has any; a stage with
     * another updater config takes a copy of the state instead when the layout matches, else starts fresh.
     */
    @Override
    public void pullOptimizerState() {
        Map<String, GradientUpdater> own = sd.isInitializedTraining() ? sd.getUpdaterMap() : null;
        if (own == null) {
            return;                                 // never trained: the stages' fresh state stands
        }
        for (StageComputation c : stages) {
            SameDiffStage stage = (SameDiffStage) c;
            for (Map.Entry<String, GradientUpdater> e : stage.updaters().entrySet()) {
                GradientUpdater u = own.get(e.getKey());
                if (u == null) {
                    continue;
                }
                if (stage.updaterConfig().equals(u.getConfig())) {
                    e.setValue(u);                  // same config: use the graph's updater itself
                } else {
                    copyState(u, e.getValue());     // own config: the graph's state if it fits, else fresh
                }
            }
        }
    }

    /**
     * Copies the state arrays of {@code from} into {@code to} when both are of the same class with the
     * same state keys and shapes; returns false (and copies nothing) otherwise.
     */
    static boolean copyState(GradientUpdater<?> from, GradientUpdater<?> to) {
        if (from == to) {
            return true;
        }
        if (from.getClass() != to.getClass()) {
            return false;
        }
        Map<String, INDArray> a = from.getState();
        Map<String, INDArray> b = to.getState();
        if (a == null || b == null || !a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<String, INDArray> e : a.entrySet()) {
            INDArray target = b.get(e.getKey());
            if ((e.getValue() == null) != (target == null)
                    || e.getValue() != null && !Arrays.equals(e.getValue().shape(), target.shape())) {
                return false;
            }
        }
        for (Map.Entry<String, INDArray> e : a.entrySet()) {
            if (e.getValue() != null) {
                b.get(e.getKey()).assign(e.getValue());
            }
        }
        return true;
    }

    /**
     * Puts the stages' updaters into the user's graph's updater map (creating the map if need be); for a
     * stage with another updater config, copies its state into the graph's own updaters where the layout
     * matches and leaves the others unchanged.
     */
    @Override
    public void pushOptimizerState() {
        if (!sd.isInitializedTraining() || sd.getUpdaterMap() == null) {
            initializeTraining(sd);
        }
        Map<String, GradientUpdater> own = sd.getUpdaterMap();
        for (StageComputation c : stages) {
            SameDiffStage stage = (SameDiffStage) c;
            for (Map.Entry<String, GradientUpdater> e : stage.updaters().entrySet()) {
                GradientUpdater u = own.get(e.getKey());
                if (u == null || config.getUpdater().equals(stage.updaterConfig())) {
                    own.put(e.getKey(), e.getValue());
                } else {
                    copyState(e.getValue(), u);     // the graph's updater keeps its config; other layouts: unchanged
                }
            }
        }
    }

    /**
     * SameDiff 1.0.0-M2.1 has a public getter for its updater map but no setter, and builds the map only
     * in the protected {@code initializeTraining()} (called by {@code fit}). No public API creates it
     * without training a step, so this calls that method by reflection; its entries (freshly initialised
     * state) are then replaced by the stages' updaters.
     */
    private static void initializeTraining(SameDiff sd) {
        try {
            Method m = SameDiff.class.getDeclaredMethod("initializeTraining");
            m.setAccessible(true);
            m.invoke(sd);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot create the SameDiff updater map (SameDiff.initializeTraining()"
                    + " is not accessible in this ND4J version); the optimizer state was not written back", e);
        }
        if (sd.getUpdaterMap() == null) {
            throw new IllegalStateException("SameDiff.initializeTraining() created no updater map");
        }
    }

    @Override
    public String unit() {
        return "ops";
    }

    @Override
    public List<String> cutAfter() {
        return cuts();
    }

    /** The cut variable of each cut: the one tensor that crosses it. */
    @Override
    public List<List<String>> crossing() {
        List<List<String>> out = new ArrayList<>();
        for (String c : cuts()) {
            out.add(List.of(c));
        }
        return out;
    }

    @Override
    public boolean takesMultiDataSets() {
        return false;
    }

    @Override
    public void checkBatch(org.nd4j.linalg.dataset.api.MultiDataSet mds) {
        SameDiffSetup.checkBatch(sd, CommonSetup.asDataSet(mds));
    }

    @Override
    public int iterationCount() {
        return config.getIterationCount();
    }

    @Override
    public int epochCount() {
        return config.getEpochCount();
    }

    @Override
    public void setCounters(int iteration, int epoch) {
        config.setIterationCount(iteration);
        config.setEpochCount(epoch);
    }

    @Override
    public void reportIteration(int iteration, int epoch, double score) {
        config.setIterationCount(iteration + 1);
    }


    @Override
    public void epochEvent(boolean start) {
    }

    /** The user's graph. */
    public SameDiff graph() {
        return sd;
    }

    /**
     * {@code sd.save(file, true)}: variables, updater state (written back after each fit) and the training
     * config with its counters. Continue with {@code SameDiff.load(file, true)} and a new wrapper.
     */
    @Override
    public void saveCheckpoint(java.io.File file) throws java.io.IOException {
        io.asyncpipeline.model.AtomicFile.write(file, f -> sd.save(f, true));
    }
}
