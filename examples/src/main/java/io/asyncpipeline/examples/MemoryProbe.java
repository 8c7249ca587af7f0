package io.asyncpipeline.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;

/**
 * What the process holds, read from outside the library: resident size (Linux {@code /proc/self/status}), Java
 * heap in use, and the native bytes JavaCPP has allocated for ND4J arrays. A daemon thread samples the resident
 * size every 100 ms so that peaks between reports are not missed, and the median of each window is known.
 */
final class MemoryProbe implements AutoCloseable {

    /**
     * One reading, in bytes: resident size, Java heap in use, JavaCPP's native bytes, JavaCPP's physical bytes; and
     * where the resident size sits: heap committed, non-heap committed (code cache, metaspace), and the resident
     * size split into anonymous memory (heaps, arenas) and file pages (the mapped native libraries), -1 where
     * unknown.
     */
    record Reading(long rss, long heap, long nativeBytes, long physical, long heapCommitted, long nonHeapCommitted,
                   long rssAnon, long rssFile) {

        static Reading now() {
            Runtime r = Runtime.getRuntime();
            java.lang.management.MemoryMXBean mx = java.lang.management.ManagementFactory.getMemoryMXBean();
            long[] status = status("VmRSS:", "RssAnon:", "RssFile:");
            return new Reading(status[0], r.totalMemory() - r.freeMemory(), Pointer.totalBytes(), Pointer.physicalBytes(),
                    mx.getHeapMemoryUsage().getCommitted(), mx.getNonHeapMemoryUsage().getCommitted(), status[1],
                    status[2]);
        }
    }

    /** The given fields of /proc/self/status in bytes (-1 each where /proc or the field is missing). */
    static long[] status(String... fields) {
        long[] out = new long[fields.length];
        java.util.Arrays.fill(out, -1);
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                for (int i = 0; i < fields.length; i++) {
                    if (line.startsWith(fields[i])) {
                        out[i] = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            java.util.Arrays.fill(out, -1);
        }
        return out;
    }

    private final AtomicLong peak = new AtomicLong();
    /** The resident sizes sampled in the current window (bytes; guarded by itself). */
    private final java.util.List<Long> samples = new java.util.ArrayList<>();
    private final Thread sampler;
    private volatile boolean stop;

    MemoryProbe() {
        sampler = new Thread(() -> {
            while (!stop) {
                long rss = residentBytes();
                peak.accumulateAndGet(rss, Math::max);
                synchronized (samples) {
                    samples.add(rss);
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "memory-probe");
        sampler.setDaemon(true);
        sampler.start();
    }

    /**
     * The largest and the median resident size sampled since the last call (every 100 ms, plus one reading now), and
     * starts a new window. The median is the level a window sat at: the resident size at one instant depends on where
     * it falls between two collections.
     */
    long[] takeWindow() {
        long now = residentBytes();
        long[] all;
        synchronized (samples) {
            samples.add(now);
            all = samples.stream().mapToLong(Long::longValue).sorted().toArray();
            samples.clear();
        }
        return new long[]{Math.max(peak.getAndSet(0), now), all[all.length / 2]};
    }

    /** Resident set size of this process in bytes, or -1 where /proc is not available. */
    static long residentBytes() {
        return status("VmRSS:")[0];
    }

    static String mb(long bytes) {
        return bytes < 0 ? "n/a" : String.format(java.util.Locale.ROOT, "%.0f", bytes / 1e6);
    }

    /** A one-line chart of {@code values} with the eight block characters. */
    static String sparkline(long[] values) {
        long max = 1;
        for (long v : values) {
            max = Math.max(max, v);
        }
        String blocks = "▁▂▃▄▅▆▇█";
        StringBuilder sb = new StringBuilder();
        for (long v : values) {
            sb.append(blocks.charAt((int) Math.min(7, Math.max(0, Math.round(7.0 * v / max)))));
        }
        return sb.toString();
    }

    @Override
    public void close() {
        stop = true;
        sampler.interrupt();
    }
}
