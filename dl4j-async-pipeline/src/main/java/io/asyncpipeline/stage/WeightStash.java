package io.asyncpipeline.stage;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Weight stashing (PipeDream): remembers which weight version each in-flight micro-batch's forward
 * used, and keeps a copy of a version only while an in-flight micro-batch still needs it after the
 * stage has moved on. At most {@code τ + 1} versions are alive.
 */
final class WeightStash {

    private final Map<Integer, Integer> versionOfMicroBatch = new HashMap<>();
    private final TreeMap<Integer, INDArray> copies = new TreeMap<>();
    /** Copies no version needs any more, reused by the next snapshot: steady state allocates nothing. */
    private final java.util.ArrayDeque<INDArray> free = new java.util.ArrayDeque<>();
    private INDArray current;
    private long peakBytes;

    /** Records that micro-batch {@code m}'s forward ran at weight version {@code version}. */
    void recordForward(int m, int version) {
        versionOfMicroBatch.put(m, version);
    }

    /** The weight version micro-batch {@code m} was forwarded with. */
    int versionOf(int m) {
        Integer v = versionOfMicroBatch.get(m);
        if (v == null) {
            throw new IllegalStateException("no forward recorded for micro-batch " + m);
        }
        return v;
    }

    /** Before an update moves the weights past {@code version}: copy them if an in-flight micro-batch uses them. */
    void beforeUpdate(int version, StageComputation computation) {
        if (versionOfMicroBatch.containsValue(version) && !copies.containsKey(version)) {
            copies.put(version, snapshot(computation, free.poll()));
            long bytes = 0;
            for (INDArray c : copies.values()) {
                bytes += c.length() * c.dataType().width();
            }
            peakBytes = Math.max(peakBytes, bytes);
        }
    }

    /** The stored copy of an old version. */
    INDArray copyOf(int version) {
        INDArray c = copies.get(version);
        if (c == null) {
            throw new IllegalStateException("weight version " + version + " was not stashed");
        }
        return c;
    }

    /** Micro-batch {@code m} finished its backward: forget it and keep versions nobody needs for reuse. */
    void release(int m) {
        versionOfMicroBatch.remove(m);
        var it = copies.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            if (!versionOfMicroBatch.containsValue(e.getKey())) {
                free.push(e.getValue());
                it.remove();
            }
        }
    }

    /**
     * The live weights, copied aside while a backward runs on a stashed version: one buffer, reused for every
     * backward.
     */
    INDArray saveCurrent(StageComputation computation) {
        current = snapshot(computation, current);
        return current;
    }

    private static INDArray snapshot(StageComputation computation, INDArray reuse) {
        if (reuse == null) {
            return computation.snapshotParams();
        }
        computation.snapshotParamsInto(reuse);
        return reuse;
    }

    long peakBytes() {
        return peakBytes;
    }
}
