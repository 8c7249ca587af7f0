package io.asyncpipeline.process;

import io.asyncpipeline.model.PipelineOptions;
import io.asyncpipeline.runtime.PipelineModel;
import io.asyncpipeline.runtime.RunSettings;

/**
 * Where a pipeline's stages go when they run in stage processes: which host runs which stages, the job every host
 * gets, and the processes themselves (started here by {@link LocalLauncher}, or reached as peers).
 */
public final class RemoteStages {

    private RemoteStages() {
    }

    /**
     * Starts (or reaches) the stage processes of {@code launch} and returns the engine that trains {@code local}'s
     * stages on them: host h runs a contiguous share of the P stages, the first hosts one more when P is not a
     * multiple of the process count.
     *
     * @param userModel the user's MultiLayerNetwork, ComputationGraph or SameDiff, serialised at every fit
     */
    public static RemoteEngine start(Launch launch, PipelineModel local, RunSettings settings,
                                     PipelineOptions options, boolean failOnNonFiniteScore,
                                     Object userModel) {
        int p = local.stages().size();
        int h = launch.local() ? launch.count() : launch.addresses().size();
        if (h < 1) {
            throw new IllegalArgumentException("no stage processes");
        }
        if (p < h) {
            throw new IllegalArgumentException(h + " stage processes for " + p + " stages: every process runs at"
                    + " least one stage (use stages(" + h + ") or fewer processes)");
        }
        ShippedModel.requireShippable(userModel);
        boolean samediff = "ops".equals(local.unit());
        JobSpec spec = JobSpec.of(options, settings, p, samediff ? null : local.partition(),
                samediff ? local.cutAfter().toArray(new String[0]) : null, failOnNonFiniteScore);
        int[] first = new int[h];
        int[] count = new int[h];
        for (int i = 0, next = 0; i < h; i++) {
            first[i] = next;
            count[i] = p / h + (i < p % h ? 1 : 0);
            next += count[i];
        }
        if (launch.local()) {
            LocalLauncher l = LocalLauncher.start(launch);
            try {
                return new RemoteEngine(local, settings, spec, () -> ShippedModel.of(userModel), l.addresses(), first,
                        count, l.token(), launch.tls(), launch.connectTimeout(), l);
            } catch (RuntimeException e) {
                l.close();
                throw e;
            }
        }
        if (launch.token() == null || launch.token().isEmpty()) {
            throw new IllegalArgumentException("stage processes started by hand need the access token they were started"
                    + " with: StageProcesses.peers(...).token(...)");
        }
        return new RemoteEngine(local, settings, spec, () -> ShippedModel.of(userModel), launch.addresses(), first,
                count, launch.token(), launch.tls(), launch.connectTimeout(), null);
    }

}
