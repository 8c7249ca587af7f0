/**
 * Stages in separate processes: a stage host ({@link io.asyncpipeline.process.StageHost}, started by
 * {@link io.asyncpipeline.process.StageHostMain}) runs one stage or more; the coordinator
 * ({@link io.asyncpipeline.process.RemoteEngine}), in the user's JVM, owns the data iterator and the user's model,
 * ships the model to every host with DL4J's own serialisation, feeds stage 0, receives the last stage's losses, and
 * brings every stage's parameters and optimizer state home after each epoch. Stages talk to their neighbours over
 * the gRPC links of {@link io.asyncpipeline.transport.grpc.LinkRouter}; the coordinator talks to each host over one
 * control stream ({@link io.asyncpipeline.process.Control}).
 */
package io.asyncpipeline.process;
