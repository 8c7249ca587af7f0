package io.asyncpipeline.transport.grpc;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * A gRPC marshaller of byte arrays as they are (the codecs do the rest) with one copy each way: gRPC drains the array
 * straight into its send buffer ({@link Drainable}, {@link KnownLength}), and a received message is read into an array
 * of the length gRPC reports, not grown chunk by chunk.
 */
public enum ByteMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    INSTANCE;

    @Override
    public InputStream stream(byte[] value) {
        return new Stream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
        try {
            int n = stream.available();
            if (n <= 0) {
                return stream.readAllBytes();
            }
            byte[] b = new byte[n];
            int read = stream.readNBytes(b, 0, n);
            byte[] rest = stream.readAllBytes();
            if (read == n && rest.length == 0) {
                return b;
            }
            byte[] all = new byte[read + rest.length];
            System.arraycopy(b, 0, all, 0, read);
            System.arraycopy(rest, 0, all, read, rest.length);
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read a message", e);
        }
    }

    /** The array as a stream gRPC can drain in one write. */
    static final class Stream extends ByteArrayInputStream implements Drainable, KnownLength {
        Stream(byte[] value) {
            super(value);
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int n = count - pos;
            target.write(buf, pos, n);
            pos = count;
            return n;
        }
    }
}
