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
        if (launch.local() && launch.firstHere()) {
            return startFirstHere(launch, local, settings, spec, userModel, first, count);
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


    /** Process 0 as a stage host in this JVM, the others started by a launcher, all on one token. */
    private static RemoteEngine startFirstHere(Launch launch, PipelineModel local, RunSettings settings, JobSpec spec,
                                               Object userModel, int[] first, int[] count) {
        String token = launch.token() != null ? launch.token() : StageHost.randomToken();
        LocalLauncher l = launch.count() > 1 ? LocalLauncher.start(launch.startedJvms(token)) : null;
        StageHost here;
        try {
            here = StageHost.start("127.0.0.1", 0, token, launch.tls());
        } catch (RuntimeException e) {
            if (l != null) {
                l.close();
            }
            throw e;
        }
        java.util.List<String> addresses = new java.util.ArrayList<>();
        addresses.add("127.0.0.1:" + here.port());
        if (l != null) {
            addresses.addAll(l.addresses());
        }
        AutoCloseable stop = () -> {
            try {
                if (l != null) {
                    l.close();
                }
            } finally {
                here.close();
            }
        };
        try {
            return new RemoteEngine(local, settings, spec, () -> ShippedModel.of(userModel), addresses, first, count,
                    token, launch.tls(), launch.connectTimeout(), stop);
        } catch (RuntimeException e) {
            try {
                stop.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }
}
