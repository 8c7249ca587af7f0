package io.asyncpipeline.transport;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * How the activations and gradients that cross a stage boundary are sent: as they are, or rounded to a smaller
 * type, which halves or quarters the bytes on a network link. The rounding happens at every boundary, whatever
 * carries it (in-JVM queues, gRPC between threads, stage processes), and in the single-threaded replay: so a run in
 * processes still equals the replay bit for bit, and only the numbers change against an uncompressed run.
 *
 * <p>On the wire each floating-point tensor {@code x} of type T becomes two arrays: its payload and a scalar of type
 * T (the receiver turns the payload back into T):
 * <ul>
 *   <li>{@link #FP16}: payload {@code x} rounded to IEEE half precision (11 significant bits, range ±65504: larger
 *       values become infinite); scalar 1.</li>
 *   <li>{@link #BF16}: payload {@code x} rounded to bfloat16 (8 significant bits, the range of FLOAT); scalar 1.</li>
 *   <li>{@link #INT8}: payload {@code round(x / s)} as 8-bit integers in [-127, 127] with the per-tensor scale
 *       {@code s = max|x| / 127} (1 when {@code x} is all zeros), the scalar; the receiver gets {@code q · s}.</li>
 * </ul>
 * Tensors of other types (integer indices, booleans) travel as they are, with a scalar of their own type; a null
 * tensor (an input that gets no gradient) travels as two nulls.
 * Labels and masks are never compressed.
 */
public enum BoundaryCompression {
    /** The tensors as they are (default). */
    NONE(null),
    /** IEEE 754 half precision: half the bytes of FLOAT. */
    FP16(DataType.HALF),
    /** bfloat16: half the bytes of FLOAT, FLOAT's range with 8 significant bits. */
    BF16(DataType.BFLOAT16),
    /** 8-bit integers with one scale per tensor: a quarter of the bytes of FLOAT. */
    INT8(DataType.INT8);

    private final DataType payload;

    BoundaryCompression(DataType payload) {
        this.payload = payload;
    }

    /** The arrays to send for {@code tensors} (new arrays; {@code tensors} are not changed). */
    public INDArray[] compress(INDArray[] tensors) {
        if (this == NONE || tensors == null) {
            return tensors;
        }
        INDArray[] out = new INDArray[2 * tensors.length];
        for (int i = 0; i < tensors.length; i++) {
            INDArray x = tensors[i];
            if (x == null) {
                continue;        // an input that gets no gradient: null payload and scalar, null again on arrival
            }
            DataType t = x.dataType();
            if (!t.isFPType() || x.isEmpty()) {
                out[2 * i] = x;
                out[2 * i + 1] = Nd4j.scalar(t, 1);
            } else if (this == INT8) {
                double max = x.amaxNumber().doubleValue();
                INDArray scale = Nd4j.scalar(t, max > 0 && Double.isFinite(max) ? max / 127.0 : 1.0);
                INDArray q = x.div(scale.getDouble(0));
                Transforms.round(q, false);
                Transforms.min(Transforms.max(q, -127.0, false), 127.0, false);
                out[2 * i] = q.castTo(DataType.INT8);
                out[2 * i + 1] = scale;
                q.close();
            } else {
                out[2 * i] = x.castTo(payload);
                out[2 * i + 1] = Nd4j.scalar(t, 1);
            }
        }
        return out;
    }

    /**
     * The tensors that {@code sent} (from {@link #compress}) stand for, in the types they had. The arrays of
     * {@code sent} are freed when {@code release} is set (the receiver owns them and needs them no more).
     *
     * @throws MalformedMessageException when {@code sent} is not what {@link #compress} makes
     */
    public INDArray[] decompress(INDArray[] sent, boolean release) {
        if (this == NONE || sent == null) {
            return sent;
        }
        if (sent.length % 2 != 0) {
            throw new MalformedMessageException(name() + " boundary: " + sent.length
                    + " arrays, expected a payload and a scalar per tensor");
        }
        INDArray[] out = new INDArray[sent.length / 2];
        for (int i = 0; i < out.length; i++) {
            INDArray p = sent[2 * i];
            INDArray s = sent[2 * i + 1];
            if (p == null && s == null) {
                continue;
            }
            if (p == null || s == null || s.length() != 1) {
                throw new MalformedMessageException(name() + " boundary: tensor " + i
                        + " lacks its payload or its scalar");
            }
            DataType t = s.dataType();
            if (!t.isFPType() || p.dataType() == t) {
                out[i] = p;
                continue;
            }
            if (p.dataType() != payload) {
                throw new MalformedMessageException(name() + " boundary: tensor " + i + " arrived as "
                        + p.dataType() + ", expected " + payload);
            }
            out[i] = p.castTo(t);
            if (this == INT8) {
                out[i].muli(s.getDouble(0));
            }
            if (release) {
                close(p);
            }
        }
        if (release) {
            for (int i = 0; i < out.length; i++) {
                if (sent[2 * i + 1] != null) {
                    close(sent[2 * i + 1]);
                }
            }
        }
        return out;
    }

    /** Bytes of one element of the payload of a FLOAT tensor (4 for {@link #NONE}). */
    public int bytesPerFloat() {
        return this == NONE ? 4 : payload.width();
    }

    private static void close(INDArray a) {
        if (!a.wasClosed() && a.closeable()) {
            a.close();
        }
    }
}
