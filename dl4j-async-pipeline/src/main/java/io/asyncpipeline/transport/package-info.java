/**
 * The seam between neighbouring stages. A stage talks to its neighbours only through the two
 * {@link io.asyncpipeline.transport.Channel}s of each cut that a {@link io.asyncpipeline.transport.Transport} opens,
 * and channels carry only {@link io.asyncpipeline.transport.Message}s: plain data (micro-batch id, epoch, example
 * count, tensors, labels, feature and label masks), the end of the stream, or a halt with the failure.
 *
 * <p>{@link io.asyncpipeline.transport.InJvmTransport} (the default) passes message objects through bounded queues.
 * {@link io.asyncpipeline.transport.SerialisingTransport} copies every message through bytes with
 * {@link io.asyncpipeline.transport.MessageCodec} (header, then raw tensor bytes), as a transport between processes
 * must; training over it gives the same bits. A network transport is one more {@code Transport} implementation, and
 * nothing else changes. Halting: in one JVM every channel watches the run's shared
 * {@link io.asyncpipeline.transport.HaltSignal}, so the in-JVM transports never send a HALT message; the codec
 * already encodes one for a transport whose peers cannot share that flag. {@link
 * io.asyncpipeline.transport.DeviceCopy} places arrays on a stage's device.
 */
package io.asyncpipeline.transport;
