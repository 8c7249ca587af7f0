package io.asyncpipeline.model.dl4j;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A stage's {@link LayerWorkspaceMgr} that also notes every new array it creates outside a workspace (activations,
 * activation gradients, caches: the array types that are scoped out), while a list is set with {@link #record}.
 * Layers make those arrays through their workspace manager ({@code create}, {@code createUninitialized},
 * {@code dup}, {@code castTo}, or {@code leverageTo} out of a working-memory workspace), so the list holds what
 * one forward or backward left behind, for {@link PassArrays} to free.
 */
final class RecordingWorkspaceMgr extends LayerWorkspaceMgr {

    private List<INDArray> into;

    RecordingWorkspaceMgr(Set<ArrayType> scopedOut, Map<ArrayType, WorkspaceConfiguration> configs,
            Map<ArrayType, String> names) {
        super(scopedOut, configs, names);
    }

    /** Notes new scoped-out arrays in {@code list} from now on; null stops. */
    void record(List<INDArray> list) {
        this.into = list;
    }

    private INDArray note(ArrayType type, INDArray made, INDArray from) {
        if (into != null && made != null && made != from && isScopedOut(type) && !made.isAttached()) {
            into.add(made);
        }
        return made;
    }

    @Override
    public INDArray create(ArrayType type, DataType dataType, long[] shape, char order) {
        return note(type, super.create(type, dataType, shape, order), null);
    }

    @Override
    public INDArray createUninitialized(ArrayType type, DataType dataType, long[] shape, char order) {
        return note(type, super.createUninitialized(type, dataType, shape, order), null);
    }

    @Override
    public INDArray dup(ArrayType type, INDArray toDup, char order) {
        return note(type, super.dup(type, toDup, order), toDup);
    }

    @Override
    public INDArray castTo(ArrayType type, DataType dataType, INDArray toCast, boolean dupIfCorrectType) {
        return note(type, super.castTo(type, dataType, toCast, dupIfCorrectType), toCast);
    }

    @Override
    public INDArray leverageTo(ArrayType type, INDArray array) {
        return note(type, super.leverageTo(type, array), array);
    }
}
