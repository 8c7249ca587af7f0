package io.asyncpipeline.stage;

import io.asyncpipeline.transport.Channel;

/**
 * A stage's connections: channels to its neighbours (null at the ends of the pipeline), the data
 * source (first stage only) and the update observer (last stage only).
 */
public record StageLinks(Channel<Message> forwardIn, Channel<Message> forwardOut,
                         Channel<Message> backwardIn, Channel<Message> backwardOut,
                         MicroBatchSource source, UpdateObserver observer) {
}
