package io.asyncpipeline.model.multilayer;

import io.asyncpipeline.model.Partitions;
import io.asyncpipeline.model.dl4j.Dl4jEvents;
import io.asyncpipeline.model.dl4j.Dl4jPipelineModel;
import io.asyncpipeline.model.dl4j.Dl4jStage;
import io.asyncpipeline.model.dl4j.LayerProfiler;
import io.asyncpipeline.transport.Message;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A {@link MultiLayerNetwork} cut into consecutive layer ranges. Each stage is a sub-network built from
 * a clone of the user's configuration, initialised on a view of the user's parameter vector.
 */
public final class MultiLayerPipelineModel extends Dl4jPipelineModel<MultiLayerNetwork, MultiLayerStage> {

    private MultiLayerPipelineModel(MultiLayerNetwork net, int[] partition, int[] slots, boolean[] privateWeights) {
        super(net, partition);
        INDArray params = net.params();
        int first = 0;
        long offset = 0;
        for (int k = 0; k < partition.length; k++) {
            MultiLayerNetwork sub = subNetwork(first, partition[k]);
            long n = 0;
            for (int i = first; i < first + partition[k]; i++) {
                n += net.getLayer(i).numParams();
            }
            INDArray view = n == 0 ? null : params.reshape(params.length()).get(NDArrayIndex.interval(offset, offset + n)).reshape(1, n);
            sub.init(view, false);
            boolean own = privateWeights[k] && view != null;
            List<MultiLayerNetwork> replicas = new ArrayList<>();
            for (int r = own ? 0 : 1; r < slots[k]; r++) {
                MultiLayerNetwork replica = subNetwork(first, partition[k]);
                replica.init(own ? view.dup() : view, false);
                replicas.add(replica);
            }
            addStage(new MultiLayerStage(sub, replicas, k == 0, k == partition.length - 1, own), offset);
            offset += n;
            first += partition[k];
        }
    }

    /**
     * Cuts {@code net} into stages of {@code partition[k]} layers each, one activation slot each.
     *
     * @throws IllegalArgumentException if the partition does not cover the layers exactly
     */
    public static MultiLayerPipelineModel split(MultiLayerNetwork net, int[] partition) {
        int[] one = new int[partition == null ? 0 : partition.length];
        Arrays.fill(one, 1);
        return split(net, partition, one, new boolean[one.length]);
    }

    /**
     * Cuts {@code net} into stages, stage k with {@code slots[k]} activation slots (see
     * {@link io.asyncpipeline.stage.StageComputation#slots()}), each with a private weight copy where
     * {@code privateWeights[k]} (weight stashing without swaps).
     */
    public static MultiLayerPipelineModel split(MultiLayerNetwork net, int[] partition, int[] slots,
                                                boolean[] privateWeights) {
        if (net.getLayers() == null || net.params() == null) { // params() is an empty array, not null, before init()
            throw new IllegalArgumentException("the network is not initialised: call net.init() before wrapping it");
        }
        Partitions.validate(partition, net.getnLayers(), "layers");
        Partitions.validateSlots(slots, privateWeights, partition.length);
        return new MultiLayerPipelineModel(net, partition, slots, privateWeights);
    }

    /** Parameter count of each layer, at least 1 (a cost proxy for dense layers; poor for convolutions). */
    public static double[] parametersPerLayer(MultiLayerNetwork net) {
        double[] c = new double[net.getnLayers()];
        for (int i = 0; i < c.length; i++) {
            c[i] = Math.max(1, net.getLayer(i).numParams());
        }
        return c;
    }

    /** Median over {@code repeats} runs of each layer's forward+backward time on {@code sample}, in ns. */
    public static double[] timePerLayer(MultiLayerNetwork net, DataSet sample, int repeats) {
        int[] ones = new int[net.getnLayers()];
        Arrays.fill(ones, 1);
        return LayerProfiler.byTime(split(net, ones).stages(), new Message(0, 0, (int) sample.getFeatures().size(0),
                new INDArray[] {sample.getFeatures()}, new INDArray[] {sample.getLabels()},
                masks(sample.getFeaturesMaskArray()), masks(sample.getLabelsMaskArray())), repeats);
    }

    private static INDArray[] masks(INDArray m) {
        return m == null ? null : new INDArray[] {m};
    }

    private MultiLayerNetwork subNetwork(int first, int count) {
        MultiLayerConfiguration conf = model.getLayerWiseConfigurations().clone();
        List<NeuralNetConfiguration> confs = new ArrayList<>(conf.getConfs().subList(first, first + count));
        Map<Integer, InputPreProcessor> pre = new HashMap<>();
        for (int i = 0; i < count; i++) {
            InputPreProcessor p = conf.getInputPreProcess(first + i);
            if (p != null) {
                pre.put(i, p);
            }
        }
        conf.setConfs(confs);
        conf.setInputPreProcessors(pre);
        return new MultiLayerNetwork(conf);
    }

    /** The stage sub-networks (for per-stage updater settings and tests). */
    public List<MultiLayerNetwork> stageNetworks() {
        List<MultiLayerNetwork> out = new ArrayList<>();
        for (Dl4jStage<MultiLayerNetwork> s : stageList()) {
            out.add(s.model());
        }
        return out;
    }

    @Override
    public String unit() {
        return "layers";
    }

    /** The name of each stage's last layer (DL4J names unnamed layers layer0, layer1, …), but the last stage's. */
    @Override
    public List<String> cutAfter() {
        List<String> out = new ArrayList<>();
        int last = -1;
        int[] partition = partition();
        for (int k = 0; k + 1 < partition.length; k++) {
            last += partition[k];
            out.add(layerName(last));
        }
        return out;
    }

    /** One activation crosses each cut: the output of the layer before it. */
    @Override
    public List<List<String>> crossing() {
        List<List<String>> out = new ArrayList<>();
        for (String name : cutAfter()) {
            out.add(List.of(name));
        }
        return out;
    }

    private String layerName(int i) {
        String name = model.getLayer(i).conf().getLayer().getLayerName();
        return name != null ? name : String.valueOf(i);
    }

    @Override
    public boolean takesMultiDataSets() {
        return false;
    }

    @Override
    public void checkBatch(MultiDataSet batch) {
        MultiLayerSetup.checkBatch(model, batch);
    }

    @Override
    public int iterationCount() {
        return model.getIterationCount();
    }

    @Override
    public int epochCount() {
        return model.getEpochCount();
    }

    @Override
    public void setCounters(int iteration, int epoch) {
        model.setIterationCount(iteration);
        model.setEpochCount(epoch);
        Dl4jEvents.setLayerCounters(model.getLayers(), iteration, epoch);
    }

    @Override
    protected void recordScore(double score, int iteration) {
        model.setScore(score);
        model.setIterationCount(iteration);
    }

    @Override
    protected Updater userUpdater() {
        return model.getUpdater();
    }

    @Override
    protected Updater stageUpdater(MultiLayerStage stage) {
        return stage.model().getUpdater();
    }

    @Override
    protected Collection<TrainingListener> listeners() {
        return model.getListeners();
    }
}
