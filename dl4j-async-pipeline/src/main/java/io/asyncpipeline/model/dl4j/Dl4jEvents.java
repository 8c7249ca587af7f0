package io.asyncpipeline.model.dl4j;

import java.util.Collection;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.TrainingListener;

/** What DL4J's own fit does to counters and listeners, shared by the MultiLayerNetwork and graph adapters. */
public final class Dl4jEvents {

    private Dl4jEvents() {
    }

    /** Sets every layer's iteration and epoch counters (dropout and other schedules read them). */
    public static void setLayerCounters(Layer[] layers, int iteration, int epoch) {
        for (Layer l : layers) {
            l.setIterationCount(iteration);
            l.setEpochCount(epoch);
        }
    }

    public static void iterationDone(Model model, Collection<TrainingListener> listeners, int iteration, int epoch) {
        for (TrainingListener l : listeners) {
            l.iterationDone(model, iteration, epoch);
        }
    }

    public static void epoch(Model model, Collection<TrainingListener> listeners, boolean start) {
        for (TrainingListener l : listeners) {
            if (start) {
                l.onEpochStart(model);
            } else {
                l.onEpochEnd(model);
            }
        }
    }
}
