package io.asyncpipeline;

import java.util.Arrays;
import java.util.List;

/**
 * Where a wrapper cut its model into stages.
 *
 * @param unit      what {@code partition} counts: {@code "layers"} (MultiLayerNetwork), {@code "vertices"}
 *                  (ComputationGraph, network inputs not counted) or {@code "ops"} (SameDiff)
 * @param partition units per stage, first to last
 * @param cutAfter  the last unit before each cut: a layer name (DL4J names unnamed layers layer0, layer1, …),
 *                  a vertex name, or the SameDiff cut variable; {@code P - 1} entries
 * @param crossing  the tensors that cross each cut, in the order they travel: one activation for a
 *                  MultiLayerNetwork, every input or vertex output used after the cut for a graph (skip
 *                  connections included), the cut variable for SameDiff
 */
public record PipelineCuts(String unit, int[] partition, List<String> cutAfter, List<List<String>> crossing) {

    public PipelineCuts {
        partition = partition.clone();
        cutAfter = List.copyOf(cutAfter);
        crossing = crossing.stream().map(List::copyOf).toList();
    }

    @Override
    public int[] partition() {
        return partition.clone();
    }

    /** Number of stages. */
    public int stages() {
        return partition.length;
    }

    @Override
    public String toString() {
        return Arrays.toString(partition) + " " + unit + ", cut after " + cutAfter + ", crossing " + crossing;
    }
}
