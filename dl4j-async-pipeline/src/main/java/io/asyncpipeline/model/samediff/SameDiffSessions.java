package io.asyncpipeline.model.samediff;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr;
import org.bytedeco.javacpp.Pointer;

/**
 * SameDiff's per-thread execution sessions of a stage graph, with a bounded array cache. SameDiff 1.0.0-M2.1
 * keeps one {@link InferenceSession} per thread id and graph, for as long as the graph lives, each with an array
 * cache of up to a quarter of JavaCPP's {@code maxBytes} (by default a quarter of the maximum heap, 1.5 GB on a
 * 24 GiB machine). A stage graph and its gradient function are each run from new threads on every
 * {@code fit}, so without this the sessions of finished threads, with their caches, pile up per fit and per
 * stage. The stage installs a session with a small cache when its thread starts, and removes it, freeing the
 * cached arrays at once, when the thread leaves.
 */
final class SameDiffSessions {

    /** The most bytes a stage session keeps cached for reuse; arrays released beyond it are closed at once. */
    static final long CACHE_BYTES = 16L << 20;

    /** The name SameDiff keeps a graph's gradient function under ({@code SameDiff.GRAD_FN_KEY}, not public). */
    static final String GRADIENT_FUNCTION = "grad";

    private SameDiffSessions() {
    }

    /** A session with a bounded cache for the calling thread on {@code graph} (and nothing if graph is null). */
    static void enter(SameDiff graph) {
        if (graph == null) {
            return;
        }
        InferenceSession session = new InferenceSession(graph);
        double fraction = Math.min(0.25, CACHE_BYTES / (double) Math.max(1, Pointer.maxBytes()));
        session.setMmgr(new ArrayCacheMemoryMgr(fraction, 1024, 2.0));
        InferenceSession old = graph.getSessions().put(Thread.currentThread().getId(), session);
        if (old != null) {
            old.getMmgr().close();
        }
    }

    /** Removes the calling thread's session on {@code graph} and closes its cached arrays. */
    static void leave(SameDiff graph) {
        if (graph == null) {
            return;
        }
        InferenceSession session = graph.getSessions().remove(Thread.currentThread().getId());
        if (session != null) {
            session.getMmgr().close();
        }
    }
}
