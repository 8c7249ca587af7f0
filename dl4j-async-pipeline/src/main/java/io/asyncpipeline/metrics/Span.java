package io.asyncpipeline.metrics;

/**
 * One interval of a stage's timeline: an op it ran, or a wait.
 *
 * @param kind       what the stage did
 * @param stage      the stage
 * @param index      the micro-batch of a forward, recompute, backward, load or wait; the update step of an update
 *                   (both counted from 0 in each epoch)
 * @param epoch      the model's epoch count when the micro-batch was read
 * @param startNanos start, in nanoseconds since the fit began
 * @param endNanos   end, in nanoseconds since the fit began ({@code >= startNanos})
 */
public record Span(Kind kind, int stage, int index, int epoch, long startNanos, long endNanos) {

    /**
     * What a span records. The four wait kinds are idle time: the stage is in a channel's receive or send (a send
     * blocks while the channel is full; any span also contains the time its thread was not scheduled).
     */
    public enum Kind {
        /** A stage's forward of micro-batch {@code index}. */
        FORWARD("F", "forward", 'F'),
        /** A forward re-run right before the backward (activation recompute, or a stash slot that was reused). */
        RECOMPUTE("R", "recompute", 'R'),
        /** A stage's backward of micro-batch {@code index}. */
        BACKWARD("B", "backward", 'B'),
        /** The stage's optimizer update number {@code index}. */
        UPDATE("U", "update", 'U'),
        /** Stage 0 reading micro-batch {@code index} from the training iterator (including its split and checks). */
        LOAD("load", "load", 'L'),
        /** Idle: blocked receiving the activations of micro-batch {@code index} from the previous stage. */
        WAIT_ACTIVATIONS("idle", "idle", '.'),
        /** Idle: blocked receiving the gradients of micro-batch {@code index} from the next stage. */
        WAIT_GRADIENTS("idle", "idle", '.'),
        /** Idle: sending the activations of micro-batch {@code index} to the next stage (blocks while its channel is full). */
        SEND_ACTIVATIONS("idle", "idle", '.'),
        /** Idle: sending the gradients of micro-batch {@code index} to the previous stage (blocks while its channel is full). */
        SEND_GRADIENTS("idle", "idle", '.');

        private final String label;
        private final String category;
        private final char symbol;

        Kind(String label, String category, char symbol) {
            this.label = label;
            this.category = category;
            this.symbol = symbol;
        }

        /** True for the waits, false for the ops (and the load). */
        public boolean idle() {
            return category.equals("idle");
        }

        /** The trace-event category: forward, recompute, backward, update, load or idle. */
        public String category() {
            return category;
        }

        /** The character of the text timeline ({@link PipelineTimeline#render}). */
        public char symbol() {
            return symbol;
        }

        /** What the stage did while idle (the {@code "wait"} argument of a trace event), or null for an op. */
        public String waitReason() {
            return switch (this) {
                case WAIT_ACTIVATIONS -> "receive activations";
                case WAIT_GRADIENTS -> "receive gradients";
                case SEND_ACTIVATIONS -> "send activations";
                case SEND_GRADIENTS -> "send gradients";
                default -> null;
            };
        }
    }

    /** {@code endNanos - startNanos}. */
    public long durationNanos() {
        return endNanos - startNanos;
    }

    /** The span's name in a trace: {@code "F 12"}, {@code "R 12"}, {@code "B 12"}, {@code "U 3"}, {@code "load 12"} or {@code "idle"}. */
    public String name() {
        return kind.idle() ? "idle" : kind.label + " " + index;
    }
}
