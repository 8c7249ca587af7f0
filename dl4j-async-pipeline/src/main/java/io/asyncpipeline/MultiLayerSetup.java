package io.asyncpipeline;

import io.asyncpipeline.model.MultiLayerPipelineModel;
import io.asyncpipeline.model.Partitions;
import io.asyncpipeline.partition.Balancer;
import io.asyncpipeline.partition.LayerProfiler;
import io.asyncpipeline.schedule.Schedules;
import io.asyncpipeline.transport.DeviceCopy;
import io.asyncpipeline.updater.StageUpdaters;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.learning.config.IUpdater;

/** Validates builder options against a {@link MultiLayerNetwork} and assembles the wrapper. */
final class MultiLayerSetup {

    private static final int DEFAULT_STAGES = 2;

    private MultiLayerSetup() {
    }

    static AsyncPipelineWrapper build(MultiLayerNetwork net, PipelineBuilder<?> b) {
        if (net.getLayers() == null || net.params() == null) { // params() is an empty array, not null, before init()
            throw new IllegalArgumentException("the network is not initialised: call net.init() before wrapping it");
        }
        PipelineSettings settings = settings(b, net);
        int[] partition = partition(net, b);
        checkLayers(net, b);
        MultiLayerPipelineModel model = MultiLayerPipelineModel.split(net, partition, slots(b, partition.length),
                privateWeights(b, partition.length));
        applyStageUpdaters(model, b);
        return new AsyncPipelineWrapper(model, settings, ds -> checkBatch(net, ds));
    }

    private static PipelineSettings settings(PipelineBuilder<?> b, MultiLayerNetwork net) {
        if (b.profileMultiSample != null) {
            throw new IllegalArgumentException("profileWith(MultiDataSet) is for a ComputationGraph; profile a"
                    + " MultiLayerNetwork with profileWith(DataSet)");
        }
        if (b.cutAfter != null) {
            throw new IllegalArgumentException("cutAfter(...) names vertices of a ComputationGraph; for a MultiLayerNetwork"
                    + " use partition(...) (layers per stage) or stages(P)");
        }
        int p = b.partition != null ? b.partition.length : b.stages != null ? b.stages : DEFAULT_STAGES;
        if (b.stages != null && b.partition != null && b.stages != b.partition.length) {
            throw new IllegalArgumentException("stages(" + b.stages + ") disagrees with partition "
                    + Arrays.toString(b.partition) + " of " + b.partition.length + " stages: set only one of them");
        }
        return settings(b, net.getLayerWiseConfigurations().getConf(0).getSeed(), p);
    }

    /** Validates the options shared by every model type, for a model cut into {@code p} stages. */
    static PipelineSettings settings(PipelineBuilder<?> b, long defaultSeed, int p) {
        if (b.schedule == null) {
            throw new IllegalArgumentException("schedule is null: use Schedule.ASYNC_1F1B, GPIPE or ONE_F_ONE_B");
        }
        if (b.microBatches < 1) {
            throw new IllegalArgumentException("microBatches must be >= 1, got " + b.microBatches);
        }
        if (p < 1) {
            throw new IllegalArgumentException("stages must be >= 1, got " + p);
        }
        int[] devices = b.devices != null ? b.devices.clone() : defaultDevices(p);
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
        int threads = b.ndThreadsPerStage != null ? b.ndThreadsPerStage : p > 1 ? Math.max(1, cores / p) : 0;
        if (threads < 0) {
            throw new IllegalArgumentException("ndThreadsPerStage must be >= 0, got " + threads);
        }
        long seed = b.seed != null ? b.seed : defaultSeed;
        return new PipelineSettings(b.schedule, b.microBatches, devices, b.weightStashing, seed, b.replay,
                b.failOnNonFiniteScore, threads, Math.max(0, b.offHeapGcBudget));
    }

    /** Activation slots per stage: 1 with recompute, else the most micro-batches the schedule keeps in flight. */
    static int[] slots(PipelineBuilder<?> b, int p) {
        int[] slots = new int[p];
        for (int k = 0; k < p; k++) {
            int inFlight = switch (b.schedule) {
                case ASYNC_1F1B -> p - k;
                case GPIPE -> b.microBatches;
                case ONE_F_ONE_B -> Math.min(p - k, b.microBatches);
            };
            slots[k] = b.recompute ? 1 : inFlight;
        }
        return slots;
    }

    /** Stashing stages with a delay keep one weight copy per slot (async, stashing, no recompute, τ_k > 0). */
    static boolean[] privateWeights(PipelineBuilder<?> b, int p) {
        boolean[] own = new boolean[p];
        for (int k = 0; k < p; k++) {
            own[k] = b.schedule == Schedule.ASYNC_1F1B && b.weightStashing && !b.recompute && k < p - 1;
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

    private static int[] partition(MultiLayerNetwork net, PipelineBuilder<?> b) {
        int layers = net.getnLayers();
        if (b.partition != null) {
            Partitions.validate(b.partition, layers, "layers");
            return b.partition.clone();
        }
        int p = b.stages != null ? b.stages : Math.min(DEFAULT_STAGES, layers);
        if (p > layers) {
            throw new IllegalArgumentException("cannot make " + p + " stages from a network of " + layers
                    + " layers: use at most " + layers + " stages");
        }
        if (p < 1) {
            throw new IllegalArgumentException("stages must be >= 1, got " + p);
        }
        double[] costs = b.profileSample != null ? LayerProfiler.byTime(net, b.profileSample, 5)
                : LayerProfiler.byParameters(net);
        return Balancer.balance(costs, p);
    }

    private static void checkLayers(MultiLayerNetwork net, PipelineBuilder<?> b) {
        checkBatchNorm(java.util.Arrays.asList(net.getLayers()), b);
        if (!(net.getOutputLayer() instanceof IOutputLayer)) {
            throw new IllegalArgumentException("the last layer must be an output or loss layer (IOutputLayer), got "
                    + net.getOutputLayer().getClass().getSimpleName());
        }
        if (net.getLayerWiseConfigurations().getBackpropType() == BackpropType.TruncatedBPTT) {
            throw new IllegalArgumentException("truncated BPTT is not supported by the pipeline: use BackpropType.Standard");
        }
    }

    static void checkBatchNorm(List<Layer> layers, PipelineBuilder<?> b) {
        for (Layer l : layers) {
            if (l.conf().getLayer() instanceof BatchNormalization && b.schedule.isSynchronous() && b.microBatches > 1) {
                throw new IllegalArgumentException("layer " + l.conf().getLayer().getLayerName() + " is BatchNormalization:"
                        + " its statistics are per micro-batch, so " + b.schedule + " with microBatches(" + b.microBatches
                        + ") cannot equal plain fit. Use microBatches(1), ASYNC_1F1B, or remove BatchNormalization");
            }
        }
    }

    private static void applyStageUpdaters(MultiLayerPipelineModel model, PipelineBuilder<?> b) {
        List<Layer[]> layers = new java.util.ArrayList<>();
        for (MultiLayerNetwork sub : model.stageNetworks()) {
            layers.add(sub.getLayers());
        }
        applyStageUpdaters(layers, b);
    }

    /** Applies stageUpdater / delay-aware momentum / PipeMare to the layers of each stage (before their updaters exist). */
    static void applyStageUpdaters(List<Layer[]> stageLayers, PipelineBuilder<?> b) {
        int p = stageLayers.size();
        checkStageOptions(b, p);
        for (int k = 0; k < p; k++) {
            int tau = Schedules.delay(k, p);
            for (Layer l : stageLayers.get(k)) {
                if (l.conf().getLayer() instanceof BaseLayer bl) {
                    bl.setIUpdater(adjust(b.stageUpdaters.getOrDefault(k, bl.getIUpdater()), b, tau, p));
                    if (bl.getBiasUpdater() != null) {
                        bl.setBiasUpdater(adjust(b.stageUpdaters.getOrDefault(k, bl.getBiasUpdater()), b, tau, p));
                    }
                }
            }
        }
    }

    /** True when stageUpdater, delayAwareMomentum or pipeMareLearningRate is set. */
    static boolean hasStageOptions(PipelineBuilder<?> b) {
        return !b.stageUpdaters.isEmpty() || b.delayAwareMomentum != null || b.pipeMareIterations != null;
    }

    /** Validates stageUpdater stage numbers, γ_0 and T_c for a model of {@code p} stages (shared by every model type). */
    static void checkStageOptions(PipelineBuilder<?> b, int p) {
        for (Integer k : b.stageUpdaters.keySet()) {
            if (k < 0 || k >= p) {
                throw new IllegalArgumentException("stageUpdater(" + k + ", ...) names a stage that does not exist: stages are 0.."
                        + (p - 1));
            }
        }
        if (b.delayAwareMomentum != null) {
            double g0 = b.delayAwareMomentum;
            if (!(g0 >= 0 && g0 < 0.99)) {
                throw new IllegalArgumentException("delayAwareMomentum(γ_0) needs 0 <= γ_0 < 0.99, got " + g0);
            }
        }
        if (b.pipeMareIterations != null && b.pipeMareIterations < 1) {
            throw new IllegalArgumentException("pipeMareLearningRate(T_c) needs T_c >= 1, got " + b.pipeMareIterations);
        }
    }

    /** A copy of {@code u} with delay-aware momentum and PipeMare applied as set, for stage of delay {@code tau}. */
    static IUpdater adjust(IUpdater u, PipelineBuilder<?> b, int tau, int p) {
        IUpdater out = u.clone();
        if (b.delayAwareMomentum != null) {
            out = StageUpdaters.withMomentum(out, StageUpdaters.delayAwareMomentum(b.delayAwareMomentum, tau, p));
        }
        if (b.pipeMareIterations != null) {
            out = StageUpdaters.withPipeMare(out, tau, b.pipeMareIterations);
        }
        return out;
    }

    /** Checks one batch against the network's input and output sizes (2-D and 3-D data). */
    static void checkBatch(MultiLayerNetwork net, DataSet ds) {
        INDArray f = ds.getFeatures();
        INDArray y = ds.getLabels();
        if (f == null || y == null) {
            throw new IllegalArgumentException("a DataSet without " + (f == null ? "features" : "labels")
                    + " cannot be trained on");
        }
        if (f.size(0) != y.size(0)) {
            throw new IllegalArgumentException("features have " + f.size(0) + " examples but labels have " + y.size(0));
        }
        if (f.size(0) == 0) {
            throw new IllegalArgumentException("a DataSet with 0 examples cannot be trained on");
        }
        org.deeplearning4j.nn.conf.layers.Layer first = net.getLayer(0).conf().getLayer();
        boolean firstHasPre = net.getLayerWiseConfigurations().getInputPreProcess(0) != null;
        if (first instanceof FeedForwardLayer ff && !firstHasPre && f.rank() <= 3 && ff.getNIn() > 0
                && f.size(1) != ff.getNIn()) {
            throw new IllegalArgumentException("features have " + f.size(1) + " columns but layer 0 expects nIn="
                    + ff.getNIn() + ": check the iterator or the network's input size");
        }
        org.deeplearning4j.nn.conf.layers.Layer out = net.getOutputLayer().conf().getLayer();
        if (out instanceof FeedForwardLayer ff && y.rank() <= 3 && ff.getNOut() > 0 && y.size(1) != ff.getNOut()) {
            throw new IllegalArgumentException("labels have " + y.size(1) + " columns but the output layer has nOut="
                    + ff.getNOut() + ": check the iterator's number of classes or the output layer");
        }
    }
}
