package io.asyncpipeline.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MemoryPacerTest {

    @Test
    void collectsWhenPhysicalMemoryGrowsPastTheBudget() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (MemoryPacer pacer = MemoryPacer.start(16L << 20)) {
                INDArray[] hold = new INDArray[8];
                while (pacer.collections() == 0) {
                    for (int i = 0; i < hold.length; i++) {
                        hold[i] = Nd4j.ones(DataType.FLOAT, 4 << 20); // 16 MB each, touched
                    }
                    Thread.sleep(20);
                }
                assertTrue(pacer.collections() >= 1);
            }
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
}
