package io.asyncpipeline.schedule;

/** Kind of work a pipeline stage performs; each kind has a one-letter code used in compact strings. */
public enum ActionType {
    /** Forward pass of one micro-batch. */
    FORWARD('F'),
    /** Backward pass of one micro-batch. */
    BACKWARD('B'),
    /** Optimizer step applying accumulated gradients. */
    UPDATE('U');

    private final char letter;

    ActionType(char letter) {
        this.letter = letter;
    }

    /** @return the one-letter code ({@code F}, {@code B} or {@code U}) */
    public char letter() {
        return letter;
    }

    /**
     * Looks up a type by its letter.
     *
     * @param letter {@code F}, {@code B} or {@code U}
     * @return the matching type
     * @throws IllegalArgumentException if the letter is not one of the three codes
     */
    public static ActionType fromLetter(char letter) {
        for (ActionType t : values()) {
            if (t.letter == letter) {
                return t;
            }
        }
        throw new IllegalArgumentException("Unknown action letter '" + letter + "'; expected F, B or U");
    }
}
