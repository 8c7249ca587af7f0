package io.asyncpipeline.model;

import java.util.Arrays;

/** Checks of a partition (units per stage) against a model. */
public final class Partitions {

    private Partitions() {
    }

    /**
     * Requires every stage to hold at least one unit and the sizes to sum to {@code total}.
     *
     * @param unit what is being split ("layers", "vertices"), for messages
     */
    public static void validate(int[] partition, int total, String unit) {
        if (partition == null || partition.length == 0) {
            throw new IllegalArgumentException("partition is empty: give the number of " + unit + " of each stage");
        }
        if (partition.length > total) {
            throw new IllegalArgumentException("cannot make " + partition.length + " stages from " + total + " " + unit
                    + ": use at most " + total + " stages");
        }
        int sum = 0;
        for (int k = 0; k < partition.length; k++) {
            if (partition[k] < 1) {
                throw new IllegalArgumentException("stage " + k + " of partition " + Arrays.toString(partition) + " has "
                        + partition[k] + " " + unit + ": every stage needs at least one");
            }
            sum += partition[k];
        }
        if (sum != total) {
            throw new IllegalArgumentException("partition " + Arrays.toString(partition) + " sums to " + sum
                    + " but the model has " + total + " " + unit + ": the sizes must add up to " + total);
        }
    }

    /** One slot count (>= 1) and one private-weights flag per stage. */
    public static void validateSlots(int[] slots, boolean[] privateWeights, int stages) {
        if (slots.length != stages || privateWeights.length != stages) {
            throw new IllegalArgumentException("need one slot count and one private-weights flag per stage: " + stages
                    + " stages, " + slots.length + " slot counts, " + privateWeights.length + " flags");
        }
        for (int s : slots) {
            if (s < 1) {
                throw new IllegalArgumentException("every stage needs at least one activation slot, got " + s);
            }
        }
    }
}
