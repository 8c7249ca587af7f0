package io.asyncpipeline.updater;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.TrainingConfig;

class WarmupCosineScheduleTest {

    @Test
    void warmsUpLinearlyThenDecaysToTheFloor() {
        WarmupCosineSchedule s = new WarmupCosineSchedule(0.01, 10, 110, 0.1);
        assertEquals(0.001, s.valueAt(0, 0), 1e-15);
        assertEquals(0.005, s.valueAt(4, 0), 1e-15);
        assertEquals(0.01, s.valueAt(9, 0), 1e-15);
        assertEquals(0.01, s.valueAt(10, 0), 1e-15);             // start of the decay
        assertEquals(0.01 * (0.1 + 0.9 * 0.5), s.valueAt(60, 0), 1e-15);   // half way: cos(π/2) = 0
        assertEquals(0.001, s.valueAt(110, 0), 1e-15);
        assertEquals(0.001, s.valueAt(5000, 3), 1e-15);
        double previous = Double.MAX_VALUE;
        for (int i = 10; i <= 110; i++) {
            assertTrue(s.valueAt(i, 0) <= previous, "not decreasing at " + i);
            previous = s.valueAt(i, 0);
        }
        assertEquals(0.01, new WarmupCosineSchedule(0.01, 0, 5, 0).valueAt(0, 0), 1e-15);
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(0, 1, 2, 0.1))
                .getMessage().contains("peak"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(1e-3, 5, 5, 0.1))
                .getMessage().contains("warmup < total"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(1e-3, 0, 5, 1.5))
                .getMessage().contains("floor"));
    }

    @Test
    void survivesTheTrainingConfigJsonRoundTripInsideAnUpdater() {
        WarmupCosineSchedule s = new WarmupCosineSchedule(2e-3, 60, 600, 0.1);
        TrainingConfig tc = TrainingConfig.builder().updater(DiscountedNadam.builder().learningRateSchedule(s).build())
                .dataSetFeatureMapping("x").dataSetLabelMapping("y").build();
        TrainingConfig back = TrainingConfig.fromJson(tc.toJson());
        DiscountedNadam u = (DiscountedNadam) back.getUpdater();
        assertEquals(s, u.getLearningRateSchedule());
        assertEquals(s.valueAt(123, 0), u.getLearningRate(123, 0), 0.0);
    }
}
