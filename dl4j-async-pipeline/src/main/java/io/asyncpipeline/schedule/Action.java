package io.asyncpipeline.schedule;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One step of a stage's work list: a forward or backward pass of a micro-batch, or an optimizer update.
 *
 * <p>The compact form is {@code <stage><letter><index>}, e.g. {@code 2F0}, {@code 0B13}, {@code 1U4}.
 *
 * @param stage pipeline stage that executes the action (0-based)
 * @param type  kind of action
 * @param index micro-batch index for FORWARD/BACKWARD, update step for UPDATE (0-based)
 */
public record Action(int stage, ActionType type, int index) {

    private static final Pattern COMPACT = Pattern.compile("(\\d+)([FBU])(\\d+)");

    /** Validates the components. */
    public Action {
        Objects.requireNonNull(type, "type");
        if (stage < 0) {
            throw new IllegalArgumentException("stage must be >= 0 but was " + stage);
        }
        if (index < 0) {
            throw new IllegalArgumentException("index must be >= 0 but was " + index);
        }
    }

    /** @return forward of micro-batch {@code microBatch} on {@code stage} */
    public static Action forward(int stage, int microBatch) {
        return new Action(stage, ActionType.FORWARD, microBatch);
    }

    /** @return backward of micro-batch {@code microBatch} on {@code stage} */
    public static Action backward(int stage, int microBatch) {
        return new Action(stage, ActionType.BACKWARD, microBatch);
    }

    /** @return optimizer step {@code step} on {@code stage} */
    public static Action update(int stage, int step) {
        return new Action(stage, ActionType.UPDATE, step);
    }

    /**
     * Parses the compact form produced by {@link #toString()}.
     *
     * @param text e.g. {@code "0B13"}
     * @return the action
     * @throws IllegalArgumentException naming {@code text} if it is not a valid compact action
     */
    public static Action parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("Cannot parse action from null text");
        }
        Matcher m = COMPACT.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("Bad action text '" + text
                    + "'; expected <stage><F|B|U><index>, e.g. 2F0");
        }
        try {
            return new Action(Integer.parseInt(m.group(1)), ActionType.fromLetter(m.group(2).charAt(0)),
                    Integer.parseInt(m.group(3)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Bad action text '" + text + "': number out of int range", e);
        }
    }

    /** @return the action without its stage, e.g. {@code F3}; used in grids */
    public String label() {
        return type.letter() + Integer.toString(index);
    }

    @Override
    public String toString() {
        return stage + label();
    }
}
