package io.asyncpipeline.updater;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;

/**
 * The math of {@link DiscountedNadam}: turns a gradient into the update that DL4J subtracts from the
 * parameters, in place, and advances the moments {@code m} ("M") and {@code v} ("V").
 *
 * <p>State view layout: {@code [m (n) | v (n)]}, so {@code stateSize(n) = 2n} stays linear in n and DL4J
 * can merge layers into one block. {@code Π_t} is recomputed from the iteration count (cached between
 * consecutive steps), so it needs no storage and survives every save and load.
 *
 * <p>On the CPU backend with dense FLOAT or DOUBLE arrays the update runs as one fused pass over the
 * host memory; otherwise it falls back to ND4J ops with one temporary array.
 */
public final class DiscountedNadamUpdater implements GradientUpdater<DiscountedNadam> {

    /** State key of the first moment, as in DL4J's Adam-family updaters. */
    public static final String M_STATE = "M";
    /** State key of the second moment. */
    public static final String V_STATE = "V";

    private final DiscountedNadam config;
    private INDArray m;
    private INDArray v;
    private long cachedStep;
    private double cachedProduct = 1.0;
    private boolean forceOpsPath;
    private boolean lastStepFused;

    public DiscountedNadamUpdater(DiscountedNadam config) {
        this.config = config;
    }

    @Override
    public DiscountedNadam getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        if (stateMap == null || !stateMap.containsKey(M_STATE) || !stateMap.containsKey(V_STATE) || stateMap.size() != 2) {
            throw new IllegalStateException("DiscountedNadam state must hold exactly the keys [" + M_STATE + ", "
                    + V_STATE + "], got " + (stateMap == null ? null : stateMap.keySet()));
        }
        INDArray newM = stateMap.get(M_STATE);
        INDArray newV = stateMap.get(V_STATE);
        if (newM.length() != newV.length()) {
            throw new IllegalStateException("DiscountedNadam state arrays differ in length: M has " + newM.length()
                    + ", V has " + newV.length());
        }
        this.m = newM;
        this.v = newV;
        if (initialize) {
            m.assign(0);
            v.assign(0);
        }
    }

    @Override
    public Map<String, INDArray> getState() {
        Map<String, INDArray> state = new HashMap<>();
        state.put(M_STATE, m);
        state.put(V_STATE, v);
        return state;
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        INDArray flat = viewArray.reshape(viewArray.length());
        if (flat.length() % 2 != 0) {
            throw new IllegalStateException("DiscountedNadam state view must have even length 2n, got " + flat.length());
        }
        if (initialize) {
            flat.assign(0);
        }
        long n = flat.length() / 2;
        this.m = reshapeView(flat.get(NDArrayIndex.interval(0, n)), gradientShape, gradientOrder);
        this.v = reshapeView(flat.get(NDArrayIndex.interval(n, 2 * n)), gradientShape, gradientOrder);
    }

    private static INDArray reshapeView(INDArray part, long[] shape, char order) {
        INDArray shaped = Shape.newShapeNoCopy(part, shape, order == 'f');
        if (shaped == null) {
            throw new IllegalStateException("Cannot view DiscountedNadam state of length " + part.length()
                    + " as gradient shape " + java.util.Arrays.toString(shape));
        }
        return shaped;
    }

    /** For tests: always use the ND4J-ops path instead of the fused CPU pass. */
    void forceOpsPath(boolean force) {
        this.forceOpsPath = force;
    }

    /** For tests: whether the last step took the fused host-memory pass. */
    boolean lastStepFused() {
        return lastStepFused;
    }

    /** {@code Π_t = μ_1 ⋯ μ_t}, extended from the previous step when possible (same product order, same bits). */
    double muProduct(long t) {
        if (t < cachedStep || cachedStep == 0) {
            cachedStep = 0;
            cachedProduct = 1.0;
        }
        while (cachedStep < t) {
            cachedStep++;
            cachedProduct *= config.mu(cachedStep);
        }
        return cachedProduct;
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (m == null) {
            throw new IllegalStateException("DiscountedNadamUpdater has no state: call setStateViewArray or setState first");
        }
        if (gradient.length() != m.length()) {
            throw new IllegalArgumentException("Gradient has " + gradient.length() + " values but the updater state is for "
                    + m.length());
        }
        long t = iteration + 1L;
        double lr = config.getLearningRate(iteration, epoch);
        double muT = config.mu(t);
        double muNext = config.mu(t + 1);
        double product = muProduct(t);
        Coefficients c = new Coefficients(
                config.getBeta1(), config.getBeta2(),
                lr * (1.0 - muT) / (1.0 - product),
                lr * muNext / (1.0 - product * muNext),
                1.0 / (1.0 - Math.pow(config.getBeta2(), t)),
                config.getEpsilon());
        boolean sameShape = java.util.Arrays.equals(gradient.shape(), m.shape());
        INDArray g = sameShape ? gradient : gradient.reshape(m.shape());
        lastStepFused = !forceOpsPath && DirectBuffers.eligible(g, m, v);
        if (lastStepFused) {
            if (g.dataType() == org.nd4j.linalg.api.buffer.DataType.DOUBLE) {
                fusedDouble(DirectBuffers.doubles(g), DirectBuffers.doubles(m), DirectBuffers.doubles(v), c);
            } else {
                fusedFloat(DirectBuffers.floats(g), DirectBuffers.floats(m), DirectBuffers.floats(v), c);
            }
        } else {
            withOps(g, c);
        }
        if (!sameShape && g.data() != gradient.data()) {
            gradient.assign(g.reshape(gradient.ordering(), gradient.shape()));
        }
    }

    /** Per-step scalars: moment decays, the gradient and momentum weights (η folded in), 1/(1-β2^t), ε. */
    private record Coefficients(double beta1, double beta2, double gradWeight, double momWeight,
                                double invBias2, double epsilon) {
    }

    private static void fusedDouble(DoubleBuffer g, DoubleBuffer m, DoubleBuffer v, Coefficients c) {
        final double b1 = c.beta1, a1 = 1.0 - c.beta1, b2 = c.beta2, a2 = 1.0 - c.beta2;
        final double wg = c.gradWeight, wm = c.momWeight, ib = c.invBias2, eps = c.epsilon;
        final int n = g.limit();
        for (int i = 0; i < n; i++) {
            double gi = g.get(i);
            double mi = b1 * m.get(i) + a1 * gi;
            double vi = b2 * v.get(i) + a2 * gi * gi;
            m.put(i, mi);
            v.put(i, vi);
            g.put(i, (wg * gi + wm * mi) / (Math.sqrt(vi * ib) + eps));
        }
    }

    private static void fusedFloat(FloatBuffer g, FloatBuffer m, FloatBuffer v, Coefficients c) {
        final float b1 = (float) c.beta1, a1 = (float) (1.0 - c.beta1);
        final float b2 = (float) c.beta2, a2 = (float) (1.0 - c.beta2);
        final float wg = (float) c.gradWeight, wm = (float) c.momWeight;
        final float ib = (float) c.invBias2, eps = (float) c.epsilon;
        final int n = g.limit();
        for (int i = 0; i < n; i++) {
            float gi = g.get(i);
            float mi = b1 * m.get(i) + a1 * gi;
            float vi = b2 * v.get(i) + a2 * gi * gi;
            m.put(i, mi);
            v.put(i, vi);
            g.put(i, (wg * gi + wm * mi) / ((float) Math.sqrt(vi * ib) + eps));
        }
    }

    /** The same update with whole-array ND4J ops (any backend, any layout); one temporary. */
    private void withOps(INDArray g, Coefficients c) {
        INDArray tmp = Nd4j.createUninitialized(g.dataType(), g.shape(), g.ordering());
        m.muli(c.beta1).addi(g.mul(1.0 - c.beta1));
        Nd4j.exec(new MulOp(g, g, tmp));
        v.muli(c.beta2).addi(tmp.muli(1.0 - c.beta2));
        Nd4j.exec(new Sqrt(v.mul(c.invBias2), tmp));
        tmp.addi(c.epsilon);
        g.muli(c.gradWeight).addi(m.mul(c.momWeight)).divi(tmp);
    }
}
