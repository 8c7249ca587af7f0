package io.asyncpipeline.stage;

import io.asyncpipeline.transport.Message;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A stage computation that only records what it is asked to do, as compact actions ("1F3", "0B0", "2U4"), and can
 * be told to fail at one forward. Its output is its input plus one, so messages carry something checkable.
 */
class RecordingComputation implements StageComputation {

    final List<String> done = Collections.synchronizedList(new ArrayList<>());
    int snapshots;
    int snapshotsInto;
    private final int stage;
    private final int slots;
    private final int failAtForward;
    private final INDArray params = Nd4j.zeros(1, 3);

    RecordingComputation(int stage, int slots, int failAtForward) {
        this.stage = stage;
        this.slots = slots;
        this.failAtForward = failAtForward;
    }

    @Override
    public INDArray[] forward(Message input, int slot, int iteration, int epoch) {
        if (input.microBatch() == failAtForward) {
            throw new IllegalStateException("injected failure at micro-batch " + failAtForward);
        }
        done.add(stage + "F" + input.microBatch());
        return new INDArray[] {input.tensors()[0].add(1)};
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public INDArray[] backward(Message input, INDArray[] outputGradients, int slot) {
        done.add(stage + "B" + input.microBatch());
        return new INDArray[] {input.tensors()[0].mul(0)};
    }

    @Override
    public INDArray[] lastOutputMasks() {
        return null;
    }

    @Override
    public double lastScore() {
        return 1.0;
    }

    @Override
    public void update(int iteration, int epoch, int examples) {
        done.add(stage + "U" + iteration);
        params.addi(1);
    }

    @Override
    public INDArray params() {
        return params;
    }

    @Override
    public INDArray snapshotParams() {
        snapshots++;
        return params.dup();
    }

    @Override
    public void snapshotParamsInto(INDArray target) {
        snapshotsInto++;
        target.assign(params);
    }
}
