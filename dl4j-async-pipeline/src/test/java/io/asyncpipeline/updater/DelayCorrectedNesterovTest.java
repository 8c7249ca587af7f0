package io.asyncpipeline.updater;

import static io.asyncpipeline.updater.DiscountedNadamTest.assertClose;
import static io.asyncpipeline.updater.DiscountedNadamTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;

class DelayCorrectedNesterovTest {

    @Test
    void discountOneIsBitIdenticalToDl4jNesterovsInAMultiLayerNetwork() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            MultiLayerNetwork plain = Nets.irisMlp(new Nesterovs(0.05, 0.9), type, 12345);
            MultiLayerNetwork ours = Nets.irisMlp(
                    DelayCorrectedNesterov.builder().learningRate(0.05).momentum(0.9).discount(1.0).build(), type, 12345);
            DataSetIterator it = Iris.iterator(25, type);
            for (int epoch = 0; epoch < 10; epoch++) {
                it.reset();
                plain.fit(it);
                it.reset();
                ours.fit(it);
            }
            assertEquals(60, ours.getIterationCount());
            assertArrayEquals(plain.params().toDoubleVector(), ours.params().toDoubleVector(), 0.0, type + " params");
            assertArrayEquals(plain.getUpdater().getStateViewArray().toDoubleVector(),
                    ours.getUpdater().getStateViewArray().toDoubleVector(), 0.0, type + " velocity");
            assertTrue(ours.score() < 0.3, "training reached a low loss: " + ours.score());
        }
    }

    @Test
    void defaultDiscountMatchesTheStoredParameterFormula() {
        checkAgainstFormula(DelayCorrectedNesterov.builder().learningRate(0.1).momentum(0.99).build(), c -> 0.99, c -> 0.1);
        checkAgainstFormula(DelayCorrectedNesterov.builder().learningRate(0.3).momentum(0.8).discount(0.5).build(),
                c -> 0.8, c -> 0.3);
        ISchedule lr = new ExponentialSchedule(ScheduleType.ITERATION, 0.2, 0.97);
        checkAgainstFormula(DelayCorrectedNesterov.builder().learningRateSchedule(lr).theoryMomentum().build(),
                t -> t <= 2 ? 0.0 : (t - 2.0) / t, t -> 0.2 * Math.pow(0.97, t - 1));
    }

    /** Reference: v ← γ v − η δ g; x ← x + (1+γ) v_new − γ v_old; DL4J subtracts update = x_old − x_new. */
    private static void checkAgainstFormula(DelayCorrectedNesterov cfg, java.util.function.IntToDoubleFunction gammaOfT,
                                            java.util.function.IntToDoubleFunction lrOfT) {
        int n = 23;
        INDArray state = Nd4j.zeros(DataType.DOUBLE, n);
        GradientUpdater<?> u = cfg.instantiate(state, true);
        double[] v = new double[n];
        Random rnd = new Random(5);
        for (int it = 0; it < 80; it++) {
            int t = it + 1;
            double gamma = gammaOfT.applyAsDouble(t);
            double delta = cfg.getDiscount() != null ? cfg.getDiscount() : 1 - gamma;
            double eta = lrOfT.applyAsDouble(t);
            double[] g = new double[n];
            double[] expected = new double[n];
            for (int i = 0; i < n; i++) {
                g[i] = rnd.nextGaussian() * (1 + i);
                double vNew = gamma * v[i] - eta * delta * g[i];
                expected[i] = -((1 + gamma) * vNew - gamma * v[i]);
                v[i] = vNew;
            }
            INDArray grad = Nd4j.createFromArray(g);
            u.applyUpdater(grad, it, 0);
            assertClose(expected, grad.toDoubleVector(), 1e-12, cfg + " update at t=" + t);
            assertClose(v, state.toDoubleVector(), 1e-12, cfg + " velocity at t=" + t);
        }
    }

    @Test
    void discountTracksAMomentumSchedule() {
        DelayCorrectedNesterov cfg = DelayCorrectedNesterov.builder().theoryMomentum().build();
        assertNull(cfg.getDiscount());
        assertEquals(1.0, cfg.discountAt(0, 0));
        assertEquals(1.0, cfg.discountAt(1, 0));
        assertEquals(2.0 / 3.0, cfg.discountAt(2, 0), 1e-15);
        assertEquals(2.0 / 100.0, cfg.discountAt(99, 0), 1e-15);
        assertEquals(0.25, DelayCorrectedNesterov.builder().momentum(0.75).build().discountAt(7, 0));
        assertEquals(1.0, DelayCorrectedNesterov.builder().momentum(0.75).discount(1).build().discountAt(7, 0));
    }

    @Test
    void builderRejectsBadValuesNamingFieldAndValue() {
        assertMessage(() -> DelayCorrectedNesterov.builder().momentum(1.0).build(), "momentum", "1.0");
        assertMessage(() -> DelayCorrectedNesterov.builder().momentum(1.5).build(), "momentum", "1.5");
        assertMessage(() -> DelayCorrectedNesterov.builder().discount(0).build(), "discount", "0.0");
        assertMessage(() -> DelayCorrectedNesterov.builder().discount(1.01).build(), "discount", "1.01");
        assertMessage(() -> DelayCorrectedNesterov.builder().learningRate(-1).build(), "learningRate", "-1.0");
        assertMessage(() -> DelayCorrectedNesterov.builder().learningRate(Double.POSITIVE_INFINITY).build(),
                "learningRate", "Infinity");
    }

    @Test
    void aMomentumScheduleLeavingTheUnitIntervalFailsAtThatStep() {
        ISchedule bad = new ExponentialSchedule(ScheduleType.ITERATION, 0.9, 1.2);
        IUpdater cfg = DelayCorrectedNesterov.builder().momentumSchedule(bad).build();
        GradientUpdater<?> u = cfg.instantiate(Nd4j.zeros(DataType.DOUBLE, 3), true);
        u.applyUpdater(Nd4j.ones(DataType.DOUBLE, 3), 0, 0);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> u.applyUpdater(Nd4j.ones(DataType.DOUBLE, 3), 1, 0));
        assertTrue(e.getMessage().contains("momentum") && e.getMessage().contains("1.08"), e.getMessage());
    }

    @Test
    void equalsSeesEveryField() {
        DelayCorrectedNesterov a = DelayCorrectedNesterov.builder().build();
        assertEquals(a, a.clone());
        assertEquals(a.hashCode(), a.toBuilder().build().hashCode());
        assertTrue(!a.equals(a.toBuilder().discount(0.5).build()));
        assertTrue(!a.equals(a.toBuilder().momentum(0.9).build()));
        assertTrue(!a.equals(a.toBuilder().theoryMomentum().build()));
        assertTrue(!a.equals(a.toBuilder().learningRate(0.01).build()));
    }
}
