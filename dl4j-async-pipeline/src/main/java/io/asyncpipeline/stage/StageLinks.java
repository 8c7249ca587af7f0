package io.asyncpipeline.stage;

import io.asyncpipeline.transport.Channel;

/**
 * A stage's connections: channels to its neighbours (null at the ends of the pipeline), the data
 * source (first stage only) and the update observer (last stage only).
 */
public record StageLinks(Channel forwardIn, Channel forwardOut,
                         Channel backwardIn, Channel backwardOut,
                         MicroBatchSource source, UpdateObserver observer) {
}
