package io.asyncpipeline;

import io.asyncpipeline.runtime.MemoryPacer;

/**
 * The pipeline's off-heap memory pacing, for training loops the pipeline does not run: plain {@code net.fit},
 * {@code graph.fit} or {@code sd.fit}, evaluation, inference. ND4J frees an array's native memory only when the
 * JVM collects its Java handle, and a large, quiet heap may not collect for gigabytes; glibc then keeps the freed
 * blocks resident. While the guard is open, a daemon thread asks for a collection whenever the process's
 * physical memory has grown by more than the budget, and trims the C heap after it, keeping its own share of the
 * time to about 5 %. It is what every {@link AsyncPipelineWrapper#fit} does inside (see
 * {@link PipelineBuilder#offHeapGcBudget}).
 *
 * <pre>{@code
 * try (NativeMemoryGuard guard = NativeMemoryGuard.open()) {
 *     sd.fit(trainData, epochs);
 * }
 * }</pre>
 */
public final class NativeMemoryGuard implements AutoCloseable {

    /** The budget {@link #open()} uses, as the pipeline's default: 64 MiB. */
    public static final long DEFAULT_BUDGET = 64L << 20;

    private final MemoryPacer pacer;

    private NativeMemoryGuard(MemoryPacer pacer) {
        this.pacer = pacer;
    }

    /** A guard with the {@linkplain #DEFAULT_BUDGET default budget}. */
    public static NativeMemoryGuard open() {
        return open(DEFAULT_BUDGET);
    }

    /**
     * A guard that collects whenever physical memory has grown by more than {@code budgetBytes}.
     *
     * @throws IllegalArgumentException if the budget is not positive
     */
    public static NativeMemoryGuard open(long budgetBytes) {
        if (budgetBytes <= 0) {
            throw new IllegalArgumentException("budgetBytes must be > 0, got " + budgetBytes);
        }
        return new NativeMemoryGuard(MemoryPacer.start(budgetBytes));
    }

    /** Collections the guard has asked for so far. */
    public int collections() {
        return pacer.collections();
    }

    /** Trims of the C heap so far. */
    public int trims() {
        return pacer.trims();
    }

    /** Time spent in those collections and trims, in nanoseconds. */
    public long overheadNanos() {
        return pacer.collectionNanos();
    }

    /** Stops the guard's thread. */
    @Override
    public void close() {
        pacer.close();
    }
}
