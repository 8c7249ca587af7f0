package io.asyncpipeline.stage;

/**
 * A stage received a message its schedule did not expect next: the schedule and the channels disagree.
 * The runtime adds the stage × time grid of what every stage had done to the error it reports.
 */
public final class ScheduleOrderException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public ScheduleOrderException(String message) {
        super(message);
    }
}
