package io.asyncpipeline.model.samediff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.updater.DiscountedNadam;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A SameDiff stage copies its weights into a reused buffer exactly as {@code params()} lays them out. */
class SameDiffStageParamsTest {

    @Test
    void snapshotIntoAReusedBufferEqualsParams() {
        SameDiff sd = SameDiffAsyncStashingTest.graph(DiscountedNadam.builder().build());
        try (AsyncPipelineWrapper w = SameDiffAsyncStashingTest.stashing(sd).build()) {
            for (int k = 0; k < 3; k++) {
                SameDiffStage stage = (SameDiffStage) w.pipelineModel().stages().get(k);
                INDArray buffer = stage.snapshotParams().mul(0);
                stage.snapshotParamsInto(buffer);
                assertArrayEquals(stage.params().data().asDouble(), buffer.data().asDouble(), 0.0, "stage " + k);

                INDArray original = stage.params();
                stage.restoreParams(original.add(1.5));
                stage.snapshotParamsInto(buffer);
                assertArrayEquals(original.add(1.5).data().asDouble(), buffer.data().asDouble(), 0.0, "moved weights");
                assertFalse(java.util.Arrays.equals(original.data().asDouble(), buffer.data().asDouble()));
                stage.restoreParams(original);
            }
        }
    }
}
