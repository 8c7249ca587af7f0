package io.asyncpipeline.model.dl4j;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;

/**
 * The one workspace policy of every DL4J stage (MultiLayerNetwork and ComputationGraph alike). Layer scratch memory (im2col buffers, RNN loop temporaries)
 * lives in per-thread workspaces that are reused every op, so it does not pile up off-heap waiting for
 * the garbage collector. Everything that outlives a layer call (inputs, activations, activation
 * gradients, caches) is created outside any workspace, so it may cross to another stage thread; the manager
 * notes those arrays, and {@link PassArrays} frees them when the micro-batch's backward is done.
 */
public final class StageWorkspaces {

    static final String WORKING = "ASYNC_PIPELINE_STAGE_WORKING_MEM";
    static final String RNN_LOOP = "ASYNC_PIPELINE_STAGE_RNN_LOOP_MEM";

    private StageWorkspaces() {
    }

    /**
     * A manager for a stage of {@code units} layer calls per pass (layers or vertices, plus preprocessors): the
     * working-memory workspace learns its size over the first two passes.
     */
    static RecordingWorkspaceMgr forStage(int units) {
        WorkspaceConfiguration working = WorkspaceConfiguration.builder()
                .initialSize(0)
                .overallocationLimit(0.02)
                .policyLearning(LearningPolicy.OVER_TIME)
                .cyclesBeforeInitialization(2 * units)
                .policyReset(ResetPolicy.BLOCK_LEFT)
                .policySpill(SpillPolicy.REALLOCATE)
                .policyAllocation(AllocationPolicy.OVERALLOCATE)
                .build();
        WorkspaceConfiguration loop = WorkspaceConfiguration.builder()
                .initialSize(0)
                .overallocationLimit(0.05)
                .policyReset(ResetPolicy.BLOCK_LEFT)
                .policyAllocation(AllocationPolicy.OVERALLOCATE)
                .policySpill(SpillPolicy.REALLOCATE)
                .policyLearning(LearningPolicy.FIRST_LOOP)
                .build();
        Map<ArrayType, WorkspaceConfiguration> configs = new EnumMap<>(ArrayType.class);
        Map<ArrayType, String> names = new EnumMap<>(ArrayType.class);
        configs.put(ArrayType.FF_WORKING_MEM, working);
        configs.put(ArrayType.BP_WORKING_MEM, working);
        configs.put(ArrayType.RNN_FF_LOOP_WORKING_MEM, loop);
        configs.put(ArrayType.RNN_BP_LOOP_WORKING_MEM, loop);
        names.put(ArrayType.FF_WORKING_MEM, WORKING);
        names.put(ArrayType.BP_WORKING_MEM, WORKING);
        names.put(ArrayType.RNN_FF_LOOP_WORKING_MEM, RNN_LOOP);
        names.put(ArrayType.RNN_BP_LOOP_WORKING_MEM, RNN_LOOP);
        Set<ArrayType> scopedOut = EnumSet.allOf(ArrayType.class);
        scopedOut.removeAll(configs.keySet());
        return new RecordingWorkspaceMgr(scopedOut, configs, names);
    }
}
