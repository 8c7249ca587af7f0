package io.asyncpipeline.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Stage threads are kept between fits, so that each stage keeps its glibc arena (see {@link StageThreads}): stage k
 * runs on the thread that ran it last, concurrent fits get threads of their own, an idle thread ends after the
 * keep-alive.
 */
class StageThreadsTest {

    @AfterEach
    void restoreKeepAlive() {
        StageThreads.keepAliveMillis = StageThreads.KEEP_ALIVE_MILLIS;
    }

    /** Runs one task per stage; returns the thread each stage ran on, by stage. */
    private static Map<Integer, Thread> runStages(int... stages) throws InterruptedException {
        Map<Integer, Thread> ran = new ConcurrentHashMap<>();
        List<Runnable> tasks = new ArrayList<>();
        for (int k : stages) {
            tasks.add(() -> {
                ran.put(k, Thread.currentThread());
                assertEquals("async-pipeline-stage-" + k, Thread.currentThread().getName());
            });
        }
        assertTrue(StageThreads.start(tasks, stages).join(10_000), "stages returned");
        return ran;
    }

    @Test
    void eachStageRunsOnTheThreadThatRanItLast() throws InterruptedException {
        Map<Integer, Thread> first = runStages(0, 1, 2);
        int created = StageThreads.created();
        for (int fit = 0; fit < 5; fit++) {
            Map<Integer, Thread> again = runStages(0, 1, 2);
            assertEquals(first, again, "fit " + fit + ": every stage on its thread of the first fit");
        }
        assertEquals(created, StageThreads.created(), "no new threads");
        for (Thread t : first.values()) {
            assertEquals(StageThreads.IDLE_NAME, t.getName(), "an idle thread is not named after a stage");
        }
        assertEquals(3, new java.util.HashSet<>(first.values()).size(), "three stages, three threads");
    }

    @Test
    void concurrentRunsGetThreadsOfTheirOwn() throws InterruptedException {
        CountDownLatch bothRunning = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        java.util.Set<Thread> ran = ConcurrentHashMap.newKeySet();
        Runnable hold = () -> {
            ran.add(Thread.currentThread());
            bothRunning.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        StageThreads.Running a = StageThreads.start(List.of(hold), new int[] {0});
        StageThreads.Running b = StageThreads.start(List.of(hold), new int[] {0});
        assertTrue(bothRunning.await(10, TimeUnit.SECONDS), "two stage-0 tasks of two runs at the same time");
        release.countDown();
        assertTrue(a.join(10_000) && b.join(10_000));
        assertEquals(2, ran.size(), "two threads");
    }

    @Test
    void aTaskLeavesNoInterruptBehind() throws InterruptedException {
        Map<Integer, Thread> first = runStages(7);
        StageThreads.start(List.of(() -> Thread.currentThread().interrupt()), new int[] {7}).join();
        boolean[] interrupted = {true};
        Map<Integer, Thread> ran = new ConcurrentHashMap<>();
        StageThreads.start(List.of(() -> {
            interrupted[0] = Thread.currentThread().isInterrupted();
            ran.put(7, Thread.currentThread());
        }), new int[] {7}).join();
        assertFalse(interrupted[0], "the next task starts uninterrupted");
        assertEquals(first.get(7), ran.get(7), "the same thread");
    }

    /** A task that throws (stage workers catch their own failures: a bug) is reported, and its thread retires. */
    @Test
    void aThreadWhoseTaskThrewReportsItAndEnds() throws InterruptedException {
        Thread before = runStages(8).get(8);
        java.util.concurrent.atomic.AtomicReference<Throwable> reported = new java.util.concurrent.atomic.AtomicReference<>();
        Thread.UncaughtExceptionHandler saved = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> reported.set(e));
        try {
            assertTrue(StageThreads.start(List.of(() -> {
                throw new IllegalStateException("a worker bug");
            }), new int[] {8}).join(10_000), "a throwing task still counts as returned");
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(saved);
        }
        assertEquals("a worker bug", reported.get().getMessage());
        before.join(10_000);
        assertFalse(before.isAlive(), "the thread ended instead of serving another fit");
        assertNotEquals(before, runStages(8).get(8));
    }

    /** A task runs with its caller's context class loader; an idle thread holds none (and so keeps none alive). */
    @Test
    void aTaskRunsWithItsCallersClassLoader() throws InterruptedException {
        ClassLoader mine = new java.net.URLClassLoader(new java.net.URL[0], getClass().getClassLoader());
        ClassLoader saved = Thread.currentThread().getContextClassLoader();
        ClassLoader[] seen = new ClassLoader[1];
        Thread[] ran = new Thread[1];
        Thread.currentThread().setContextClassLoader(mine);
        try {
            StageThreads.start(List.of(() -> {
                seen[0] = Thread.currentThread().getContextClassLoader();
                ran[0] = Thread.currentThread();
            }), new int[] {9}).join();
        } finally {
            Thread.currentThread().setContextClassLoader(saved);
        }
        assertEquals(mine, seen[0]);
        assertEquals(null, ran[0].getContextClassLoader(), "idle: no loader");
    }

    @Test
    void anIdleThreadEndsAfterTheKeepAlive() throws InterruptedException {
        StageThreads.keepAliveMillis = 200;
        Thread t = runStages(5).get(5);
        // a thread idle since an earlier test waits out its own (longer) keep-alive; this one waits 200 ms
        t.join(10_000);
        assertFalse(t.isAlive(), "idle thread ended");
        assertNotEquals(t, runStages(5).get(5), "a new thread for the next run");
    }

    /** Fits of a wrapper reuse its stage threads: the pipeline starts no thread after the first fit. */
    @Test
    void fitsOfAWrapperReuseTheirStageThreads() {
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.FLOAT, 4);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).build()) {
            w.fit(Iris.iterator(50, DataType.FLOAT));
            int created = StageThreads.created();
            for (int i = 0; i < 4; i++) {
                w.fit(Iris.iterator(50, DataType.FLOAT));
            }
            assertEquals(created, StageThreads.created(), "4 more fits of 3 stages started no thread");
        }
    }
}
