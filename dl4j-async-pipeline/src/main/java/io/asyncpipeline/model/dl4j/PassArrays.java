package io.asyncpipeline.model.dl4j;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The arrays a DL4J stage makes outside workspaces for one micro-batch (layer activations, activation gradients,
 * caches: everything {@link RecordingWorkspaceMgr} creates for a scoped-out array type), freed with
 * {@link INDArray#close()} as soon as nothing can read them any more, instead of waiting for the garbage
 * collector. Their native buffers go straight back to the allocator, on the stage's own thread, and the next
 * micro-batch reuses them: the stage makes no garbage that must wait for a collection.
 *
 * <p>Who frees what (the ownership rules every schedule satisfies, because a stage's backward of micro-batch
 * {@code m} waits for the next stage's backward of {@code m}):
 * <ul>
 *   <li>Everything a stage made for {@code m}, including the activations it sent forward, is freed at the end of
 *       its backward of {@code m}: by then the next stage has finished its backward of {@code m}, the last use of
 *       those activations.</li>
 *   <li>The gradients a backward returns (sent to the previous stage) are not freed by their maker; the receiving
 *       stage frees them at the end of its backward, where it has used them, unless it passes them on.</li>
 *   <li>When a slot computes another micro-batch (or the same one again, on new weights) before the backward of
 *       the one it held (recomputation), that one's arrays are freed except those behind its sent outputs, which
 *       wait for its backward.</li>
 *   <li>Nothing is freed after a failed forward or backward: those arrays are left to the garbage collector.</li>
 * </ul>
 * An array is never freed while it shares memory with one that must stay (a view of it sent on). Arrays that
 * came from elsewhere (the training data, another stage's activations) are not recorded and never freed here.
 */
final class PassArrays {

    private final RecordingWorkspaceMgr mgr;
    private final Pass[] slots;
    /** Sent outputs of micro-batches whose slot was reused before their backward: freed at that backward. */
    private final Map<Integer, List<INDArray>> waitingOutputs = new HashMap<>();

    PassArrays(RecordingWorkspaceMgr mgr, int slots) {
        this.mgr = mgr;
        this.slots = new Pass[slots];
    }

    /** Starts recording the forward of micro-batch {@code m} on {@code slot}. */
    void beginForward(int slot, int m) {
        retire(slot);
        Pass p = new Pass(m);
        slots[slot] = p;
        mgr.record(p.made);
    }

    /** Ends the forward: the arrays behind {@code outputs} (sent on) outlive a reuse of the slot until the backward. */
    void endForward(int slot, INDArray[] outputs) {
        mgr.record(null);
        Pass p = slots[slot];
        if (p != null) {
            p.outputs = outputs;
        }
    }

    /** Starts recording the backward on {@code slot} (into the arrays of the forward it runs on). */
    void beginBackward(int slot) {
        Pass p = slots[slot];
        mgr.record(p == null ? null : p.made);
    }

    /**
     * Ends a successful backward of micro-batch {@code m} on {@code slot}: frees what the stage made for {@code m}
     * and the {@code received} gradients, except what is in (or shares memory with) {@code returned}.
     */
    void endBackward(int slot, int m, INDArray[] returned, INDArray[] received) {
        mgr.record(null);
        Pass p = slots[slot];
        slots[slot] = null;
        List<INDArray> waiting = waitingOutputs.remove(m);
        if (p != null && p.microBatch == m) {
            closeAllBut(p.made, returned);
        }
        if (waiting != null) {
            closeAllBut(waiting, returned);
        }
        if (received != null) {
            closeAllBut(List.of(received), returned);
        }
    }

    /** A forward or backward failed: stop recording and forget everything (left to the garbage collector). */
    void abandon() {
        mgr.record(null);
        java.util.Arrays.fill(slots, null);
        waitingOutputs.clear();
    }

    private void retire(int slot) {
        Pass old = slots[slot];
        if (old == null) {
            return;
        }
        slots[slot] = null;
        List<INDArray> keep = null;
        for (INDArray a : old.made) {
            if (sharesMemory(a, old.outputs)) {
                if (keep == null) {
                    keep = waitingOutputs.computeIfAbsent(old.microBatch, k -> new ArrayList<>());
                }
                keep.add(a);
            } else {
                close(a);
            }
        }
    }

    private static void closeAllBut(List<INDArray> arrays, INDArray[] keep) {
        for (INDArray a : arrays) {
            if (a != null && !sharesMemory(a, keep)) {
                close(a);
            }
        }
    }

    private static void close(INDArray a) {
        if (!a.wasClosed() && a.closeable()) {
            a.close();
        }
    }

    /** True when {@code a}'s buffer overlaps the buffer of any array of {@code keep}. */
    private static boolean sharesMemory(INDArray a, INDArray[] keep) {
        if (keep == null || keep.length == 0) {
            return false;
        }
        DataBuffer d = a.data();
        if (d == null) {
            return false;
        }
        long start = d.address();
        long end = start + d.length() * d.getElementSize();
        for (INDArray k : keep) {
            if (k == null || k.isEmpty()) {
                continue;
            }
            if (k == a) {
                return true;
            }
            DataBuffer kd = k.data();
            long ks = kd.address();
            long ke = ks + kd.length() * kd.getElementSize();
            if (start < ke && ks < end) {
                return true;
            }
        }
        return false;
    }

    private static final class Pass {
        final int microBatch;
        final List<INDArray> made = new ArrayList<>();
        INDArray[] outputs;

        Pass(int microBatch) {
            this.microBatch = microBatch;
        }
    }
}
