package io.asyncpipeline.model.samediff;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;

/**
 * SameDiff's per-thread execution sessions of a stage graph, with pass-scoped memory. SameDiff 1.0.0-M2.1
 * keeps one {@link InferenceSession} per thread id and graph, for as long as the graph lives, each with an array
 * cache of up to a quarter of JavaCPP's {@code maxBytes} (by default a quarter of the maximum heap, 1.5 GB on a
 * 24 GiB machine). A stage graph and its gradient function may run on other threads in every {@code fit} (stage
 * threads are kept between fits but not bound to a graph, and user code may run graphs on threads of its own), so
 * without this the sessions of finished runs, with their caches, pile up per fit and per stage. The stage installs
 * a session with a {@link PassArena} when its thread starts, ends a pass after each forward and backward
 * ({@link #endPass}), and removes the session, freeing its arrays at once, when the thread leaves.
 */
final class SameDiffSessions {

    /** The name SameDiff keeps a graph's gradient function under ({@code SameDiff.GRAD_FN_KEY}, not public). */
    static final String GRADIENT_FUNCTION = "grad";

    private SameDiffSessions() {
    }

    /** A session with a pass arena for the calling thread on {@code graph} (and nothing if graph is null). */
    static void enter(SameDiff graph) {
        if (graph == null) {
            return;
        }
        InferenceSession session = new InferenceSession(graph);
        session.setMmgr(new PassArena());
        InferenceSession old = graph.getSessions().put(Thread.currentThread().getId(), session);
        if (old != null) {
            old.getMmgr().close();
        }
    }

    /**
     * Ends a pass of {@code graph} on the calling thread: the arrays its session allocated are pooled for the
     * next pass (nothing happens if the thread has no stage session on it).
     */
    static void endPass(SameDiff graph) {
        if (graph == null) {
            return;
        }
        InferenceSession session = graph.getSessions().get(Thread.currentThread().getId());
        if (session != null && session.getMmgr() instanceof PassArena arena) {
            arena.endPass();
        }
    }

    /** Removes the calling thread's session on {@code graph} and closes its arrays. */
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
