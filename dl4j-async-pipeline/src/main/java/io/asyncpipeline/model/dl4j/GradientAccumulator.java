package io.asyncpipeline.model.dl4j;

import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Sums a stage's gradients over the backwards of one update (M > 1 micro-batches). DL4J writes every
 * backward's gradient into the same flat view, so the first one is copied aside before the second
 * overwrites it, and later ones are added; with a single backward nothing is copied.
 */
public final class GradientAccumulator {

    private INDArray accumulated;
    private int backwards;

    /** Call before each backward, with the stage's flat gradient view (may be null or empty). */
    public void beforeBackward(INDArray view) {
        if (backwards == 1 && hasValues(view)) {
            if (accumulated == null) {
                accumulated = view.dup();
            } else {
                accumulated.assign(view);
            }
        }
    }

    /** Call after each backward. */
    public void afterBackward(INDArray view) {
        if (backwards >= 1 && hasValues(view)) {
            accumulated.addi(view);
        }
        backwards++;
    }

    /** Leaves the summed gradient in {@code view}, ready for the update. */
    public void sumInto(INDArray view) {
        if (backwards > 1 && hasValues(view)) {
            view.assign(accumulated);
        }
    }

    /** Forgets the backwards since the last update (after an update, or after an aborted run). */
    public void reset() {
        backwards = 0;
    }

    /**
     * Ends an optimizer step: {@code params -= update} (the updater's output, left in the gradient view),
     * the layers' constraints, and {@link #reset}.
     */
    public void applyStep(INDArray params, INDArray update, Layer[] layers, int iteration, int epoch) {
        params.subi(update.reshape(params.shape()));
        for (Layer l : layers) {
            l.applyConstraints(iteration, epoch);
        }
        reset();
    }

    /**
     * The {@link Gradient} DL4J's multi-layer updaters expect: the flat view, plus every parameter's view
     * keyed {@code "<layer or vertex>_<parameter>"}.
     */
    public static Gradient byParameter(INDArray flat, Map<String, Gradient> byLayer) {
        Gradient g = new DefaultGradient(flat);
        for (Map.Entry<String, Gradient> e : byLayer.entrySet()) {
            for (Map.Entry<String, INDArray> p : e.getValue().gradientForVariable().entrySet()) {
                g.setGradientFor(e.getKey() + "_" + p.getKey(), p.getValue());
            }
        }
        return g;
    }

    private static boolean hasValues(INDArray view) {
        return view != null && view.length() > 0;
    }
}
