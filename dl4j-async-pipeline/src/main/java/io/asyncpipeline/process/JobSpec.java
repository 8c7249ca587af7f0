package io.asyncpipeline.process;

import io.asyncpipeline.transport.BoundaryCompression;
import io.asyncpipeline.model.PipelineOptions;
import io.asyncpipeline.runtime.RunSettings;
import io.asyncpipeline.schedule.Schedules;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * What a stage host needs, besides the model, to build exactly the stages the coordinator built: the cuts as the
 * coordinator chose them (so no host balances on its own), and every option that changes the numbers, with the
 * seed, devices and thread count already resolved.
 *
 * @param partition  units per stage (MultiLayerNetwork, ComputationGraph), or null
 * @param cutAfter   SameDiff cut variables, or null
 * @param failOnNonFiniteScore the last stage's host stops the run on a NaN or infinite loss
 * @param compression how activations and gradients cross the stage boundaries
 * @param extraInFlight extra micro-batches in flight per cut (ASYNC_1F1B)
 */
record JobSpec(int stages, int[] partition, String[] cutAfter, String scheduleName, int microBatches,
               boolean weightStashing, int[] devices, long seed, boolean recompute, int ndThreadsPerStage,
               long offHeapGcBudget, Double delayAwareMomentum, Integer pipeMareIterations,
               Map<Integer, IUpdater> stageUpdaters, Double gradientClipNorm, boolean failOnNonFiniteScore,
               BoundaryCompression compression, int extraInFlight) {

    /** The job of a pipeline the coordinator built from {@code options}, which resolved to {@code settings}. */
    static JobSpec of(PipelineOptions options, RunSettings settings, int stages, int[] partition, String[] cutAfter,
                      boolean failOnNonFiniteScore) {
        return new JobSpec(stages, partition, cutAfter, options.scheduleName(), options.microBatches(),
                options.weightStashing(), settings.devices(), settings.seed(), options.recompute(),
                settings.ndThreadsPerStage(), settings.offHeapGcBudget(), options.delayAwareMomentum(),
                options.pipeMareIterations(), options.stageUpdaters(), options.gradientClipNorm(), failOnNonFiniteScore,
                settings.compression(), options.schedule().extraInFlightPerCut());
    }

    /** The options a host builds its copy of the pipeline with. */
    PipelineOptions options() {
        return new PipelineOptions(partition == null && cutAfter == null ? stages : null, partition, cutAfter,
                scheduleName, Schedules.named(scheduleName, microBatches, extraInFlight), weightStashing, microBatches, devices, seed, false,
                recompute, ndThreadsPerStage, offHeapGcBudget, null, null, delayAwareMomentum, pipeMareIterations,
                stageUpdaters, 0, gradientClipNorm, compression);
    }

    void write(DataOutput out) throws IOException {
        out.writeInt(stages);
        writeInts(out, partition);
        writeStrings(out, cutAfter);
        out.writeUTF(scheduleName);
        out.writeInt(microBatches);
        out.writeBoolean(weightStashing);
        writeInts(out, devices);
        out.writeLong(seed);
        out.writeBoolean(recompute);
        out.writeInt(ndThreadsPerStage);
        out.writeLong(offHeapGcBudget);
        writeDouble(out, delayAwareMomentum);
        out.writeBoolean(pipeMareIterations != null);
        if (pipeMareIterations != null) {
            out.writeInt(pipeMareIterations);
        }
        Map<Integer, IUpdater> sorted = new TreeMap<>(stageUpdaters);
        out.writeInt(sorted.size());
        for (Map.Entry<Integer, IUpdater> e : sorted.entrySet()) {
            out.writeInt(e.getKey());
            byte[] json = NeuralNetConfiguration.mapper().writeValueAsBytes(e.getValue());
            out.writeInt(json.length);
            out.write(json);
        }
        writeDouble(out, gradientClipNorm);
        out.writeBoolean(failOnNonFiniteScore);
        out.writeUTF(compression.name());
        out.writeInt(extraInFlight);
    }

    static JobSpec read(DataInput in) throws IOException {
        int stages = in.readInt();
        int[] partition = readInts(in);
        String[] cutAfter = readStrings(in);
        String scheduleName = in.readUTF();
        int microBatches = in.readInt();
        boolean stashing = in.readBoolean();
        int[] devices = readInts(in);
        long seed = in.readLong();
        boolean recompute = in.readBoolean();
        int threads = in.readInt();
        long budget = in.readLong();
        Double momentum = readDouble(in);
        Integer pipeMare = in.readBoolean() ? in.readInt() : null;
        int n = Control.count(in.readInt(), "stage updaters");
        Map<Integer, IUpdater> updaters = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            int stage = in.readInt();
            byte[] json = new byte[Control.count(in.readInt(), "updater JSON bytes")];
            in.readFully(json);
            updaters.put(stage, NeuralNetConfiguration.mapper().readValue(json, IUpdater.class));
        }
        Double clip = readDouble(in);
        boolean failOnNaN = in.readBoolean();
        String compression = in.readUTF();
        BoundaryCompression boundaries;
        try {
            boundaries = BoundaryCompression.valueOf(compression);
        } catch (IllegalArgumentException e) {
            throw new IOException("unknown boundary compression '" + compression + "'", e);
        }
        int extra = in.readInt();
        if (extra < 0 || extra > Schedules.MAX_EXTRA_IN_FLIGHT) {
            throw new IOException("extra micro-batches in flight per cut: " + extra + " (0.." + Schedules.MAX_EXTRA_IN_FLIGHT
                    + ")");
        }
        return new JobSpec(stages, partition, cutAfter, scheduleName, microBatches, stashing, devices, seed, recompute,
                threads, budget, momentum, pipeMare, updaters, clip, failOnNaN, boundaries, extra);
    }

    private static void writeInts(DataOutput out, int[] a) throws IOException {
        out.writeInt(a == null ? -1 : a.length);
        if (a != null) {
            for (int v : a) {
                out.writeInt(v);
            }
        }
    }

    private static int[] readInts(DataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        int[] a = new int[Control.count(n, "ints")];
        for (int i = 0; i < n; i++) {
            a[i] = in.readInt();
        }
        return a;
    }

    private static void writeStrings(DataOutput out, String[] a) throws IOException {
        out.writeInt(a == null ? -1 : a.length);
        if (a != null) {
            for (String s : a) {
                out.writeUTF(s);
            }
        }
    }

    private static String[] readStrings(DataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        String[] a = new String[Control.count(n, "strings")];
        for (int i = 0; i < n; i++) {
            a[i] = in.readUTF();
        }
        return a;
    }

    private static void writeDouble(DataOutput out, Double d) throws IOException {
        out.writeBoolean(d != null);
        if (d != null) {
            out.writeDouble(d);
        }
    }

    private static Double readDouble(DataInput in) throws IOException {
        return in.readBoolean() ? in.readDouble() : null;
    }
}
