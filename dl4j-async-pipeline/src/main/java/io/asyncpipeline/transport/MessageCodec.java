package io.asyncpipeline.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns a {@link Message} into bytes and back: a small header (magic, version, kind, micro-batch, epoch,
 * examples), then four groups of arrays (tensors, labels, feature masks, label masks), each array as
 * data type, shape and its bytes in C order, then a halt's error text. Little-endian throughout; the
 * raw tensor bytes are copied straight out of and into ND4J buffers.
 *
 * <p>An array whose every element is exactly 0 or 1 of its type (FLOAT, DOUBLE, INT or LONG, compared bit
 * for bit, so {@code -0.0} does not count) travels as one bit per element instead: one-hot labels and masks
 * shrink 32 to 64 times. The receiver rebuilds the same bits, so this is lossless and the single-threaded
 * replay needs no counterpart.
 *
 * <p>Decoding checks every field and throws {@link MalformedMessageException} naming the first one that
 * is wrong.
 */
public final class MessageCodec {

    static final int MAGIC = 0x41505031;          // "APP1"
    static final byte VERSION = 2;
    private static final byte ABSENT = 0;
    private static final byte RAW = 1;
    private static final byte BITS = 2;
    /** Arrays shorter than this travel raw: packing them saves too little to scan for it. */
    static final long MIN_PACKED_LENGTH = 64;
    private static final int MAX_RANK = 32;
    private static final int MAX_ARRAYS = 1 << 16;

    private MessageCodec() {
    }

    /** The bytes of {@code m}. */
    public static byte[] encode(Message m) {
        INDArray[][] groups = {m.tensors(), m.labels(), m.featureMasks(), m.labelMasks()};
        INDArray[][] contiguous = new INDArray[4][];
        boolean[][] packed = new boolean[4][];
        long size = 4 + 1 + 1 + 4 + 4 + 4;
        for (int g = 0; g < 4; g++) {
            contiguous[g] = contiguous(groups[g]);
            size += 4;
            if (contiguous[g] != null) {
                packed[g] = new boolean[contiguous[g].length];
                for (int i = 0; i < contiguous[g].length; i++) {
                    INDArray a = contiguous[g][i];
                    if (a == null) {
                        size += 1;
                        continue;
                    }
                    packed[g][i] = isBinary(a);
                    size += 1 + 1 + 1 + 8L * a.rank() + 8 + (packed[g][i] ? packedBytes(a.length())
                            : a.length() * a.dataType().width());
                }
            }
        }
        byte[] error = m.error() == null ? new byte[0] : m.error().getBytes(StandardCharsets.UTF_8);
        size += 4 + error.length;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("message of " + size + " bytes is too large for one byte array: " + m);
        }
        ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(MAGIC).put(VERSION).put((byte) m.kind().ordinal());
        out.putInt(m.microBatch()).putInt(m.epoch()).putInt(m.examples());
        for (int g = 0; g < 4; g++) {
            putGroup(out, contiguous[g], packed[g]);
        }
        out.putInt(error.length).put(error);
        return out.array();
    }

    /** The message in {@code bytes}; arrays are new, detached, C-ordered arrays. */
    public static Message decode(byte[] bytes) {
        if (bytes == null) {
            throw new MalformedMessageException("no bytes (null)");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            int magic = in.getInt();
            if (magic != MAGIC) {
                throw new MalformedMessageException(String.format("bad magic 0x%08x (expected 0x%08x): not a pipeline"
                        + " message", magic, MAGIC));
            }
            byte version = in.get();
            if (version != VERSION) {
                throw new MalformedMessageException("version " + version + ", this build reads version " + VERSION);
            }
            int kind = in.get();
            if (kind < 0 || kind >= Message.Kind.values().length) {
                throw new MalformedMessageException("unknown message kind " + kind);
            }
            int microBatch = in.getInt();
            int epoch = in.getInt();
            int examples = in.getInt();
            INDArray[][] groups = new INDArray[4][];
            for (int g = 0; g < 4; g++) {
                groups[g] = getGroup(in, g);
            }
            int errorLength = in.getInt();
            if (errorLength < 0 || errorLength > in.remaining()) {
                throw new MalformedMessageException("error text of " + errorLength + " bytes, " + in.remaining() + " left");
            }
            byte[] error = new byte[errorLength];
            in.get(error);
            if (in.hasRemaining()) {
                throw new MalformedMessageException(in.remaining() + " bytes after the end of the message");
            }
            return switch (Message.Kind.values()[kind]) {
                case END -> Message.END;
                case HALT -> Message.halt(epoch, microBatch, new String(error, StandardCharsets.UTF_8));
                case DATA -> new Message(microBatch, epoch, examples, groups[0], groups[1], groups[2], groups[3]);
            };
        } catch (java.nio.BufferUnderflowException e) {
            throw new MalformedMessageException("truncated: " + bytes.length + " bytes end inside a field", e);
        }
    }

    private static INDArray[] contiguous(INDArray[] arrays) {
        if (arrays == null) {
            return null;
        }
        INDArray[] out = new INDArray[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            INDArray a = arrays[i];
            boolean plain = a == null || !a.isView() && a.ordering() == 'c' && a.data().length() == a.length();
            out[i] = plain ? a : a.dup('c');
        }
        return out;
    }

    private static long packedBytes(long length) {
        return (length + 7) / 8;
    }

    /** The bit pattern of 1 in {@code dt}, or 0 when arrays of {@code dt} are never packed. */
    private static long one(DataType dt) {
        return switch (dt) {
            case FLOAT -> Float.floatToRawIntBits(1f);
            case DOUBLE -> Double.doubleToRawLongBits(1.0);
            case INT, LONG -> 1L;
            default -> 0L;
        };
    }

    /** True when the C-ordered, contiguous {@code a} is long enough and every element is exactly 0 or 1. */
    static boolean isBinary(INDArray a) {
        long one = one(a.dataType());
        if (one == 0 || a.length() < MIN_PACKED_LENGTH) {
            return false;
        }
        ByteBuffer raw = a.data().asNio().duplicate().order(ByteOrder.nativeOrder());
        int n = (int) a.length();
        if (a.dataType().width() == 4) {
            java.nio.IntBuffer v = raw.asIntBuffer();
            for (int i = 0; i < n; i++) {
                int x = v.get(i);
                if (x != 0 && x != one) {
                    return false;
                }
            }
        } else {
            java.nio.LongBuffer v = raw.asLongBuffer();
            for (int i = 0; i < n; i++) {
                long x = v.get(i);
                if (x != 0 && x != one) {
                    return false;
                }
            }
        }
        return true;
    }

    private static void putGroup(ByteBuffer out, INDArray[] group, boolean[] packed) {
        out.putInt(group == null ? -1 : group.length);
        if (group == null) {
            return;
        }
        for (int i = 0; i < group.length; i++) {
            INDArray a = group[i];
            out.put(a == null ? ABSENT : packed[i] ? BITS : RAW);
            if (a == null) {
                continue;
            }
            out.put((byte) a.dataType().ordinal()).put((byte) a.rank());
            for (long d : a.shape()) {
                out.putLong(d);
            }
            if (packed[i]) {
                putBits(out, a);
                continue;
            }
            long n = a.length() * a.dataType().width();
            out.putLong(n);
            if (n > 0) {
                ByteBuffer raw = a.data().asNio().duplicate();
                raw.position(0).limit((int) n);
                out.put(raw);
            }
        }
    }

    private static void putBits(ByteBuffer out, INDArray a) {
        int n = (int) a.length();
        out.putLong(packedBytes(n));
        ByteBuffer raw = a.data().asNio().duplicate().order(ByteOrder.nativeOrder());
        java.nio.IntBuffer ints = a.dataType().width() == 4 ? raw.asIntBuffer() : null;
        java.nio.LongBuffer longs = ints == null ? raw.asLongBuffer() : null;
        int current = 0;
        for (int i = 0; i < n; i++) {
            boolean set = ints != null ? ints.get(i) != 0 : longs.get(i) != 0;
            if (set) {
                current |= 1 << (i & 7);
            }
            if ((i & 7) == 7) {
                out.put((byte) current);
                current = 0;
            }
        }
        if ((n & 7) != 0) {
            out.put((byte) current);
        }
    }

    private static INDArray[] getGroup(ByteBuffer in, int g) {
        int count = in.getInt();
        if (count == -1) {
            return null;
        }
        if (count < 0 || count > MAX_ARRAYS) {
            throw new MalformedMessageException("array group " + g + " claims " + count + " arrays");
        }
        INDArray[] out = new INDArray[count];
        for (int i = 0; i < count; i++) {
            byte present = in.get();
            if (present == ABSENT) {
                continue;
            }
            if (present != RAW && present != BITS) {
                throw new MalformedMessageException("array " + i + " of group " + g + ": presence flag " + present);
            }
            out[i] = getArray(in, g, i, present == BITS);
        }
        return out;
    }

    private static INDArray getArray(ByteBuffer in, int g, int i, boolean bits) {
        String where = "array " + i + " of group " + g;
        int type = in.get();
        if (type < 0 || type >= DataType.values().length) {
            throw new MalformedMessageException(where + ": unknown data type " + type);
        }
        DataType dt = DataType.values()[type];
        int rank = in.get();
        if (rank < 0 || rank > MAX_RANK) {
            throw new MalformedMessageException(where + ": rank " + rank);
        }
        long[] shape = new long[rank];
        long length = 1;
        for (int d = 0; d < rank; d++) {
            shape[d] = in.getLong();
            if (shape[d] < 0) {
                throw new MalformedMessageException(where + ": dimension " + d + " is " + shape[d]);
            }
            length = Math.multiplyExact(length, shape[d]);
        }
        long n = in.getLong();
        if (bits) {
            return getBits(in, where, dt, shape, length, n);
        }
        if (n != length * dt.width() || n > in.remaining()) {
            throw new MalformedMessageException(where + ": " + n + " data bytes for shape " + java.util.Arrays.toString(shape)
                    + " of " + dt + " (" + in.remaining() + " bytes left)");
        }
        INDArray a = Nd4j.createUninitializedDetached(dt, 'c', shape);
        if (n > 0) {
            ByteBuffer raw = a.data().asNio().duplicate();
            raw.position(0).limit((int) n);
            ByteBuffer src = in.slice();
            src.limit((int) n);
            raw.put(src);
            in.position(in.position() + (int) n);
        }
        return a;
    }

    private static INDArray getBits(ByteBuffer in, String where, DataType dt, long[] shape, long length, long n) {
        long one = one(dt);
        if (one == 0) {
            throw new MalformedMessageException(where + ": packed bits for data type " + dt
                    + " (only FLOAT, DOUBLE, INT and LONG are packed)");
        }
        if (length > Integer.MAX_VALUE) {
            throw new MalformedMessageException(where + ": " + length + " packed elements, more than one array holds");
        }
        if (n != packedBytes(length) || n > in.remaining()) {
            throw new MalformedMessageException(where + ": " + n + " packed bytes for shape "
                    + java.util.Arrays.toString(shape) + " (expected " + packedBytes(length) + ", " + in.remaining()
                    + " bytes left)");
        }
        if ((length & 7) != 0 && n > 0) {
            int last = in.get(in.position() + (int) n - 1) & 0xff;
            if ((last >>> (length & 7)) != 0) {
                throw new MalformedMessageException(where + ": bits set past the last of " + length + " elements");
            }
        }
        INDArray a = Nd4j.createUninitializedDetached(dt, 'c', shape);
        ByteBuffer raw = a.data().asNio().duplicate().order(ByteOrder.nativeOrder());
        java.nio.IntBuffer ints = dt.width() == 4 ? raw.asIntBuffer() : null;
        java.nio.LongBuffer longs = ints == null ? raw.asLongBuffer() : null;
        int base = in.position();
        for (int e = 0; e < (int) length; e++) {
            boolean set = (in.get(base + (e >>> 3)) >>> (e & 7) & 1) != 0;
            if (ints != null) {
                ints.put(e, set ? (int) one : 0);
            } else {
                longs.put(e, set ? one : 0L);
            }
        }
        in.position(base + (int) n);
        return a;
    }
}
