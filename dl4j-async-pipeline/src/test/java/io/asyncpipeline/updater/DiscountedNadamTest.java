package io.asyncpipeline.updater;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;

class DiscountedNadamTest {

    private static final int N = 37;
    private static final int STEPS = 60;

    static Stream<Arguments> hyperparameters() {
        return Stream.of(
                Arguments.of(1e-3, 0.99, 0.999, 1e-8, 0.004),
                Arguments.of(0.05, 0.9, 0.99, 1e-6, 0.004),
                Arguments.of(0.3, 0.5, 0.9, 1e-3, 0.1),
                Arguments.of(1e-2, 0.0, 0.5, 1e-8, 0.0),
                Arguments.of(2e-2, 0.999, 0.9999, 1e-8, 0.04));
    }

    enum Path { FUSED, OPS, VIEW_FUSED, VIEW_OPS }

    @ParameterizedTest
    @MethodSource("hyperparameters")
    void matchesPlainJavaReferenceInDouble(double lr, double b1, double b2, double eps, double psi) {
        for (Path path : Path.values()) {
            runAgainstReference(lr, b1, b2, eps, psi, path);
        }
    }

    private static void runAgainstReference(double lr, double b1, double b2, double eps, double psi, Path path) {
        DiscountedNadam cfg = DiscountedNadam.builder().learningRate(lr).beta1(b1).beta2(b2).epsilon(eps)
                .momentumDecay(psi).build();
        boolean view = path == Path.VIEW_FUSED || path == Path.VIEW_OPS;
        // In a view, the state and the gradient sit at an offset inside a larger buffer, as in DL4J's blocks.
        INDArray stateOwner = Nd4j.zeros(DataType.DOUBLE, 1, 2 * N + (view ? 11 : 0));
        INDArray state = view ? stateOwner.get(NDArrayIndex.point(0), NDArrayIndex.interval(11, 11 + 2 * N)) : stateOwner;
        DiscountedNadamUpdater u = (DiscountedNadamUpdater) cfg.instantiate(state, true);
        u.forceOpsPath(path == Path.OPS || path == Path.VIEW_OPS);
        NadamReference ref = new NadamReference(N, lr, b1, b2, eps, psi);
        Random rnd = new Random(7);
        for (int it = 0; it < STEPS; it++) {
            double[] g = randomGradient(rnd);
            INDArray gradOwner = Nd4j.create(DataType.DOUBLE, 1, N + (view ? 5 : 0));
            INDArray grad = view ? gradOwner.get(NDArrayIndex.point(0), NDArrayIndex.interval(5, 5 + N)) : gradOwner;
            grad.assign(Nd4j.createFromArray(g).reshape(grad.shape()));
            u.applyUpdater(grad, it, 0);
            boolean wantFused = path == Path.FUSED || path == Path.VIEW_FUSED;
            assertEquals(wantFused, u.lastStepFused(), path + " took the wrong code path");
            double[] expected = ref.step(g);
            String where = path + " step " + (it + 1);
            assertClose(expected, grad.toDoubleVector(), 1e-9, where + " update");
            assertClose(ref.m, u.getState().get(DiscountedNadamUpdater.M_STATE).toDoubleVector(), 1e-9, where + " m");
            assertClose(ref.v, u.getState().get(DiscountedNadamUpdater.V_STATE).toDoubleVector(), 1e-9, where + " v");
        }
    }

    @Test
    void floatArraysAgreeToFloatPrecision() {
        DiscountedNadam cfg = DiscountedNadam.builder().learningRate(0.01).build();
        for (boolean ops : new boolean[] {false, true}) {
            DiscountedNadamUpdater u = (DiscountedNadamUpdater) cfg.instantiate(Nd4j.zeros(DataType.FLOAT, 2 * N), true);
            u.forceOpsPath(ops);
            NadamReference ref = new NadamReference(N, 0.01, 0.99, 0.999, 1e-8, 0.004);
            Random rnd = new Random(3);
            for (int it = 0; it < STEPS; it++) {
                double[] g = randomGradient(rnd);
                INDArray grad = Nd4j.createFromArray(g).castTo(DataType.FLOAT);
                double[] gf = grad.toDoubleVector();
                u.applyUpdater(grad, it, 0);
                assertClose(ref.step(gf), grad.toDoubleVector(), 2e-4, (ops ? "ops" : "fused") + " float step " + it);
            }
        }
    }

    @Test
    void resumingAtAnyIterationGivesTheSameStep() {
        DiscountedNadam cfg = DiscountedNadam.builder().learningRate(0.02).momentumDecay(0.05).build();
        INDArray state = Nd4j.zeros(DataType.DOUBLE, 2 * N);
        DiscountedNadamUpdater running = (DiscountedNadamUpdater) cfg.instantiate(state, true);
        Random rnd = new Random(11);
        for (int it = 0; it < 40; it++) {
            INDArray g = Nd4j.createFromArray(randomGradient(rnd));
            INDArray stateCopy = state.dup();
            INDArray gCopy = g.dup();
            running.applyUpdater(g, it, 0);
            // A fresh updater (as after loading a model) with a cold Π_t cache must give the same bits.
            GradientUpdater<?> fresh = cfg.instantiate(stateCopy, false);
            fresh.applyUpdater(gCopy, it, 0);
            assertEquals(g, gCopy, "step " + it);
            assertTrue(java.util.Arrays.equals(g.toDoubleVector(), gCopy.toDoubleVector()), "bit-identical at " + it);
        }
    }

    @Test
    void muProductIsTheProductOfTheSchedule() {
        DiscountedNadam cfg = DiscountedNadam.builder().beta1(0.9).momentumDecay(0.004).build();
        DiscountedNadamUpdater u = new DiscountedNadamUpdater(cfg);
        double p = 1;
        for (int t = 1; t <= 500; t++) {
            p *= 0.9 * (1 - 0.5 * Math.pow(0.96, t * 0.004));
            assertEquals(p, u.muProduct(t), 0.0, "t=" + t);
        }
        assertEquals(0.9 * (1 - 0.5 * Math.pow(0.96, 3 * 0.004)) * 0.9 * (1 - 0.5 * Math.pow(0.96, 2 * 0.004))
                * 0.9 * (1 - 0.5 * Math.pow(0.96, 0.004)), u.muProduct(3), 1e-18, "recomputed after going back");
    }

    @Test
    void stateSizeIsLinearAndDefaultsAreThePapers() {
        DiscountedNadam d = DiscountedNadam.builder().build();
        assertEquals(2 * 123L + 2 * 77L, d.stateSize(123) + d.stateSize(77));
        assertEquals(1e-3, d.getLearningRate(0, 0));
        assertEquals(0.99, d.getBeta1());
        assertEquals(0.999, d.getBeta2());
        assertEquals(1e-8, d.getEpsilon());
        assertEquals(0.004, d.getMomentumDecay());
    }

    @Test
    void builderRejectsBadValuesNamingFieldAndValue() {
        assertMessage(() -> DiscountedNadam.builder().beta1(1.0).build(), "beta1", "1.0");
        assertMessage(() -> DiscountedNadam.builder().beta1(-0.1).build(), "beta1", "-0.1");
        assertMessage(() -> DiscountedNadam.builder().beta2(Double.NaN).build(), "beta2", "NaN");
        assertMessage(() -> DiscountedNadam.builder().learningRate(0).build(), "learningRate", "0.0");
        assertMessage(() -> DiscountedNadam.builder().epsilon(0).build(), "epsilon", "0.0");
        assertMessage(() -> DiscountedNadam.builder().momentumDecay(-1).build(), "momentumDecay", "-1.0");
    }

    @Test
    void equalsSeesEveryField() {
        DiscountedNadam a = DiscountedNadam.builder().build();
        assertEquals(a, a.clone());
        assertEquals(a.hashCode(), a.toBuilder().build().hashCode());
        assertTrue(!a.equals(a.toBuilder().beta1(0.9).build()));
        assertTrue(!a.equals(a.toBuilder().momentumDecay(0.005).build()));
        assertTrue(!a.equals(a.toBuilder().epsilon(1e-7).build()));
        assertTrue(!a.equals(a.toBuilder().learningRate(0.5).build()));
    }

    @Test
    void wrongGradientLengthIsRejected() {
        GradientUpdater<?> u = DiscountedNadam.builder().build().instantiate(Nd4j.zeros(DataType.FLOAT, 8), true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> u.applyUpdater(Nd4j.zeros(DataType.FLOAT, 5), 0, 0));
        assertTrue(e.getMessage().contains("5") && e.getMessage().contains("4"), e.getMessage());
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable build, String field, String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().contains(field) && e.getMessage().contains(value), e.getMessage());
    }

    static double[] randomGradient(Random rnd) {
        double[] g = new double[N];
        for (int i = 0; i < N; i++) {
            double scale = i % 5 == 0 ? 1e3 : i % 5 == 1 ? 1e-6 : 1.0;
            g[i] = rnd.nextGaussian() * scale;
        }
        return g;
    }

    static void assertClose(double[] expected, double[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            double tol = rel * Math.max(Math.abs(expected[i]), 1e-30);
            if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
                throw new AssertionError(what + " [" + i + "]: expected " + expected[i] + " got " + actual[i]);
            }
        }
    }
}
