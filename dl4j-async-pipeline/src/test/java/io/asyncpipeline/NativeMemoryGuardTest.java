package io.asyncpipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NativeMemoryGuardTest {

    @Test
    void collectsAndTrimsWhileOpenAndStopsWhenClosed() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            NativeMemoryGuard guard = NativeMemoryGuard.open(16L << 20);
            try (guard) {
                INDArray[] garbage = new INDArray[4];
                while (guard.trims() == 0) {
                    for (int i = 0; i < garbage.length; i++) {
                        garbage[i] = Nd4j.ones(DataType.FLOAT, 4 << 20);      // 16 MB each, touched
                    }
                    Thread.sleep(20);
                }
                assertTrue(guard.collections() >= 1, "a trim follows a collection");
                assertTrue(guard.overheadNanos() > 0);
            }
            int after = guard.collections();
            for (int i = 0; i < 20; i++) {
                Nd4j.ones(DataType.FLOAT, 4 << 20);
                Thread.sleep(20);
            }
            assertEquals(after, guard.collections(), "a closed guard asks for nothing");
        });
    }

    @Test
    void aBudgetMustBePositive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeMemoryGuard.open(0));
        assertTrue(e.getMessage().contains("budgetBytes"), e.getMessage());
    }
}
