package io.asyncpipeline.metrics;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;

/**
 * Records one stage's spans during a fit: written by the stage's own thread only (no locks), read after the
 * fit. Spans are kept in primitive arrays that grow by doubling up to {@code limit}; later spans are counted as
 * dropped, not stored, so a long run cannot exhaust memory (about 25 bytes per span).
 *
 * <p>Times are {@link System#nanoTime()} readings; the recorder stores them relative to the fit's origin.
 * Waits shorter than {@link #MIN_WAIT_NANOS} are hand-offs that did not block and are not recorded.
 */
public final class StageTimeline {

    /** Waits shorter than this (1 µs) are not recorded: the channel had the message, or room for it. */
    public static final long MIN_WAIT_NANOS = 1_000;

    private static final Span.Kind[] KINDS = Span.Kind.values();
    private static final int INITIAL = 1024;

    private final int stage;
    private final int limit;
    private final long origin;
    private long[] start = new long[0];
    private long[] end = new long[0];
    private int[] index = new int[0];
    private int[] epoch = new int[0];
    private byte[] kind = new byte[0];
    private int size;
    private long dropped;
    private long firstDropNanos = -1;

    /**
     * @param stage       the stage
     * @param limit       most spans kept ({@code >= 1})
     * @param originNanos the {@link System#nanoTime()} at which the fit began: time 0 of the timeline
     */
    public StageTimeline(int stage, int limit, long originNanos) {
        if (limit < 1) {
            throw new IllegalArgumentException("a timeline keeps at least 1 span per stage, got " + limit);
        }
        this.stage = stage;
        this.limit = limit;
        this.origin = originNanos;
    }

    /** Records an op (or a load) that ran from {@code t0} to {@code t1} ({@link System#nanoTime()} readings). */
    public void record(Span.Kind k, int idx, int ep, long t0, long t1) {
        if (size == limit) {
            if (dropped++ == 0) {
                firstDropNanos = t0 - origin;
            }
            return;
        }
        if (size == start.length) {
            grow();
        }
        start[size] = t0 - origin;
        end[size] = Math.max(t0, t1) - origin;
        index[size] = idx;
        epoch[size] = ep;
        kind[size] = (byte) k.ordinal();
        size++;
    }

    /** Records a wait if it lasted at least {@link #MIN_WAIT_NANOS}. */
    public void recordWait(Span.Kind k, int idx, int ep, long t0, long t1) {
        if (t1 - t0 >= MIN_WAIT_NANOS) {
            record(k, idx, ep, t0, t1);
        }
    }

    private void grow() {
        int n = (int) Math.min(limit, Math.max(INITIAL, 2L * start.length));
        start = Arrays.copyOf(start, n);
        end = Arrays.copyOf(end, n);
        index = Arrays.copyOf(index, n);
        epoch = Arrays.copyOf(epoch, n);
        kind = Arrays.copyOf(kind, n);
    }

    public int stage() {
        return stage;
    }

    /** Most spans this recorder keeps. */
    public int limit() {
        return limit;
    }

    /** Spans kept. */
    public int size() {
        return size;
    }

    /** Spans not kept because the limit was reached. */
    public long dropped() {
        return dropped;
    }

    /** Start (ns since the fit began) of the first span that was dropped, or -1 if none was. */
    public long firstDropNanos() {
        return firstDropNanos;
    }

    /** The spans kept, in the order they were recorded (a view; {@link Span} objects are made on access). */
    public List<Span> spans() {
        int n = size;
        long[] s = start;
        long[] e = end;
        int[] idx = index;
        int[] ep = epoch;
        byte[] k = kind;
        return new AbstractList<>() {
            @Override
            public Span get(int i) {
                if (i < 0 || i >= n) {
                    throw new IndexOutOfBoundsException(i);
                }
                return new Span(KINDS[k[i]], stage, idx[i], ep[i], s[i], e[i]);
            }

            @Override
            public int size() {
                return n;
            }
        };
    }
}
