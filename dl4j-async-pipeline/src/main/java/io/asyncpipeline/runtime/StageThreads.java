package io.asyncpipeline.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that run the stages of threaded fits, kept between fits: stage k of the next fit runs on the thread that
 * ran stage k of the last one when that thread is idle, another idle thread otherwise, a new thread when none is idle.
 * A thread no fit needed for {@value #KEEP_ALIVE_MILLIS} ms ends.
 *
 * <p>Why: glibc's {@code malloc} gives each thread an arena, and an arena keeps the pages it once held for its thread
 * (fragmented, a trim returns only whole free pages). New stage threads for every fit were handed arenas no stage had
 * used before, each keeping a stage's working set: the CNN soak's resident size rose by ~50 MB at each of the first
 * fits (arenas found with {@code /proc/self/smaps}). The same threads keep the same arenas, and libgomp's worker
 * threads, which belong to the thread that calls into OpenMP, stay too.
 *
 * <p>A running thread is named {@code async-pipeline-stage-k}; an idle one {@value #IDLE_NAME}. Each task leaves
 * the thread as it found it: a stage worker frees its sessions and workspaces when its run ends, the interrupt flag
 * is cleared, and the context class loader is the caller's during a task and none between tasks. A thread inherits
 * no thread-locals from whoever created it. A task that throws (a stage worker reports its own failures, so that is a
 * bug) goes to the thread's uncaught-exception handler and the thread ends instead of serving another fit.
 */
final class StageThreads {

    static final long KEEP_ALIVE_MILLIS = 60_000;
    /** How long an idle thread waits for another fit (tests shorten it). */
    static volatile long keepAliveMillis = KEEP_ALIVE_MILLIS;
    static final String IDLE_NAME = "async-pipeline-idle-stage-thread";

    private static final Object LOCK = new Object();
    /** Idle carriers, most recently idle last. */
    private static final List<Carrier> IDLE = new ArrayList<>();
    private static final AtomicInteger CREATED = new AtomicInteger();

    private StageThreads() {
    }

    /** A started set of tasks; {@link #join} waits for them. */
    static final class Running {
        private final CountDownLatch done;

        private Running(int n) {
            this.done = new CountDownLatch(n);
        }

        /** Waits until every task has returned. */
        void join() throws InterruptedException {
            done.await();
        }

        /** Waits at most {@code millis}; true if every task has returned. */
        boolean join(long millis) throws InterruptedException {
            return done.await(millis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Runs {@code tasks.get(i)} as stage {@code stages[i]}, each on its own thread, with the caller's context class
     * loader.
     */
    static Running start(List<? extends Runnable> tasks, int[] stages) {
        if (tasks.size() != stages.length) {
            throw new IllegalArgumentException(tasks.size() + " tasks for " + stages.length + " stages");
        }
        Running running = new Running(tasks.size());
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        List<Carrier> carriers = new ArrayList<>();
        synchronized (LOCK) {
            try {
                for (int stage : stages) {
                    carriers.add(take(stage));
                }
            } catch (RuntimeException | Error e) {           // no thread for one stage: the others go back unused
                IDLE.addAll(carriers);
                throw e;
            }
        }
        for (int i = 0; i < tasks.size(); i++) {
            carriers.get(i).hand(new Task(tasks.get(i), stages[i], loader, running.done));
        }
        return running;
    }

    /** How many stage threads were ever started (tests). */
    static int created() {
        return CREATED.get();
    }

    /** An idle carrier that last ran {@code stage}, else the most recently idle one, else a new one (under LOCK). */
    private static Carrier take(int stage) {
        for (int i = IDLE.size() - 1; i >= 0; i--) {
            if (IDLE.get(i).lastStage == stage) {
                return IDLE.remove(i);
            }
        }
        if (!IDLE.isEmpty()) {
            return IDLE.remove(IDLE.size() - 1);
        }
        Carrier c = new Carrier();
        c.thread.start();
        return c;
    }

    private record Task(Runnable body, int stage, ClassLoader loader, CountDownLatch done) {
    }

    private static final class Carrier implements Runnable {
        private final LinkedBlockingQueue<Task> inbox = new LinkedBlockingQueue<>();
        private final Thread thread;
        private int lastStage = -1;      // guarded by LOCK

        Carrier() {
            // inherits no thread-locals from the caller that happens to create it; each task brings its loader
            thread = new Thread(null, this, IDLE_NAME, 0, false);
            thread.setDaemon(true);
            thread.setPriority(Thread.NORM_PRIORITY);
            thread.setContextClassLoader(null);
            CREATED.incrementAndGet();
        }

        void hand(Task t) {
            inbox.add(t);
        }

        @Override
        public void run() {
            while (true) {
                Task t = next();
                if (t == null) {
                    return;
                }
                boolean healthy = false;
                try {
                    Thread.interrupted();                                      // a task starts uninterrupted
                    thread.setName("async-pipeline-stage-" + t.stage());
                    thread.setContextClassLoader(t.loader());
                    t.body().run();
                    healthy = true;
                } catch (Throwable e) {
                    // a stage worker reports its own failures: this is a bug or an error while it cleaned up, and the
                    // thread's per-thread state may be left behind, so the thread reports it and ends
                    try {
                        thread.getUncaughtExceptionHandler().uncaughtException(thread, e);
                    } catch (Throwable ignored) {
                        // nothing more to do
                    }
                } finally {
                    try {
                        Thread.interrupted();
                        thread.setName(IDLE_NAME);
                        thread.setContextClassLoader(null);
                        if (healthy) {
                            synchronized (LOCK) {
                                lastStage = t.stage();
                                IDLE.add(this);
                            }
                        }
                    } finally {
                        t.done().countDown();
                    }
                }
                if (!healthy) {
                    return;
                }
            }
        }

        /** The next task; null when none came within the keep-alive and this carrier left the idle list. */
        private Task next() {
            while (true) {
                try {
                    Task t = inbox.poll(keepAliveMillis, TimeUnit.MILLISECONDS);
                    if (t != null) {
                        return t;
                    }
                    synchronized (LOCK) {
                        if (IDLE.remove(this)) {
                            return null;
                        }
                    }
                    // taken just now: its task is on the way
                } catch (InterruptedException e) {
                    // nobody interrupts an idle carrier on purpose; keep serving
                }
            }
        }
    }
}
