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
 * <p>While a guard is open, SameDiff sessions created in this JVM (each {@code sd.fit} creates one) free the
 * intermediate arrays they release at once, instead of keeping them in SameDiff's array cache, which holds up to a
 * quarter of JavaCPP's {@code maxBytes} (1.5 GB with a 6 GB heap). The guard does this with SameDiff's own switch, the
 * system property {@value #SAMEDIFF_CACHE_PROPERTY} set to {@code false}, and restores it when the last open guard
 * closes; a value the user set is left alone. The arrays and the results are the same either way (a freed array
 * is one SameDiff released, after its last reader ran).
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

    /**
     * SameDiff's switch for its array cache ({@code ND4JSystemProperties.SAMEDIFF_MEMORY_CACHE_DISABLE}; despite the
     * constant's name, {@code false} turns the cache off).
     */
    public static final String SAMEDIFF_CACHE_PROPERTY = "org.nd4j.autodiff.samediff";

    private static final Object SCOPE = new Object();
    private static int open;
    private static boolean setByGuard;

    private final MemoryPacer pacer;
    private boolean closed;

    private NativeMemoryGuard(MemoryPacer pacer) {
        this.pacer = pacer;
        synchronized (SCOPE) {
            if (open++ == 0 && System.getProperty(SAMEDIFF_CACHE_PROPERTY) == null) {
                System.setProperty(SAMEDIFF_CACHE_PROPERTY, "false");
                setByGuard = true;
            }
        }
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

    /**
     * What the memory pacing of this JVM has done so far, across every guard and every pipeline {@code fit}.
     *
     * @param collections         collections it asked for
     * @param steadyLevelCycles   of those, the ones asked for because the resident size held above what the last trim
     *                            left, rather than because it grew past the budget
     * @param trims               trims of the C heap
     * @param trimmedBytes        resident bytes the trims returned to the operating system
     * @param overheadNanos       time spent in those collections and trims
     */
    public record Activity(long collections, long steadyLevelCycles, long trims, long trimmedBytes, long overheadNanos) {
    }

    /** What the memory pacing of this JVM (every guard and every pipeline fit) has done so far. */
    public static Activity activity() {
        long[] t = MemoryPacer.totals();
        return new Activity(t[0], t[1], t[2], t[3], t[4]);
    }

    /** Stops the guard's thread; the last open guard gives SameDiff's cache switch back. */
    @Override
    public void close() {
        synchronized (SCOPE) {
            if (closed) {
                return;
            }
            closed = true;
            if (--open == 0 && setByGuard) {
                System.clearProperty(SAMEDIFF_CACHE_PROPERTY);
                setByGuard = false;
            }
        }
        pacer.close();
    }
}
