package io.asyncpipeline.model.multilayer;

import io.asyncpipeline.model.CommonSetup;
import io.asyncpipeline.model.ModelSetup;
import io.asyncpipeline.model.Partitions;
import io.asyncpipeline.model.PipelineOptions;
import io.asyncpipeline.model.dl4j.Dl4jSetup;
import io.asyncpipeline.partition.Balancer;
import io.asyncpipeline.runtime.RunSettings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/** Checks the builder's options against a {@link MultiLayerNetwork}, chooses the partition and cuts it into stages. */
public final class MultiLayerSetup implements ModelSetup {

    private static final int DEFAULT_STAGES = 2;

    private final MultiLayerNetwork net;

    /** @param net an initialised network ({@code net.init()} called) */
    public MultiLayerSetup(MultiLayerNetwork net) {
        if (net == null) {
            throw new IllegalArgumentException("net is null");
        }
        this.net = net;
    }

    @Override
    public Built build(PipelineOptions o) {
        if (net.getLayers() == null || net.params() == null) { // params() is an empty array, not null, before init()
            throw new IllegalArgumentException("the network is not initialised: call net.init() before wrapping it");
        }
        if (o.profileMultiSample() != null) {
            throw new IllegalArgumentException("profileWith(MultiDataSet) is for a ComputationGraph; profile a"
                    + " MultiLayerNetwork with profileWith(DataSet)");
        }
        if (o.cutAfter() != null) {
            throw new IllegalArgumentException("cutAfter(...) names vertices of a ComputationGraph; for a MultiLayerNetwork"
                    + " use partition(...) (layers per stage) or stages(P)");
        }
        int layers = net.getnLayers();
        int p = CommonSetup.requestedStages(o, Math.min(DEFAULT_STAGES, layers));
        CommonSetup.StageLayout layout = CommonSetup.layout(o, p);
        RunSettings settings = CommonSetup.runSettings(o, net.getLayerWiseConfigurations().getConf(0).getSeed(), layout);
        int[] partition = partition(o, p, layers);
        checkLayers(o);
        MultiLayerPipelineModel model = MultiLayerPipelineModel.split(net, partition, layout.slots(),
                layout.privateWeights());
        List<Layer[]> stageLayers = new ArrayList<>();
        for (MultiLayerNetwork sub : model.stageNetworks()) {
            stageLayers.add(sub.getLayers());
        }
        Dl4jSetup.applyStageUpdaters(stageLayers, o);
        return new Built(model, settings);
    }

    private int[] partition(PipelineOptions o, int p, int layers) {
        if (o.partition() != null) {
            Partitions.validate(o.partition(), layers, "layers");
            return o.partition();
        }
        if (p > layers) {
            throw new IllegalArgumentException("cannot make " + p + " stages from a network of " + layers
                    + " layers: use at most " + layers + " stages");
        }
        double[] costs = o.profileSample() != null ? MultiLayerPipelineModel.timePerLayer(net, o.profileSample(), 5)
                : MultiLayerPipelineModel.parametersPerLayer(net);
        int[] balanced = Balancer.balance(costs, p);
        if (o.profileSample() == null) {
            Dl4jSetup.reportParameterBalance(Arrays.asList(net.getLayers()), balanced, "layers");
        }
        return balanced;
    }

    private void checkLayers(PipelineOptions o) {
        Dl4jSetup.checkBatchNorm(Arrays.asList(net.getLayers()), o);
        if (!(net.getOutputLayer() instanceof IOutputLayer)) {
            throw new IllegalArgumentException("the last layer must be an output or loss layer (IOutputLayer), got "
                    + net.getOutputLayer().getClass().getSimpleName());
        }
        if (net.getLayerWiseConfigurations().getBackpropType() == BackpropType.TruncatedBPTT) {
            throw new IllegalArgumentException("truncated BPTT is not supported by the pipeline: use BackpropType.Standard");
        }
    }

    /** Checks one batch against the network's input and output sizes (2-D and 3-D data). */
    static void checkBatch(MultiLayerNetwork net, MultiDataSet mds) {
        checkBatch(net, CommonSetup.asDataSet(mds));
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
