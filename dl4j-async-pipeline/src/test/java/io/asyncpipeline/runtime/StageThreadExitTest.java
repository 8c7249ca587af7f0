package io.asyncpipeline.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.testdata.StageThreadState;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Regression: a stage thread freed its workspaces with ND4J's {@code destroyAllWorkspacesForCurrentThread}, which
 * also forces a full collection; with three stages every fit (and every halt) cost three full collections, seconds
 * each in a large heap. With the pacer off, fits must not ask for full collections.
 */
class StageThreadExitTest {

    /** Old-generation (full) collections so far, over every collector that has "Old" or "MarkSweep" in its name. */
    static long fullCollections() {
        long n = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (b.getName().contains("Old") || b.getName().contains("MarkSweep")) {
                n += Math.max(0, b.getCollectionCount());
            }
        }
        return n;
    }

    @Test
    void endingAFitForcesNoCollection() {
        StageThreadState.freeStageWorkspaces();   // tests before this one may have driven stages on this thread
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.FLOAT, 4);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).offHeapGcBudget(0)
                .build()) {
            w.fit(Iris.iterator(50, DataType.FLOAT));      // warm up
            int fits = 6;
            long before = fullCollections();
            for (int i = 0; i < fits; i++) {
                w.fit(Iris.iterator(50, DataType.FLOAT));
            }
            long full = fullCollections() - before;
            assertTrue(full < fits, full + " full collections in " + fits + " fits of 3 stages (3 per fit when each stage"
                    + " thread's exit forces one)");
            assertEquals(0, org.nd4j.linalg.factory.Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread().stream()
                    .filter(ws -> ws.getId().startsWith("ASYNC_PIPELINE")).count(), "no stage workspace on the caller");
        }
    }
}
