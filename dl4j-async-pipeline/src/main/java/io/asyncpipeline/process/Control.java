package io.asyncpipeline.process;

import io.asyncpipeline.metrics.StageMetrics;
import io.asyncpipeline.transport.MalformedMessageException;
import io.asyncpipeline.transport.Message;
import io.asyncpipeline.transport.MessageCodec;
import io.asyncpipeline.transport.grpc.ByteMarshaller;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The control stream between the coordinator and one stage host: a gRPC bidirectional stream of frames, each a type
 * byte and its fields. The coordinator sends a job (the model and the options), then per epoch a run, then asks for
 * the stages' state; the host answers each, and sends the last stage's losses as they come. Both ends send a ping
 * every {@link #PING_MILLIS} and give the other up after {@link #lostMillis()} of silence.
 */
final class Control {

    static final long PING_MILLIS = 500;
    /** The system property that sets {@link #lostMillis()}, in milliseconds. */
    static final String LOST_PROPERTY = "asyncpipeline.peerSilenceMillis";
    static final long DEFAULT_LOST_MILLIS = 10_000;

    /**
     * How long a control stream may stay silent before its other end is given up: the system property
     * {@value #LOST_PROPERTY}, by default {@value #DEFAULT_LOST_MILLIS} ms, at least 2 pings.
     */
    static long lostMillis() {
        String v = System.getProperty(LOST_PROPERTY);
        if (v == null || v.isBlank()) {
            return DEFAULT_LOST_MILLIS;
        }
        long ms;
        try {
            ms = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(LOST_PROPERTY + " is a number of milliseconds, got '" + v + "'");
        }
        if (ms < 2 * PING_MILLIS) {
            throw new IllegalArgumentException(LOST_PROPERTY + " must be at least " + 2 * PING_MILLIS + " ms, got " + ms);
        }
        return ms;
    }

    // coordinator -> host
    static final byte JOB = 1;
    static final byte RUN = 2;
    static final byte COLLECT = 3;
    static final byte ABORT = 4;
    static final byte PING = 6;
    // host -> coordinator
    static final byte READY = 11;
    static final byte SCORE = 12;
    static final byte DONE = 13;
    static final byte FAILED = 14;
    static final byte STATE = 15;

    static final MethodDescriptor<byte[], byte[]> METHOD = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("asyncpipeline.Host", "Control"))
            .setRequestMarshaller(ByteMarshaller.INSTANCE).setResponseMarshaller(ByteMarshaller.INSTANCE).build();

    private Control() {
    }

    /** Writes a frame: the type, then whatever {@code body} writes. */
    static byte[] frame(byte type, IoWriter body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(type);
            if (body != null) {
                body.write(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static DataInputStream reader(byte[] frame) {
        if (frame.length == 0) {
            throw new MalformedMessageException("empty control frame");
        }
        return new DataInputStream(new ByteArrayInputStream(frame, 1, frame.length - 1));
    }

    /** A count read from the wire, checked before anything is allocated for it. */
    static int count(int n, String what) {
        if (n < 0 || n > 1 << 28) {
            throw new MalformedMessageException("control frame: " + n + " " + what);
        }
        return n;
    }

    @FunctionalInterface
    interface IoWriter {
        void write(DataOutput out) throws IOException;
    }

    /** Job: what to build. */
    record Job(String fitId, int first, int count, int total, String previous, String next, JobSpec spec,
               ShippedModel model) {

        byte[] encode() {
            return frame(JOB, out -> {
                out.writeUTF(fitId);
                out.writeInt(first);
                out.writeInt(count);
                out.writeInt(total);
                out.writeUTF(previous);
                out.writeUTF(next);
                spec.write(out);
                out.writeByte(model.kind());
                out.writeInt(model.bytes().length);
                out.write(model.bytes());
            });
        }

        static Job decode(DataInput in) throws IOException {
            String fitId = in.readUTF();
            int first = in.readInt();
            int count = in.readInt();
            int total = in.readInt();
            String previous = in.readUTF();
            String next = in.readUTF();
            JobSpec spec = JobSpec.read(in);
            byte kind = in.readByte();
            byte[] model = new byte[Control.count(in.readInt(), "model bytes")];
            in.readFully(model);
            return new Job(fitId, first, count, total, previous, next, spec, new ShippedModel(kind, model));
        }
    }

    static void writeMetrics(DataOutput out, List<StageMetrics> metrics) throws IOException {
        out.writeInt(metrics.size());
        for (StageMetrics m : metrics) {
            out.writeInt(m.stage());
            out.writeLong(m.forwardNanos());
            out.writeLong(m.recomputeNanos());
            out.writeLong(m.backwardNanos());
            out.writeLong(m.updateNanos());
            out.writeInt(m.forwards());
            out.writeInt(m.recomputes());
            out.writeInt(m.backwards());
            out.writeInt(m.updates());
            out.writeLong(m.peakStashBytes());
            out.writeInt(m.delayCounts().size());
            for (Map.Entry<Integer, Integer> e : m.delayCounts().entrySet()) {
                out.writeInt(e.getKey());
                out.writeInt(e.getValue());
            }
        }
    }

    static List<StageMetrics> readMetrics(DataInput in) throws IOException {
        int n = count(in.readInt(), "stage metrics");
        List<StageMetrics> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int stage = in.readInt();
            long f = in.readLong();
            long r = in.readLong();
            long b = in.readLong();
            long u = in.readLong();
            int fs = in.readInt();
            int rs = in.readInt();
            int bs = in.readInt();
            int us = in.readInt();
            long stash = in.readLong();
            int d = count(in.readInt(), "delay counts");
            Map<Integer, Integer> delays = new TreeMap<>();
            for (int j = 0; j < d; j++) {
                delays.put(in.readInt(), in.readInt());
            }
            out.add(StageMetrics.of(stage, f, r, b, u, fs, rs, bs, us, stash, delays));
        }
        return out;
    }

    /** Arrays as one codec message (raw bytes, exact). */
    static void writeArrays(DataOutput out, List<INDArray> arrays) throws IOException {
        byte[] m = MessageCodec.encode(new Message(-1, 0, 0, arrays.toArray(new INDArray[0]), null, null, null));
        out.writeInt(m.length);
        out.write(m);
    }

    static INDArray[] readArrays(DataInput in) throws IOException {
        byte[] m = new byte[count(in.readInt(), "state bytes")];
        in.readFully(m);
        INDArray[] t = MessageCodec.decode(m).tensors();
        return t == null ? new INDArray[0] : t;
    }

}
