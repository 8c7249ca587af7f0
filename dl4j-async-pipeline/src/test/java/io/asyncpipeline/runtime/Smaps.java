package io.asyncpipeline.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.bytedeco.javacpp.Pointer;

/** Resident bytes of chosen mappings of this process, from {@code /proc/self/smaps} (Linux only). */
final class Smaps {

    private static final Path SMAPS = Path.of("/proc/self/smaps");

    private Smaps() {
    }

    /** One mapping: its address range and resident bytes. */
    private record Mapping(long start, long end, long rss) {
    }

    private static List<Mapping> read() {
        List<String> lines;
        try {
            lines = Files.readAllLines(SMAPS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Mapping> out = new ArrayList<>();
        long start = -1;
        long end = -1;
        for (String line : lines) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && isHex(line, 0, dash)) {
                start = Long.parseUnsignedLong(line.substring(0, dash), 16);
                end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
            } else if (line.startsWith("Rss:") && start >= 0) {
                String kb = line.substring(4).trim();
                out.add(new Mapping(start, end, Long.parseLong(kb.substring(0, kb.indexOf(' '))) << 10));
                start = -1;
            }
        }
        return out;
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return to > from;
    }

    /** The start addresses of the mappings that hold any of the pointers. */
    static long[] mappingsContaining(Pointer... pointers) {
        TreeSet<Long> starts = new TreeSet<>();
        List<Mapping> all = read();
        for (Pointer p : pointers) {
            long a = p.address();
            for (Mapping m : all) {
                if (Long.compareUnsigned(a, m.start()) >= 0 && Long.compareUnsigned(a, m.end()) < 0) {
                    starts.add(m.start());
                    break;
                }
            }
        }
        return starts.stream().mapToLong(Long::longValue).toArray();
    }

    /** The resident bytes now of the mappings that start at these addresses (a mapping gone counts 0). */
    static long residentBytes(long[] starts) {
        long sum = 0;
        for (Mapping m : read()) {
            if (java.util.Arrays.binarySearch(starts, m.start()) >= 0) {
                sum += m.rss();
            }
        }
        return sum;
    }
}
