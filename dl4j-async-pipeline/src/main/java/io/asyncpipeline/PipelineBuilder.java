package io.asyncpipeline;

import io.asyncpipeline.model.PipelineOptions;
import io.asyncpipeline.transport.BoundaryCompression;
import io.asyncpipeline.transport.InJvmTransport;
import io.asyncpipeline.transport.Transport;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Options shared by every wrapper builder. Values are checked in {@code build()}, which throws
 * {@link IllegalArgumentException} naming the option and what to change.
 *
 * @param <B> the concrete builder
 */
public abstract class PipelineBuilder<B extends PipelineBuilder<B>> {

    /** Default of {@link #timelineSpanLimit(int)}: spans kept per stage (about 2.5 MB per stage when full). */
    public static final int DEFAULT_TIMELINE_SPAN_LIMIT = 100_000;

    Integer stages;
    int[] partition;
    String[] cutAfter;
    Schedule schedule = Schedule.ASYNC_1F1B;
    boolean weightStashing = true;
    int microBatches = 4;
    int extraInFlight;
    int[] devices;
    Long seed;
    boolean replay;
    boolean recompute;
    boolean failOnNonFiniteScore = true;
    Integer ndThreadsPerStage;
    long offHeapGcBudget = 64L << 20;
    DataSet profileSample;
    MultiDataSet profileMultiSample;
    Double delayAwareMomentum;
    Integer pipeMareIterations;
    final Map<Integer, IUpdater> stageUpdaters = new HashMap<>();
    Transport transport = new InJvmTransport();
    StageProcesses processes;
    boolean recordTimeline;
    Double gradientClipNorm;
    int timelineSpanLimit = DEFAULT_TIMELINE_SPAN_LIMIT;
    BoundaryCompression boundaryCompression = BoundaryCompression.NONE;

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** Number of stages P, with an automatically balanced partition. Default: 2. */
    public B stages(int stages) {
        this.stages = stages;
        return self();
    }

    /**
     * Explicit partition: the number of layers in each stage, first to last (for a ComputationGraph: the
     * number of vertices, network inputs not counted, in the graph's topological order).
     */
    public B partition(int... layersPerStage) {
        this.partition = layersPerStage == null ? null : layersPerStage.clone();
        return self();
    }

    /** The schedule. Default: {@link Schedule#ASYNC_1F1B}. */
    public B schedule(Schedule schedule) {
        this.schedule = schedule;
        return self();
    }

    /** Asynchronous schedule only: backward on the forward's weight version (true, default) or the current one. */
    public B weightStashing(boolean weightStashing) {
        this.weightStashing = weightStashing;
        return self();
    }

    /**
     * ASYNC_1F1B only: {@code e} extra micro-batches in flight per cut, for stages joined by slow links. With the
     * default ({@code e = 0}) stage 0 of P keeps P micro-batches in flight, so a link waits while the stages compute
     * whenever a round trip (activations across, the later stages' compute, gradients back) takes longer than a
     * stage's step. Each extra micro-batch per cut fills that wait, at a price: stage k's weights become
     * {@code τ_k = (1 + e)(P - 1 - k)} updates stale instead of {@code P - 1 - k}, and it holds {@code τ_k + 1}
     * activations and weight stashes. The delay-corrected updaters and the §5 settings take the larger τ_k; the
     * single-threaded replay runs the same plan, so threads, stage processes and the replay still agree bit for bit.
     * Default: 0, range 0..64. A synchronous schedule with {@code e > 0} is refused at {@code build()}.
     */
    public B extraInFlight(int perCut) {
        this.extraInFlight = perCut;
        return self();
    }

    /** Synchronous schedules: micro-batches M per mini-batch; must divide every batch size. Default: 4. */
    public B microBatches(int microBatches) {
        this.microBatches = microBatches;
        return self();
    }

    /** ND4J device of each stage. Default: stage k on device k mod (device count); on CPU all are 0. */
    public B devices(int... devices) {
        this.devices = devices == null ? null : devices.clone();
        return self();
    }

    /** Base seed of the per-micro-batch RNG (dropout). Default: the network's configured seed. */
    public B seed(long seed) {
        this.seed = seed;
        return self();
    }

    /**
     * Recompute each micro-batch's stage forward before its backward instead of keeping one copy of the
     * stage's layer state per micro-batch in flight. Saves activation memory, costs one extra forward on
     * most backwards. Results are the same bits either way. Default: false (keep activations).
     */
    public B recomputeActivations(boolean recompute) {
        this.recompute = recompute;
        return self();
    }

    /** Run every stage in the calling thread, in schedule order (same numbers as threaded; for debugging and tests). */
    public B singleThreadedReplay(boolean replay) {
        this.replay = replay;
        return self();
    }

    /** Stop with {@link NonFiniteScoreException} when the loss is NaN or infinite. Default: true. */
    public B failOnNonFiniteScore(boolean fail) {
        this.failOnNonFiniteScore = fail;
        return self();
    }

    /** ND4J intra-op threads while fitting; 0 leaves ND4J alone. Default: max(1, cores / P) when P > 1. */
    public B ndThreadsPerStage(int threads) {
        this.ndThreadsPerStage = threads;
        return self();
    }

    /**
     * Physical-memory growth (bytes) after which the pipeline asks the JVM for a garbage collection, and then
     * trims the C heap, to return the native memory of dead arrays (activations that cross stages, DL4J layer
     * outputs) to the system. The pacer keeps its share of the time near 5 % whatever the budget. Default:
     * 64 MiB; 0 disables. See {@link NativeMemoryGuard} for the same pacing around a plain {@code fit}, and the
     * README's Memory section for the measurements.
     */
    public B offHeapGcBudget(long bytes) {
        this.offHeapGcBudget = bytes;
        return self();
    }

    /**
     * MultiLayerNetwork / ComputationGraph: balance stages by measured per-layer (per-vertex) forward+backward
     * time on this sample, else by parameter count; for a graph the DataSet feeds its one input and one output.
     * SameDiff: check the sample's feature and label shapes against the placeholders at {@code build()}, and
     * estimate op costs on it when balancing automatically.
     */
    public B profileWith(DataSet sample) {
        this.profileSample = sample;
        this.profileMultiSample = null;
        return self();
    }

    /**
     * Balance a ComputationGraph's stages by measured per-vertex forward+backward time on this sample
     * (features in input order, labels in output order, masks optional), else by parameter count.
     */
    public B profileWith(MultiDataSet sample) {
        this.profileMultiSample = sample;
        this.profileSample = null;
        return self();
    }

    /** Delay-aware momentum γ_k = γ_0 + τ_k (0.99 - γ_0) / P on every stage (method.md §5). */
    public B delayAwareMomentum(double gamma0) {
        this.delayAwareMomentum = gamma0;
        return self();
    }

    /** PipeMare learning-rate correction η / τ_k^ρ(t), annealed away over {@code annealIterations} (method.md §5). */
    public B pipeMareLearningRate(int annealIterations) {
        this.pipeMareIterations = annealIterations;
        return self();
    }

    /** A stage-specific updater for every layer of stage k (applies during fit; see README). */
    public B stageUpdater(int stage, IUpdater updater) {
        this.stageUpdaters.put(stage, updater);
        return self();
    }

    /**
     * Clips each stage's gradient to L2 norm {@code maxNorm} before its update: when the norm of the step's gradient
     * over all of the stage's trainable variables exceeds {@code maxNorm}, every variable's gradient is scaled by
     * {@code maxNorm / norm} (the paper's code clips at 10). The norm is per stage, not over the whole model: a stage
     * of an asynchronous pipeline updates with a gradient the other stages compute at other times, so a norm over
     * all of them does not exist at that moment. SameDiff models only; a MultiLayerNetwork or ComputationGraph clips
     * with DL4J's own per-layer {@code gradientNormalization(GradientNormalization.ClipL2PerLayer)}, which its
     * stages honour. Default: no clipping ({@code GPIPE} then equals {@code sd.fit}, which cannot clip).
     */
    public B clipGradientNorm(double maxNorm) {
        this.gradientClipNorm = maxNorm;
        return self();
    }

    /**
     * How neighbouring stages exchange activations and gradients. Default: {@link InJvmTransport} (stages
     * are threads of this JVM). {@link io.asyncpipeline.transport.SerialisingTransport} copies every message
     * through bytes, as a transport between processes does, and trains to the same bits.
     */
    public B transport(Transport transport) {
        this.transport = transport;
        return self();
    }

    /**
     * Rounds the activations and gradients that cross every stage boundary to a smaller type
     * ({@link BoundaryCompression#FP16}, {@link BoundaryCompression#BF16}, or {@link BoundaryCompression#INT8} with a
     * scale per tensor), halving or quartering the bytes stage processes send each other. The same rounding happens
     * in threads and in the single-threaded replay, so runs stay comparable bit for bit; the numbers differ from an
     * uncompressed run (GPIPE no longer equals {@code fit}). Default: {@link BoundaryCompression#NONE}.
     */
    public B boundaryCompression(BoundaryCompression compression) {
        if (compression == null) {
            throw new IllegalArgumentException("boundaryCompression(null): give NONE to send the tensors as they are");
        }
        this.boundaryCompression = compression;
        return self();
    }

    /**
     * Runs the stages in separate processes ({@link StageProcesses#local(int)} starts them on this host,
     * {@link StageProcesses#peers(String)} reaches processes started by hand) instead of threads of this JVM. Without
     * {@link #stages(int)}, {@link #partition(int...)} or a cut list, the pipeline has one stage per process. Not
     * with {@link #singleThreadedReplay(boolean)}, {@link #transport(Transport)} or {@link #recordTimeline(boolean)}.
     * Close the wrapper to stop local processes. Default: none (stages are threads).
     */
    public B processes(StageProcesses processes) {
        this.processes = processes;
        return self();
    }

    /**
     * Record every stage's timeline during each {@code fit}: its forwards, recomputes, backwards, updates, stage 0's
     * reads from the iterator, and its waits on the channels. Read it after the fit with
     * {@code metrics().timeline()}: {@code writeChromeTrace(path)} writes a trace for ui.perfetto.dev or
     * {@code chrome://tracing}, {@code render(columns)} draws it as text. Recording costs two clock reads per
     * channel hand-off and about 25 bytes per span, kept per stage without locks, at most
     * {@link #timelineSpanLimit(int)} per stage. Default: false.
     */
    public B recordTimeline(boolean record) {
        this.recordTimeline = record;
        return self();
    }

    /**
     * With {@link #recordTimeline(boolean)}: the most spans kept per stage in one fit (later ones are counted as
     * dropped, and the trace says so). Must be at least 1. Default: {@value #DEFAULT_TIMELINE_SPAN_LIMIT}, room for a
     * few thousand micro-batches per stage (an op is one span, a wait on a channel another).
     */
    public B timelineSpanLimit(int spansPerStage) {
        this.timelineSpanLimit = spansPerStage;
        return self();
    }

    /** The options as plain data for a model setup, after the checks that need no model. */
    PipelineOptions options() {
        if (schedule == null) {
            throw new IllegalArgumentException("schedule is null: use Schedule.ASYNC_1F1B, GPIPE or ONE_F_ONE_B");
        }
        if (microBatches < 1) {
            throw new IllegalArgumentException("microBatches must be >= 1, got " + microBatches);
        }
        if (timelineSpanLimit < 1) {
            throw new IllegalArgumentException("timelineSpanLimit must be >= 1, got " + timelineSpanLimit
                    + " (leave recordTimeline(false) to record no timeline)");
        }
        if (transport == null) {
            throw new IllegalArgumentException("transport is null: leave it unset for the in-JVM default");
        }
        if (processes != null) {
            if (replay) {
                throw new IllegalArgumentException("singleThreadedReplay runs every stage in this thread; it cannot run"
                        + " with processes(...)");
            }
            if (!(transport instanceof InJvmTransport)) {
                throw new IllegalArgumentException("processes(...) joins its stages over gRPC itself; leave transport unset");
            }
            if (recordTimeline) {
                throw new IllegalArgumentException("recordTimeline is not supported with processes(...) yet");
            }
        }
        if (gradientClipNorm != null && !(gradientClipNorm > 0 && gradientClipNorm < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("clipGradientNorm must be a positive, finite norm, got "
                    + gradientClipNorm);
        }
        for (Map.Entry<Integer, IUpdater> e : stageUpdaters.entrySet()) {
            if (e.getValue() == null) {
                throw new IllegalArgumentException("stageUpdater(" + e.getKey() + ", null): give an updater");
            }
        }
        Integer p = stages;
        if (processes != null && stages == null && partition == null && cutAfter == null) {
            p = processes.count();
        }
        return new PipelineOptions(p, partition, cutAfter, schedule.name(),
                schedule.generator(microBatches, extraInFlight), weightStashing, microBatches, devices, seed, replay, recompute,
                ndThreadsPerStage, offHeapGcBudget, profileSample, profileMultiSample, delayAwareMomentum,
                pipeMareIterations, stageUpdaters, recordTimeline ? timelineSpanLimit : 0, gradientClipNorm,
                boundaryCompression);
    }
}
