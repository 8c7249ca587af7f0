package io.asyncpipeline.runtime;

import org.bytedeco.javacpp.Pointer;

/**
 * Keeps off-heap garbage in check while stages run. Stage layers run without DL4J's activation
 * workspaces (their arrays cross threads), so every micro-batch leaves detached arrays whose native
 * memory is freed only when the JVM collects their small Java handles — which a large, quiet heap may
 * not do for many gigabytes (ND4J's buffers are freed by its own deallocator service, which JavaCPP's limits
 * do not see). The pacer watches the process's physical memory and asks for a collection whenever it has grown
 * by more than a budget since the last one.
 *
 * <p>A requested collection is a full one, and its cost grows with the live heap: cheap in a small training
 * program, seconds in a large application. So the pacer also keeps its own share of the time bounded: after a
 * collection that took d, it waits at least {@value #WAIT_FACTOR}·d before the next one (at most about 5 % of
 * the time spent collecting), whatever the budget says.
 */
final class MemoryPacer implements AutoCloseable {

    private static final long POLL_MILLIS = 50;
    /** After a collection of duration d, the next waits at least this many times d. */
    static final int WAIT_FACTOR = 19;

    private final long budget;
    private final Thread thread;
    private volatile boolean stop;
    private volatile int collections;
    private volatile long collectionNanos;
    /**
     * When the next requested collection may start (System.nanoTime), shared by every pacer of this JVM: a full
     * collection's cost is a property of the whole heap, and runs (epochs) follow each other quickly.
     */
    private static final java.util.concurrent.atomic.AtomicLong NEXT_ALLOWED =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime());

    private MemoryPacer(long budget) {
        this.budget = budget;
        this.thread = new Thread(this::loop, "async-pipeline-memory-pacer");
        thread.setDaemon(true);
    }

    /** Starts a pacer with the given budget in bytes; 0 or less returns one that does nothing. */
    static MemoryPacer start(long budget) {
        MemoryPacer p = new MemoryPacer(budget);
        if (budget > 0) {
            p.thread.start();
        }
        return p;
    }

    private void loop() {
        long baseline = Pointer.physicalBytes();
        while (!stop) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            long now = Pointer.physicalBytes();
            if (!stop && now - baseline > budget && System.nanoTime() - NEXT_ALLOWED.get() >= 0) {
                long t0 = System.nanoTime();
                System.gc();
                long took = System.nanoTime() - t0;
                NEXT_ALLOWED.set(System.nanoTime() + WAIT_FACTOR * took);
                collectionNanos += took;
                collections++;
                baseline = Math.min(now, Pointer.physicalBytes());
            } else if (now < baseline) {
                baseline = now;
            }
        }
    }

    /** Time spent in requested collections so far. */
    long collectionNanos() {
        return collectionNanos;
    }

    /** Collections requested so far. */
    int collections() {
        return collections;
    }

    @Override
    public void close() {
        stop = true;
        thread.interrupt();
    }
}
