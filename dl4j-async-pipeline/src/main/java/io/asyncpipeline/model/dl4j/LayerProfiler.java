package io.asyncpipeline.model.dl4j;

import io.asyncpipeline.transport.Message;
import io.asyncpipeline.stage.StageComputation;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-unit cost estimates for the {@code Balancer}: measured forward+backward time on a sample batch. A unit
 * is a layer of a {@code MultiLayerNetwork} or a group of consecutive vertices of a {@code ComputationGraph}
 * (each model type cuts itself into one-unit stages: {@code MultiLayerPipelineModel.timePerLayer},
 * {@code GraphPipelineModel.timePerGroup}), so the time is that of the stage code the pipeline runs.
 * Profiling does not change the model's parameters.
 */
public final class LayerProfiler {

    private LayerProfiler() {
    }

    /**
     * Median over {@code repeats} runs of each unit's forward+backward time, in ns: the units run as a pipeline of
     * one-unit stages (one slot each) on the micro-batch {@code first}, forward in order, then backward in reverse.
     */
    public static double[] byTime(List<StageComputation> units, Message first, int repeats) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
        }
        int n = units.size();
        long[][] times = new long[n][repeats];
        for (int r = 0; r < repeats; r++) {
            profileOnce(units, first, times, r);
        }
        for (StageComputation u : units) {
            u.discardGradients();
        }
        double[] median = new double[n];
        for (int i = 0; i < n; i++) {
            long[] t = times[i].clone();
            Arrays.sort(t);
            median[i] = t[t.length / 2];
        }
        return median;
    }

    private static void profileOnce(List<StageComputation> units, Message first, long[][] times, int r) {
        int n = units.size();
        Message[] inputs = new Message[n];
        Message msg = first;
        for (int i = 0; i < n; i++) {
            inputs[i] = msg;
            long t0 = System.nanoTime();
            INDArray[] out = units.get(i).forward(msg, 0, 0, 0);
            times[i][r] = System.nanoTime() - t0;
            msg = new Message(0, 0, msg.examples(), out, msg.labels(), units.get(i).lastOutputMasks(), msg.labelMasks());
        }
        INDArray[] grads = null;
        for (int i = n - 1; i >= 0; i--) {
            long t0 = System.nanoTime();
            grads = units.get(i).backward(inputs[i], grads, 0);
            times[i][r] += System.nanoTime() - t0;
        }
    }

}
