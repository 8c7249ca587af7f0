package io.asyncpipeline.model;

import io.asyncpipeline.stage.StageComputation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A {@link MultiLayerNetwork} cut into consecutive layer ranges. Each stage is a sub-network built from
 * a clone of the user's configuration, initialised on a view of the user's parameter vector.
 */
public final class MultiLayerPipelineModel implements PipelineModel {

    private final MultiLayerNetwork net;
    private final int[] partition;
    private final List<MultiLayerStage> stages = new ArrayList<>();
    private final long[] paramOffsets;

    private MultiLayerPipelineModel(MultiLayerNetwork net, int[] partition, int[] slots, boolean[] privateWeights) {
        this.net = net;
        this.partition = partition.clone();
        this.paramOffsets = new long[partition.length];
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
            paramOffsets[k] = offset;
            stages.add(new MultiLayerStage(sub, replicas, k == partition.length - 1, own));
            offset += n;
            first += partition[k];
        }
    }

    /**
     * Cuts {@code net} into stages of {@code partition[k]} layers each.
     *
     * @throws IllegalArgumentException if the partition does not cover the layers exactly
     */
    public static MultiLayerPipelineModel split(MultiLayerNetwork net, int[] partition) {
        int[] one = new int[partition == null ? 0 : partition.length];
        java.util.Arrays.fill(one, 1);
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
        if (slots.length != partition.length) {
            throw new IllegalArgumentException("need one slot count per stage");
        }
        for (int s : slots) {
            if (s < 1) {
                throw new IllegalArgumentException("every stage needs at least one activation slot, got " + s);
            }
        }
        return new MultiLayerPipelineModel(net, partition, slots, privateWeights);
    }

    private MultiLayerNetwork subNetwork(int first, int count) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
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

    @Override
    public List<StageComputation> stages() {
        return Collections.unmodifiableList(stages);
    }

    @Override
    public int[] partition() {
        return partition.clone();
    }

    /** The stage sub-networks (for per-stage updater settings and tests). */
    public List<MultiLayerNetwork> stageNetworks() {
        List<MultiLayerNetwork> out = new ArrayList<>();
        for (MultiLayerStage s : stages) {
            out.add(s.network());
        }
        return out;
    }

    @Override
    public void pullOptimizerState() {
        for (int k = 0; k < stages.size(); k++) {
            UpdaterStates.copy(net.getUpdater(), stages.get(k).network().getUpdater(), paramOffsets[k], false);
        }
    }

    @Override
    public void pushOptimizerState() {
        for (int k = 0; k < stages.size(); k++) {
            UpdaterStates.copy(net.getUpdater(), stages.get(k).network().getUpdater(), paramOffsets[k], true);
        }
    }

    @Override
    public int iterationCount() {
        return net.getIterationCount();
    }

    @Override
    public int epochCount() {
        return net.getEpochCount();
    }

    @Override
    public void setCounters(int iteration, int epoch) {
        net.setIterationCount(iteration);
        net.setEpochCount(epoch);
        Dl4jEvents.setLayerCounters(net.getLayers(), iteration, epoch);
    }

    @Override
    public void reportIteration(int iteration, int epoch, double score) {
        net.setScore(score);
        net.setIterationCount(iteration + 1);
        Dl4jEvents.iterationDone(net, net.getListeners(), iteration, epoch);
    }


    @Override
    public void epochEvent(boolean start) {
        Dl4jEvents.epoch(net, net.getListeners(), start);
    }

    @Override
    public void saveCheckpoint(java.io.File file) throws java.io.IOException {
        org.deeplearning4j.util.ModelSerializer.writeModel(net, file, true);
    }
}
