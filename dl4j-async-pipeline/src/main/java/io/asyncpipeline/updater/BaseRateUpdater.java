package io.asyncpipeline.updater;

import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * The learning-rate part shared by this package's updater configs: a fixed rate or an
 * {@link ISchedule}, validated, serialised as the fields {@code learningRate} and
 * {@code learningRateSchedule}.
 */
public abstract class BaseRateUpdater implements IUpdater {

    private static final long serialVersionUID = 1L;

    private double learningRate;
    private ISchedule learningRateSchedule;

    /** @param learningRate used when {@code learningRateSchedule} is null; then it must be finite and > 0 */
    protected BaseRateUpdater(double learningRate, ISchedule learningRateSchedule) {
        if (learningRateSchedule == null) {
            Checks.positive("learningRate", learningRate);
        }
        this.learningRate = learningRate;
        this.learningRateSchedule = learningRateSchedule;
    }

    /** The fixed learning rate; NaN when a schedule is set (see {@link #getLearningRateSchedule()}). */
    public double getLearningRate() {
        return learningRateSchedule == null ? learningRate : Double.NaN;
    }

    public ISchedule getLearningRateSchedule() {
        return learningRateSchedule;
    }

    /** The stored rate (also when a schedule overrides it), for copies. */
    protected double rawLearningRate() {
        return learningRate;
    }

    /** A clone of the schedule, or null. */
    protected ISchedule clonedSchedule() {
        return learningRateSchedule == null ? null : learningRateSchedule.clone();
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        if (learningRateSchedule != null) {
            return Checks.scheduled("learningRate", learningRateSchedule.valueAt(iteration, epoch), iteration, false);
        }
        return learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    /**
     * Replaces the learning rate or its schedule. Required by {@link IUpdater} for DL4J's
     * {@code NetworkUtils.setLearningRate}; the only mutator of these otherwise immutable configs.
     */
    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        if (lrSchedule == null) {
            Checks.positive("learningRate", lr);
            this.learningRate = lr;
        }
        this.learningRateSchedule = lrSchedule;
    }

    @Override
    public abstract IUpdater clone();

    /** The schedule if set, else the fixed rate: what {@code equals} and {@code hashCode} compare. */
    protected Object effectiveLearningRate() {
        return learningRateSchedule != null ? learningRateSchedule : (Object) learningRate;
    }
}
