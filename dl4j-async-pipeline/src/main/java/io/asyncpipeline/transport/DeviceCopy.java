package io.asyncpipeline.transport;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Device placement through ND4J's {@code AffinityManager}: binds a stage thread to its device and
 * moves arriving arrays there. On the CPU backend there is one device and both are no-ops.
 * The multi-device path has not been run on a GPU (no CUDA device was available).
 */
public final class DeviceCopy {

    private DeviceCopy() {
    }

    /** Number of devices ND4J sees (1 on CPU). */
    public static int deviceCount() {
        return Nd4j.getAffinityManager().getNumberOfDevices();
    }

    /** Binds the calling thread to {@code device}. */
    public static void bindCurrentThread(int device) {
        if (device < 0 || device >= deviceCount()) {
            throw new IllegalArgumentException("device " + device + " does not exist; ND4J sees " + deviceCount()
                    + " device(s) (0.." + (deviceCount() - 1) + ")");
        }
        Nd4j.getAffinityManager().unsafeSetDevice(device);
    }

    /** Detaches {@code a} from any workspace and, with several devices, copies it to {@code device}. */
    public static INDArray prepare(INDArray a, int device) {
        if (a == null) {
            return null;
        }
        INDArray out = a.isAttached() ? a.detach() : a;
        if (deviceCount() > 1) {
            out = Nd4j.getAffinityManager().replicateToDevice(device, out);
        }
        return out;
    }

    /** {@link #prepare} for each array. */
    public static INDArray[] prepare(INDArray[] arrays, int device) {
        if (arrays == null) {
            return null;
        }
        INDArray[] out = new INDArray[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            out[i] = prepare(arrays[i], device);
        }
        return out;
    }
}
