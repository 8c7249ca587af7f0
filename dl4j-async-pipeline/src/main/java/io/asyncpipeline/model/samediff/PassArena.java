package io.asyncpipeline.model.samediff;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.internal.SessionMemMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.BaseNDArray;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SameDiff session memory for one stage graph on one thread, freed per pass. Every array the session
 * allocates during a pass (a forward, or a backward with its recomputed forward) stays valid until the
 * stage calls {@link #endPass()}, after it has copied out what it keeps; then the pass's arrays become
 * the pool the next pass allocates from. A stage runs the same graph on the same shapes every
 * micro-batch, so in the steady state a pass allocates nothing: each allocation finds the array of the
 * same type and shape the previous pass used. Arrays the last pass did not reuse are closed at once.
 *
 * <p>This replaces SameDiff's own release path for stage graphs: SameDiff 1.0.0-M2.1's
 * {@code calculateGradients} switches the gradient function's cache off (releasing into it can close an
 * array still in use), so without a pass-scoped manager every intermediate array of every backward is
 * left to the garbage collector, about a gigabyte a second for the 8-stage transformer. {@link #release}
 * keeps the array until the end of the pass for the same reason.
 *
 * <p>Like SameDiff's own manager, allocations are uninitialised: an op writes all of its output.
 */
final class PassArena implements SessionMemMgr {

    private final Map<Key, ArrayDeque<INDArray>> pool = new HashMap<>();
    private final List<INDArray> inUse = new ArrayList<>();
    private final List<Key> inUseKeys = new ArrayList<>();
    private long allocations;
    private long reuses;

    private record Key(DataType type, List<Long> shape) {
        static Key of(DataType type, long[] shape) {
            return new Key(type, Arrays.stream(shape).boxed().toList());
        }
    }

    @Override
    public INDArray allocate(boolean detached, DataType dataType, long... shape) {
        if (Arrays.stream(shape).anyMatch(s -> s == 0)) {
            return Nd4j.create(dataType, shape);            // empty arrays hold no memory
        }
        Key key = Key.of(dataType, shape);
        ArrayDeque<INDArray> free = pool.get(key);
        INDArray arr = free == null ? null : free.poll();
        if (arr == null || arr.wasClosed()) {
            arr = Nd4j.createUninitializedDetached(dataType, shape);
            allocations++;
        } else {
            // a new id, as SameDiff's own cache gives a reused array: the session tracks arrays by id
            ((BaseNDArray) arr).assignNewId();
            reuses++;
        }
        inUse.add(arr);
        inUseKeys.add(key);
        return arr;
    }

    @Override
    public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
        if (descriptor.isEmpty()) {
            return Nd4j.create(descriptor);
        }
        return allocate(detached, descriptor.dataType(), descriptor.getShape());
    }

    @Override
    public INDArray ulike(INDArray arr) {
        return allocate(false, arr.dataType(), arr.shape());
    }

    @Override
    public INDArray dup(INDArray arr) {
        INDArray out = ulike(arr);
        if (!arr.isEmpty()) {
            out.assign(arr);
        }
        return out;
    }

    /** Kept until {@link #endPass()}: the session may still read an array it releases. */
    @Override
    public void release(INDArray array) {
    }

    /**
     * Ends a pass: closes the pooled arrays this pass did not reuse, and pools this pass's arrays for the
     * next. Arrays of the pass must not be used after this.
     */
    void endPass() {
        closePool();
        for (int i = 0; i < inUse.size(); i++) {
            INDArray a = inUse.get(i);
            if (!a.wasClosed()) {
                pool.computeIfAbsent(inUseKeys.get(i), k -> new ArrayDeque<>()).add(a);
            }
        }
        inUse.clear();
        inUseKeys.clear();
    }

    /** Arrays allocated fresh, and taken from the pool, since this manager was made. */
    long allocations() {
        return allocations;
    }

    long reuses() {
        return reuses;
    }

    private void closePool() {
        for (ArrayDeque<INDArray> q : pool.values()) {
            for (INDArray a : q) {
                if (a.closeable()) {
                    a.close();
                }
            }
        }
        pool.clear();
    }

    /** Closes every array, pooled and in use. */
    @Override
    public void close() {
        closePool();
        for (INDArray a : inUse) {
            if (a.closeable()) {
                a.close();
            }
        }
        inUse.clear();
        inUseKeys.clear();
    }
}
