package io.asyncpipeline.benchmarks;

import io.asyncpipeline.updater.BenchmarkAccess;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Time of one {@code applyUpdater} call on a flat FLOAT gradient of {@code n} values, for our updaters
 * and DL4J's built-in counterparts.
 *
 * <p>An updater overwrites its gradient with the update, and feeding that update back as the next
 * gradient shrinks the values towards denormals within a few steps (which would measure the FPU's slow
 * path, not the updater). So every call first restores the gradient from a pristine copy with
 * {@code assign}, inside the timed region and the same way for every variant; {@link #copyOnly} times
 * that copy alone so it can be subtracted. The moments still evolve from step to step (and stay finite:
 * they converge to those of a constant gradient), and the iteration count advances, as in training.
 *
 * <p>Each benchmark has its own state class, so a fork only allocates the arrays it uses.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class UpdaterBenchmark {

    /** Arrays and one updater for a flat FLOAT gradient of {@code n} values. */
    abstract static class Fixture {
        INDArray pristine;
        INDArray gradient;
        GradientUpdater<?> updater;
        int iteration;

        /** Allocates the gradient and, when {@code config} is not null, its updater with fresh state. */
        void init(int n, IUpdater config) {
            Nd4j.getRandom().setSeed(12345);
            pristine = Nd4j.randn(DataType.FLOAT, n).muli(1e-2);
            gradient = pristine.dup();
            if (config != null) {
                INDArray state = Nd4j.zeros(DataType.FLOAT, 1, config.stateSize(n));
                updater = config.instantiate(state, true);
            }
            iteration = 0;
        }

        /** One timed call: restore the gradient, apply the updater in place. */
        INDArray step() {
            gradient.assign(pristine);
            updater.applyUpdater(gradient, iteration++, 0);
            return gradient;
        }

        /** Fails the trial if the update or the updater state went non-finite. */
        void checkFinite(String what) {
            step();
            check(what + " update", gradient);
            for (var e : updater.getState().entrySet()) {
                check(what + " state " + e.getKey(), e.getValue());
            }
        }

        private static void check(String what, INDArray a) {
            double absMax = a.amaxNumber().doubleValue();
            if (!Double.isFinite(a.sumNumber().doubleValue()) || !Double.isFinite(absMax)) {
                throw new IllegalStateException(what + " is not finite");
            }
            if (absMax == 0.0) {
                throw new IllegalStateException(what + " is all zeros");
            }
        }
    }

    @State(Scope.Benchmark)
    public static class CopyState extends Fixture {
        @Param({"1000000", "10000000"})
        int n;

        @Setup(Level.Trial)
        public void setUp() {
            init(n, null);
        }
    }

    @State(Scope.Benchmark)
    public static class DiscountedNadamFused extends Fixture {
        @Param({"1000000", "10000000"})
        int n;

        @Setup(Level.Trial)
        public void setUp() {
            init(n, DiscountedNadam.builder().learningRate(1e-3).build());
            step();
            if (!BenchmarkAccess.lastStepFused(updater)) {
                throw new IllegalStateException("DiscountedNadam did not take the fused path");
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            checkFinite("DiscountedNadam fused");
        }
    }

    @State(Scope.Benchmark)
    public static class DiscountedNadamOps extends Fixture {
        @Param({"1000000", "10000000"})
        int n;

        @Setup(Level.Trial)
        public void setUp() {
            init(n, DiscountedNadam.builder().learningRate(1e-3).build());
            BenchmarkAccess.forceOpsPath(updater, true);
            step();
            if (BenchmarkAccess.lastStepFused(updater)) {
                throw new IllegalStateException("DiscountedNadam did not take the ops path");
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            checkFinite("DiscountedNadam ops");
        }
    }

    @State(Scope.Benchmark)
    public static class Dl4jNadam extends Fixture {
        @Param({"1000000", "10000000"})
        int n;

        @Setup(Level.Trial)
        public void setUp() {
            init(n, Nadam.builder().learningRate(1e-3).build());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            checkFinite("DL4J Nadam");
        }
    }

    @State(Scope.Benchmark)
    public static class DelayCorrectedNesterovState extends Fixture {
        @Param({"1000000", "10000000"})
        int n;

        @Setup(Level.Trial)
        public void setUp() {
            init(n, DelayCorrectedNesterov.builder().learningRate(0.05).momentum(0.9).build());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            checkFinite("DelayCorrectedNesterov");
        }
    }

    @State(Scope.Benchmark)
    public static class Dl4jNesterovs extends Fixture {
        @Param({"1000000", "10000000"})
        int n;

        @Setup(Level.Trial)
        public void setUp() {
            init(n, new Nesterovs(0.05, 0.9));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            checkFinite("DL4J Nesterovs");
        }
    }

    /** The gradient restore alone, the common overhead of every benchmark below. */
    @Benchmark
    public INDArray copyOnly(CopyState s) {
        return s.gradient.assign(s.pristine);
    }

    @Benchmark
    public INDArray nadamOursFused(DiscountedNadamFused s) {
        return s.step();
    }

    @Benchmark
    public INDArray nadamOursOps(DiscountedNadamOps s) {
        return s.step();
    }

    @Benchmark
    public INDArray nadamDl4j(Dl4jNadam s) {
        return s.step();
    }

    @Benchmark
    public INDArray nesterovOurs(DelayCorrectedNesterovState s) {
        return s.step();
    }

    @Benchmark
    public INDArray nesterovDl4j(Dl4jNesterovs s) {
        return s.step();
    }
}
