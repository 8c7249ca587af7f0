package io.asyncpipeline.runtime;

import org.bytedeco.javacpp.Pointer;

/**
 * Keeps off-heap garbage in check while stages run. Stage layers run without DL4J's activation
 * workspaces (their arrays cross threads), so every micro-batch leaves detached arrays whose native
 * memory is freed only when the JVM collects their small Java handles — which a large, quiet heap may
 * not do for many gigabytes. The pacer watches the process's physical memory and asks for a collection
 * whenever it has grown by more than a budget since the last one.
 */
final class MemoryPacer implements AutoCloseable {

    private static final long POLL_MILLIS = 50;

    private final long budget;
    private final Thread thread;
    private volatile boolean stop;
    private volatile int collections;

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
            if (now - baseline > budget) {
                System.gc();
                collections++;
                baseline = Math.min(now, Pointer.physicalBytes());
            } else if (now < baseline) {
                baseline = now;
            }
        }
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
