package io.asyncpipeline.testdata;

import java.util.ArrayList;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.MemoryWorkspaceManager;
import org.nd4j.linalg.factory.Nd4j;

/** For tests that drive stage computations on the test thread itself. */
public final class StageThreadState {

    private StageThreadState() {
    }

    /** Frees the stage workspaces of the calling thread, as a stage thread does when it ends. */
    public static void freeStageWorkspaces() {
        MemoryWorkspaceManager m = Nd4j.getWorkspaceManager();
        for (MemoryWorkspace ws : new ArrayList<>(m.getAllWorkspacesForCurrentThread())) {
            if (ws.getId().startsWith("ASYNC_PIPELINE")) {
                m.destroyWorkspace(ws);
            }
        }
    }
}
