package io.asyncpipeline.updater;

import java.util.Collections;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.updaters.NesterovsUpdater;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;

/**
 * The math of {@link DelayCorrectedNesterov}. One state array, the velocity {@code v} ("V").
 *
 * <p>It runs ND4J's fused native Nesterov op with step {@code η δ_t} and momentum {@code γ_t}; the op
 * writes {@code γ v_t - (1 + γ) v_{t+1}} into the gradient, which DL4J subtracts from the parameters.
 * With {@code δ = 1} the arguments, and so the bits, equal DL4J's {@code Nesterovs}.
 */
public final class DelayCorrectedNesterovUpdater implements GradientUpdater<DelayCorrectedNesterov> {

    /** State key of the velocity, as in DL4J's Nesterovs. */
    public static final String V_STATE = "V";

    private final DelayCorrectedNesterov config;
    private INDArray v;

    public DelayCorrectedNesterovUpdater(DelayCorrectedNesterov config) {
        this.config = config;
    }

    @Override
    public DelayCorrectedNesterov getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        if (stateMap == null || !stateMap.containsKey(V_STATE) || stateMap.size() != 1) {
            throw new IllegalStateException("DelayCorrectedNesterov state must hold exactly the key [" + V_STATE
                    + "], got " + (stateMap == null ? null : stateMap.keySet()));
        }
        this.v = stateMap.get(V_STATE);
        if (initialize) {
            v.assign(0);
        }
    }

    @Override
    public Map<String, INDArray> getState() {
        return Collections.singletonMap(V_STATE, v);
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (initialize) {
            viewArray.assign(0);
        }
        INDArray shaped = Shape.newShapeNoCopy(viewArray, gradientShape, gradientOrder == 'f');
        if (shaped == null) {
            throw new IllegalStateException("Cannot view DelayCorrectedNesterov state of length " + viewArray.length()
                    + " as gradient shape " + java.util.Arrays.toString(gradientShape));
        }
        this.v = shaped;
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (v == null) {
            throw new IllegalStateException("DelayCorrectedNesterovUpdater has no state: call setStateViewArray or setState first");
        }
        if (gradient.length() != v.length()) {
            throw new IllegalArgumentException("Gradient has " + gradient.length() + " values but the updater state is for "
                    + v.length());
        }
        double gamma = config.momentumAt(iteration, epoch);
        double step = config.getLearningRate(iteration, epoch) * config.discountAt(iteration, epoch);
        Nd4j.exec(new NesterovsUpdater(gradient.reshape(v.shape()), v, step, gamma));
    }
}
