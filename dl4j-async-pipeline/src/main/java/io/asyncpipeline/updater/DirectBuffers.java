package io.asyncpipeline.updater;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Direct access to the host memory of dense CPU arrays, so that an updater can run as one fused pass
 * (like ND4J's native updater ops) instead of a chain of whole-array ops with temporaries.
 *
 * <p>Only arrays that are on the CPU backend, contiguous (element-wise stride 1) and no larger than
 * {@code Integer.MAX_VALUE} bytes qualify; callers fall back to ND4J ops otherwise (e.g. on CUDA).
 */
final class DirectBuffers {

    private static final boolean CPU = detectCpu();

    private DirectBuffers() {
    }

    private static boolean detectCpu() {
        try {
            return Nd4j.getEnvironment().isCPU();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** True when all arrays share a data type (FLOAT or DOUBLE), length and element order, and are dense on the host. */
    static boolean eligible(INDArray first, INDArray... others) {
        if (!CPU || !denseOnHost(first)) {
            return false;
        }
        DataType type = first.dataType();
        if (type != DataType.FLOAT && type != DataType.DOUBLE) {
            return false;
        }
        for (INDArray o : others) {
            if (!denseOnHost(o) || o.dataType() != type || o.length() != first.length()) {
                return false;
            }
            if (first.rank() > 1 && o.rank() > 1 && !first.isVector() && o.ordering() != first.ordering()) {
                return false;
            }
        }
        return true;
    }

    private static boolean denseOnHost(INDArray a) {
        long bytes = a.length() * a.data().getElementSize();
        return bytes < Integer.MAX_VALUE && (a.length() == 1 || a.elementWiseStride() == 1)
                && a.offset() + a.length() <= Integer.MAX_VALUE;
    }

    /** The array's elements as a float buffer: index {@code i} is the array's i-th element in memory order. */
    static FloatBuffer floats(INDArray a) {
        FloatBuffer all = a.data().pointer().asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
        return all.position((int) a.offset()).limit((int) (a.offset() + a.length())).slice();
    }

    /** The array's elements as a double buffer, as {@link #floats}. */
    static DoubleBuffer doubles(INDArray a) {
        DoubleBuffer all = a.data().pointer().asByteBuffer().order(ByteOrder.nativeOrder()).asDoubleBuffer();
        return all.position((int) a.offset()).limit((int) (a.offset() + a.length())).slice();
    }
}
