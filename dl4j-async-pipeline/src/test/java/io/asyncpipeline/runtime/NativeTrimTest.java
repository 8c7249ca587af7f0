package io.asyncpipeline.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What the pacer's trim is for: blocks freed inside glibc's heap stay resident until trimmed. 64 KB buffers come
 * from the heap (below glibc's initial mmap threshold); keeping the last one alive stops {@code free} from
 * shrinking the heap's top, so freeing the rest leaves them resident until {@link NativeTrim#trim()}.
 */
class NativeTrimTest {

    static long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    @Test
    void trimReturnsFreedHeapBlocksToTheSystem() throws IOException {
        assumeTrue(Files.exists(Path.of("/proc/self/status")) && System.getProperty("os.name").startsWith("Linux"),
                "Linux only");
        assertTrue(NativeTrim.available(), "JavaCPP's trimMemory is reachable");
        NativeTrim.trim();
        List<INDArray> arrays = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            arrays.add(Nd4j.ones(DataType.FLOAT, 16 << 10));       // 64 KB each, touched: 192 MB
        }
        INDArray last = arrays.remove(arrays.size() - 1);
        for (INDArray a : arrays) {
            a.close();
        }
        long freedButResident = rss();
        assertTrue(NativeTrim.trim(), "it ran");
        long trimmed = rss();
        assertTrue(freedButResident - trimmed > 96L << 20, String.format(
                "trim returned %.0f MB of 192 MB freed", (freedButResident - trimmed) / 1e6));
        last.close();
    }
}
