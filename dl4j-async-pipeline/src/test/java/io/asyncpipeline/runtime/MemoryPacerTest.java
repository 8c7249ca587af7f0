package io.asyncpipeline.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MemoryPacerTest {

    @Test
    void collectsWhenPhysicalMemoryGrowsPastTheBudget() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            System.gc();                 // start from a trimmed heap: not from what earlier tests left resident
            NativeTrim.trim();
            MemoryPacer.allowNow();
            try (MemoryPacer pacer = MemoryPacer.start(16L << 20)) {
                INDArray[] hold = new INDArray[8];
                while (pacer.collections() == 0) {
                    for (int i = 0; i < hold.length; i++) {
                        hold[i] = Nd4j.ones(DataType.FLOAT, 4 << 20); // 16 MB each, touched
                    }
                    Thread.sleep(20);
                }
                assertTrue(pacer.collections() >= 1);
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (pacer.trims() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertTrue(pacer.trims() >= 1 || !NativeTrim.available(), "a trim follows the collection");
            }
        });
    }

    /**
     * A trim is charged its time plus the refaults of the bytes it returned, and the next one waits WAIT_FACTOR times
     * that: trims and their refaults take a bounded share of the time, however fast garbage comes.
     */
    @Test
    void trimsWaitInProportionToTheirCost() {
        assertTimeoutPreemptively(Duration.ofSeconds(180), () -> {
            System.gc();                 // start from a trimmed heap: not from what earlier tests left resident
            NativeTrim.trim();
            MemoryPacer.allowNow();
            try (MemoryPacer pacer = MemoryPacer.start(16L << 20)) {
                INDArray[] hold = new INDArray[8];
                long start = System.nanoTime();
                long deadline = start + 20_000_000_000L;
                while (pacer.trimHistory().size() < 3 && System.nanoTime() < deadline) {
                    for (int i = 0; i < hold.length; i++) {
                        hold[i] = Nd4j.ones(DataType.FLOAT, 1 << 20);     // 4 MB each, touched, garbage next round
                    }
                    // about 300 MB of garbage a second: in a JVM whose collections are slow (a large heap after other
                    // tests, a loaded machine) a faster stream piled up many GB while the pacer waited, and each trim,
                    // charged the refaults of all it returned, then waited minutes
                    Thread.sleep(100);
                    java.util.List<MemoryPacer.Trim> sofar = pacer.trimHistory();
                    if (!sofar.isEmpty()) {                 // on a loaded machine a trim can cost a second: wait it out
                        MemoryPacer.Trim last = sofar.get(sofar.size() - 1);
                        deadline = Math.min(start + 150_000_000_000L, Math.max(deadline,
                                last.end() + MemoryPacer.WAIT_FACTOR * last.costNanos() + 10_000_000_000L));
                    }
                }
                java.util.List<MemoryPacer.Trim> trims = pacer.trimHistory();
                if (!NativeTrim.available()) {
                    assertEquals(0, trims.size());
                    return;
                }
                assertTrue(trims.size() >= 2, "trims happened: " + trims);
                for (int i = 1; i < trims.size(); i++) {
                    MemoryPacer.Trim prev = trims.get(i - 1);
                    MemoryPacer.Trim next = trims.get(i);
                    assertTrue(prev.costNanos() >= prev.end() - prev.start(), "the cost includes the trim's time");
                    assertTrue(prev.costNanos() >= (long) (prev.releasedBytes() * MemoryPacer.REFAULT_NANOS_PER_BYTE),
                            "the cost includes the refaults");
                    long gap = next.start() - prev.end();
                    assertTrue(gap >= MemoryPacer.WAIT_FACTOR * prev.costNanos(),
                            "trim " + i + " started " + gap + " ns after the previous, whose cost was "
                                    + prev.costNanos() + " ns");
                }
            }
        });
    }

    /**
     * Freed C-heap memory that the arenas keep (a free block below one still in use) holds the resident size up with
     * no growth, so the budget never triggers; the steady-level cycle trims it back.
     */
    @Test
    void aLevelThatHeldIsTrimmedBack() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            System.gc();
            NativeTrim.trim();
            MemoryPacer.allowNow();
            int block = 32 << 10;                                   // below glibc's mmap threshold: from an arena
            try (MemoryPacer pacer = MemoryPacer.start(1L << 30, 3_000_000_000L)) {
                Pointer[] blocks = new Pointer[4096];               // 128 MiB
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = Pointer.malloc(block);
                    Pointer.memset(blocks[i], 1, block);
                }
                Pointer pin = Pointer.malloc(block);                // in use above them: free() cannot shrink the heap
                // the residency of the arena mappings that hold the blocks, not of the process: the JVM returning
                // its own heap pages at the same time (G1 uncommits after a collection) must not hide the blocks
                long[] mappings = Smaps.mappingsContaining(blocks);
                long touched = Smaps.residentBytes(mappings);
                for (Pointer b : blocks) {
                    Pointer.free(b);
                }
                long held = Smaps.residentBytes(mappings);
                if (!NativeTrim.available()) {
                    Thread.sleep(4000);
                    assertEquals(0, pacer.trims());
                    Pointer.free(pin);
                    return;
                }
                assertTrue(touched >= (128L << 20), "the blocks were resident: " + touched + " bytes");
                assertTrue(held > (96L << 20), "freed blocks stay resident: " + held + " of " + touched + " bytes");
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (pacer.trims() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertTrue(pacer.trims() >= 1, "a level that held was trimmed");
                assertEquals(1, pacer.collections(), "one steady-level collection, then its trim");
                long after = Smaps.residentBytes(mappings);
                assertTrue(held - after > (64L << 20), "the trim returned the freed blocks: " + held + " -> " + after);
                Pointer.free(pin);
            }
            long[] totals = MemoryPacer.totals();
            assertTrue(totals[1] >= 1 && totals[2] >= 1, "counted as a steady-level cycle and a trim");
        });
    }

    @Test
    void aZeroBudgetNeverCollects() throws InterruptedException {
        try (MemoryPacer pacer = MemoryPacer.start(0)) {
            Nd4j.ones(DataType.FLOAT, 8 << 20);
            Thread.sleep(200);
            assertEquals(0, pacer.collections());
        }
    }

    /**
     * However small the budget, after a collection that took d the pacer waits at least WAIT_FACTOR·d
     * before the next collection, so requested collections take at most about 1/(1 + WAIT_FACTOR) of the time. The
     * gaps are checked cycle by cycle rather than as a share of a wall-clock window: on a loaded machine a single
     * collection of this heap can take seconds.
     */
    @Test
    void collectionsTakeABoundedShareOfTheTime() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            Object[] hold = new Object[3_000_000];               // millions of live objects: a full collection
            for (int i = 0; i < hold.length; i++) {             // costs tens of milliseconds
                hold[i] = new long[] {i};
            }
            MemoryPacer.allowNow();      // an earlier test's collection must not hold this one back
            long t0 = System.nanoTime();
            try (MemoryPacer pacer = MemoryPacer.start(1)) {     // a budget of one byte: collect whenever allowed
                INDArray churn;
                while (pacer.cycles().size() < 3 && System.nanoTime() - t0 < 90_000_000_000L) {
                    churn = Nd4j.ones(DataType.FLOAT, 1 << 20);
                    churn.addi(1);
                    Thread.sleep(5);
                }
                java.util.List<MemoryPacer.Cycle> cycles = pacer.cycles();
                assertTrue(cycles.size() >= 2, "it collected and trimmed " + cycles.size() + " times");
                for (int i = 1; i < cycles.size(); i++) {
                    MemoryPacer.Cycle prev = cycles.get(i - 1);
                    long gap = cycles.get(i).start() - prev.end();
                    long cost = prev.collectionNanos();
                    assertTrue(gap >= MemoryPacer.WAIT_FACTOR * cost, String.format(
                            "a collection started %.0f ms after one that cost %.0f ms", gap / 1e6, cost / 1e6));
                }
            }
            assertEquals(3_000_000, hold.length);
        });
    }
}
