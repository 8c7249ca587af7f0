package io.asyncpipeline.runtime;

import org.bytedeco.javacpp.Pointer;

/**
 * Keeps off-heap garbage in check while stages run. Some arrays of a micro-batch are still detached garbage
 * (activations that cross to another stage thread, DL4J layer outputs): their native memory is freed only when
 * the JVM collects their small Java handles, which a large, quiet heap may not do for many gigabytes (ND4J's
 * buffers are freed by its own deallocator service, which JavaCPP's limits do not see). The pacer watches the
 * process's physical memory and asks for a collection whenever it has grown by more than a budget since the
 * last one.
 *
 * <p>Freed is not yet returned: glibc keeps freed blocks of its arenas mapped, and after many threads
 * have allocated and freed buffers of many sizes the resident size keeps the high-water mark of the garbage.
 * So {@link #TRIM_DELAY_NANOS} after a collection (time for ND4J's deallocator threads to free what it
 * found) the pacer may trim the C heap with JavaCPP's own {@code Pointer.trimMemory()}, the
 * {@code malloc_trim(0)} JavaCPP calls itself when its {@code maxPhysicalBytes} is exceeded. Measured on the
 * 8-stage transformer: peak resident 0.95 GB with trimming, 1.46 GB and rising without it, 1.84 GB and
 * rising without the pacer.
 *
 * <p>A trim is not free: it walks every arena under its lock, and each page it returns is faulted in (and zeroed by
 * the kernel) again when the next micro-batch allocates. Trimming after every collection cost the benchmark's CNN
 * 10-12 % of its throughput (GPIPE 105 against 117-118 examples/s, ASYNC_1F1B 115 against 128-131 with the same
 * collections and no trim). So a trim is charged its cost, its own time plus {@link #REFAULT_NANOS_PER_BYTE} for
 * every byte it returned, and the next one waits {@value #WAIT_FACTOR} times that (at most about 5 % of the time
 * in trims and their refaults), and only runs when the resident size is {@link #TRIM_SLACK_BYTES} past what the
 * last trim left. A model that returns little per trim is trimmed often; one that returns a gigabyte, rarely.
 *
 * <p>A requested collection is a full one, and its cost grows with the live heap: cheap in a small training
 * program, seconds in a large application. So the pacer also keeps its own share of the time bounded: after a
 * collection that took d, it waits at least {@value #WAIT_FACTOR}·d before the next one (at most about 5 % of the
 * time in collections), whatever the budget says. The trim's time does not count towards that wait: it grows with
 * the garbage freed since the last trim, so counting it made the pacer wait longer the faster garbage piled up
 * (plain {@code sd.fit} of the transformer at batch 64: trims of 230 ms, collections every 5.5 s, peak 4.8 GB;
 * not counted: trims of 30-80 ms, collections every 1.3 s, peak 2.4 GB, at the same speed).
 *
 * <p>Growth alone does not catch a level that rose once and then held: once glibc's arenas keep enough freed memory
 * to serve every micro-batch, the resident size stops growing and no collection or trim is ever asked for again
 * (plain {@code sd.fit} of the transformer at batch 64 stepped up by about 100 MB after 1,750 steps and sat there for
 * the remaining 4,000). So a <em>steady-level</em> cycle runs too: when the resident size has stayed more than
 * {@link #TRIM_SLACK_BYTES} above what the last trim of this JVM left for {@link #STEADY_NANOS} without a
 * collection, the pacer collects and trims once, under the same cost rules. If the level is live memory the trim
 * returns little and the floor moves up to it, so the cycle does not repeat until the level rises again.
 */
public final class MemoryPacer implements AutoCloseable {

    private static final long POLL_MILLIS = 50;
    /** From a collection to the trim that returns what it freed. */
    static final long TRIM_DELAY_NANOS = 200_000_000L;
    /** After a collection of duration d, the next waits at least this many times d. */
    static final int WAIT_FACTOR = 19;
    /** A trim is worth its cost only when the resident size has grown this much since the last one left it. */
    static final long TRIM_SLACK_BYTES = 32L << 20;
    /**
     * What faulting a returned page back in costs, per byte: the kernel maps and zeroes it when the next allocation
     * touches it. Measured on the 2-core machine: 256 MiB of fresh direct memory touched in 150-270 ms (1.0-1.8 GB/s).
     */
    static final double REFAULT_NANOS_PER_BYTE = 0.7;
    /** How long the resident size must sit above the last trim's floor, with no collection, for a steady-level cycle. */
    static final long STEADY_NANOS = 30_000_000_000L;
    /**
     * The lowest resident size seen since the last trim of this JVM, starting from what that trim left (0: no trim
     * yet): a trim runs only {@link #TRIM_SLACK_BYTES} above it, and the steady-level cycle aims at it.
     */
    private static final java.util.concurrent.atomic.AtomicLong TRIMMED_TO = new java.util.concurrent.atomic.AtomicLong();
    /** What every pacer of this JVM has done: collections, steady-level cycles, trims, bytes trims returned, nanos. */
    private static final java.util.concurrent.atomic.AtomicLongArray TOTALS = new java.util.concurrent.atomic.AtomicLongArray(5);
    /**
     * When the next trim may start (System.nanoTime), shared by every pacer of the JVM: after a trim of cost c (its
     * time plus the refaults of what it returned) the next waits {@value #WAIT_FACTOR}·c, as collections do.
     */
    private static final java.util.concurrent.atomic.AtomicLong NEXT_TRIM =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime());

    private final long budget;
    private final long steadyNanos;
    private final Thread thread;
    private volatile boolean stop;
    private volatile int collections;
    private volatile int trims;
    private volatile long collectionNanos;
    /**
     * When the next requested collection may start (System.nanoTime), shared by every pacer of this JVM: a full
     * collection's cost is a property of the whole heap, and runs (epochs) follow each other quickly.
     */
    private static final java.util.concurrent.atomic.AtomicLong NEXT_ALLOWED =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime());

    private MemoryPacer(long budget, long steadyNanos) {
        this.budget = budget;
        this.steadyNanos = steadyNanos;
        this.thread = new Thread(this::loop, "async-pipeline-memory-pacer");
        thread.setDaemon(true);
    }

    /** Lets the next pacer collect at once, whatever the last collection cost (tests start from a known state). */
    static void allowNow() {
        NEXT_ALLOWED.set(System.nanoTime());
        NEXT_TRIM.set(System.nanoTime());
        TRIMMED_TO.set(0);
    }

    /** Starts a pacer with the given budget in bytes; 0 or less returns one that does nothing. */
    public static MemoryPacer start(long budget) {
        return start(budget, STEADY_NANOS);
    }

    /** As {@link #start(long)}, with the steady-level cycle after {@code steadyNanos} (tests use a short one). */
    static MemoryPacer start(long budget, long steadyNanos) {
        MemoryPacer p = new MemoryPacer(budget, steadyNanos);
        if (budget > 0) {
            p.thread.start();
        }
        return p;
    }

    private void loop() {
        long baseline = Pointer.physicalBytes();
        long trimAt = 0;            // when to trim after the last collection; 0: no trim pending
        long lastCollection = 0;
        long lastStart = 0;
        long quietSince = System.nanoTime();   // the last collection of this pacer, or its start
        while (!stop) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            long now = Pointer.physicalBytes();
            if (stop) {
                return;
            }
            // the floor is the lowest level seen since the last trim: memory returned some other way lowers it
            TRIMMED_TO.accumulateAndGet(now, (floor, level) -> floor > 0 ? Math.min(floor, level) : 0);
            long t = System.nanoTime();
            if (trimAt != 0 && t - trimAt >= 0) {
                trimAt = 0;
                long t0 = System.nanoTime();
                long before = Pointer.physicalBytes();
                if (t0 - NEXT_TRIM.get() >= 0 && before - TRIMMED_TO.get() > TRIM_SLACK_BYTES && NativeTrim.trim()) {
                    trims++;
                    long end = System.nanoTime();
                    long left = Pointer.physicalBytes();
                    TRIMMED_TO.set(left);
                    long released = Math.max(0, before - left);
                    // its cost: its own time, and faulting the pages it returned back in (paid by the stages later)
                    long cost = (end - t0) + (long) (released * REFAULT_NANOS_PER_BYTE);
                    NEXT_TRIM.set(end + WAIT_FACTOR * cost);
                    TOTALS.incrementAndGet(2);
                    TOTALS.addAndGet(3, released);
                    recordTrim(new Trim(t0, end, released, cost));
                }
                long took = System.nanoTime() - t0;
                collectionNanos += took;
                TOTALS.addAndGet(4, took);
                long end = System.nanoTime();
                // the wait scales with the collection only: a trim's cost grows with the garbage freed since the
                // last one, so counting it would wait longer the more garbage there is, and let yet more pile up
                NEXT_ALLOWED.set(end + WAIT_FACTOR * lastCollection);
                record(new Cycle(lastStart, lastCollection, took, end));
                baseline = Math.min(baseline, Pointer.physicalBytes());
            } else if (trimAt == 0 && t - NEXT_ALLOWED.get() >= 0
                    && (now - baseline > budget || steadyLevel(now, baseline, t - quietSince))) {
                if (now - baseline <= budget) {
                    TOTALS.incrementAndGet(1);
                }
                long t0 = System.nanoTime();
                System.gc();
                lastStart = t0;
                lastCollection = System.nanoTime() - t0;
                NEXT_ALLOWED.set(System.nanoTime() + WAIT_FACTOR * lastCollection);
                collectionNanos += lastCollection;
                collections++;
                TOTALS.incrementAndGet(0);
                TOTALS.addAndGet(4, lastCollection);
                baseline = Math.min(now, Pointer.physicalBytes());
                quietSince = System.nanoTime();
                trimAt = quietSince + TRIM_DELAY_NANOS;
            } else if (now < baseline) {
                baseline = now;
            }
        }
    }

    /**
     * Whether a level that has held should be collected and trimmed: no collection for {@link #steadyNanos}, a trim
     * may run now, and the resident size is more than {@link #TRIM_SLACK_BYTES} above what the last trim left (above
     * this pacer's lowest reading when no trim has run yet).
     */
    private boolean steadyLevel(long now, long baseline, long quietNanos) {
        if (quietNanos < steadyNanos || System.nanoTime() - NEXT_TRIM.get() < 0 || !NativeTrim.available()) {
            return false;
        }
        long floor = TRIMMED_TO.get();
        return now - (floor > 0 ? floor : baseline) > TRIM_SLACK_BYTES;
    }

    /**
     * What every pacer of this JVM (pipeline fits and {@code NativeMemoryGuard}s) has done so far: {@code [collections,
     * of which steady-level, trims, bytes the trims returned, nanoseconds in collections and trims]}.
     */
    public static long[] totals() {
        long[] out = new long[TOTALS.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = TOTALS.get(i);
        }
        return out;
    }

    /**
     * One collection and its trim (System.nanoTime values): the next collection may not start before
     * {@code end + WAIT_FACTOR * collection}.
     */
    record Cycle(long start, long collectionNanos, long trimNanos, long end) {
    }

    private static final int MAX_CYCLES = 64;
    private final java.util.ArrayDeque<Cycle> cycles = new java.util.ArrayDeque<>();

    private synchronized void record(Cycle c) {
        if (cycles.size() == MAX_CYCLES) {
            cycles.removeFirst();
        }
        cycles.addLast(c);
    }

    /** One trim: when it ran (System.nanoTime), the bytes it returned, and the cost it was charged. */
    record Trim(long start, long end, long releasedBytes, long costNanos) {
    }

    private final java.util.ArrayDeque<Trim> trimHistory = new java.util.ArrayDeque<>();

    private synchronized void recordTrim(Trim t) {
        if (trimHistory.size() == MAX_CYCLES) {
            trimHistory.removeFirst();
        }
        trimHistory.addLast(t);
    }

    /** The last (up to 64) trims, oldest first. */
    synchronized java.util.List<Trim> trimHistory() {
        return java.util.List.copyOf(trimHistory);
    }

    /** The last (up to 64) completed collection-and-trim cycles, oldest first. */
    synchronized java.util.List<Cycle> cycles() {
        return java.util.List.copyOf(cycles);
    }

    /** Trims of the C heap so far (0 where {@link NativeTrim#available()} is false). */
    public int trims() {
        return trims;
    }

    /** Time spent in requested collections and trims so far. */
    public long collectionNanos() {
        return collectionNanos;
    }

    /** Collections requested so far. */
    public int collections() {
        return collections;
    }

    @Override
    public void close() {
        stop = true;
        thread.interrupt();
    }
}
