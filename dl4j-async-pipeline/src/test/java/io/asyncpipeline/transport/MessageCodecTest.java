package io.asyncpipeline.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class MessageCodecTest {

    private static Message roundTrip(Message m) {
        return MessageCodec.decode(MessageCodec.encode(m));
    }

    private static void assertSameArray(INDArray expected, INDArray actual) {
        assertEquals(expected.dataType(), actual.dataType());
        assertArrayEquals(expected.shape(), actual.shape());
        if (expected.dataType().isFPType()) {
            assertArrayEquals(expected.dup('c').data().asDouble(), actual.data().asDouble(), 0.0, "bits");
        } else {
            assertArrayEquals(expected.dup('c').data().asLong(), actual.data().asLong());
        }
    }

    @Test
    void dataMessageKeepsEveryFieldAndEveryBit() {
        Nd4j.getRandom().setSeed(3);
        INDArray act = Nd4j.randn(DataType.DOUBLE, 4, 5).muli(1e-300);       // subnormal-scale values survive
        INDArray skip = Nd4j.rand(DataType.FLOAT, 4, 3, 2);
        INDArray labels = Nd4j.createFromArray(new int[][] {{1, 0}, {0, 1}, {1, 1}, {0, 0}});
        INDArray mask = Nd4j.ones(DataType.FLOAT, 4, 2);
        Message m = new Message(17, 3, 4, new INDArray[] {act, null, skip}, new INDArray[] {labels},
                new INDArray[] {mask, null}, null);

        Message back = roundTrip(m);

        assertEquals(Message.Kind.DATA, back.kind());
        assertEquals(17, back.microBatch());
        assertEquals(3, back.epoch());
        assertEquals(4, back.examples());
        assertEquals(3, back.tensors().length);
        assertSameArray(act, back.tensors()[0]);
        assertNull(back.tensors()[1]);
        assertSameArray(skip, back.tensors()[2]);
        assertSameArray(labels, back.labels()[0]);
        assertSameArray(mask, back.featureMasks()[0]);
        assertNull(back.featureMasks()[1]);
        assertNull(back.labelMasks());
        assertTrue(back.tensors()[0] != act, "the receiver gets new arrays");
    }

    @Test
    void viewsAndFortranOrderAreSentAsTheirValues() {
        INDArray base = Nd4j.linspace(DataType.DOUBLE, 1, 60, 1).reshape(6, 10);
        INDArray view = base.get(NDArrayIndex.interval(2, 5), NDArrayIndex.interval(1, 7));
        INDArray fortran = Nd4j.linspace(DataType.FLOAT, 1, 12, 1).reshape('f', 3, 4);
        INDArray scalar = Nd4j.scalar(2.5);
        INDArray empty = Nd4j.create(DataType.FLOAT, 0, 3);
        Message back = roundTrip(new Message(0, 0, 3, new INDArray[] {view, fortran, scalar, empty}, null, null, null));
        assertEquals(view, back.tensors()[0]);
        assertEquals(fortran, back.tensors()[1]);
        assertEquals(2.5, back.tensors()[2].getDouble(0), 0.0);
        assertEquals(0, back.tensors()[2].rank());
        assertArrayEquals(new long[] {0, 3}, back.tensors()[3].shape());
        assertNull(back.labels());
    }

    @Test
    void endAndHaltRoundTrip() {
        assertSame(Message.END, roundTrip(Message.END));
        Message halt = roundTrip(Message.halt(2, 9, "NaN loss at iteration 4"));
        assertTrue(halt.isHalt());
        assertEquals(2, halt.epoch(), "a halt's epoch field carries the failing stage");
        assertEquals(9, halt.microBatch());
        assertEquals("NaN loss at iteration 4", halt.error());
    }

    @Test
    void malformedBytesAreRejectedNamingTheField() {
        byte[] good = MessageCodec.encode(new Message(1, 0, 2, new INDArray[] {Nd4j.ones(2, 3)}, null, null, null));

        assertMessage("no bytes", () -> MessageCodec.decode(null));
        assertMessage("truncated", () -> MessageCodec.decode(Arrays.copyOf(good, 3)));
        assertMessage("truncated", () -> MessageCodec.decode(Arrays.copyOf(good, good.length - 5)));
        assertMessage("bytes after the end", () -> MessageCodec.decode(Arrays.copyOf(good, good.length + 1)));

        byte[] magic = good.clone();
        magic[0] ^= 0x55;
        assertMessage("bad magic", () -> MessageCodec.decode(magic));

        byte[] version = good.clone();
        version[4] = 9;
        assertMessage("version 9", () -> MessageCodec.decode(version));

        byte[] kind = good.clone();
        kind[5] = 7;
        assertMessage("unknown message kind 7", () -> MessageCodec.decode(kind));

        // header: magic 4, version 1, kind 1, micro-batch 4, epoch 4, examples 4 = 18; then the tensor count
        byte[] count = good.clone();
        ByteBuffer.wrap(count).order(ByteOrder.LITTLE_ENDIAN).putInt(18, -7);
        assertMessage("claims -7 arrays", () -> MessageCodec.decode(count));

        // first array: presence 1 byte (22), data type 1 byte (23), rank (24), dims from 25
        byte[] rank = good.clone();
        rank[24] = 40;
        assertMessage("rank 40", () -> MessageCodec.decode(rank));

        byte[] dim = good.clone();
        ByteBuffer.wrap(dim).order(ByteOrder.LITTLE_ENDIAN).putLong(25, 4);
        assertMessage("data bytes for shape [4, 3]", () -> MessageCodec.decode(dim));
    }

    @Test
    void oneHotLabelsAndMasksTravelAsBitsAndComeBackBitForBit() {
        // one-hot labels [b, vocab, T] as the transformer makes them, a 0/1 mask, 0/1 ints and longs
        int b = 8, vocab = 60, t = 32;
        INDArray oneHot = Nd4j.zeros(DataType.FLOAT, b, vocab, t);
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                oneHot.putScalar(new long[] {i, r.nextInt(vocab), j}, 1f);
            }
        }
        INDArray mask = Nd4j.ones(DataType.DOUBLE, b, t);
        mask.putScalar(new long[] {3, 7}, 0.0);
        INDArray ints = Nd4j.createFromArray(new int[101]).reshape(101);
        ints.putScalar(100, 1);
        INDArray longs = Nd4j.ones(DataType.LONG, 9, 9);
        INDArray act = Nd4j.rand(DataType.FLOAT, b, 16, t);
        Message m = new Message(4, 0, b, new INDArray[] {act}, new INDArray[] {oneHot, ints},
                new INDArray[] {mask}, new INDArray[] {longs});

        byte[] bytes = MessageCodec.encode(m);
        Message back = MessageCodec.decode(bytes);

        assertBits(oneHot, back.labels()[0]);
        assertBits(ints, back.labels()[1]);
        assertBits(mask, back.featureMasks()[0]);
        assertBits(longs, back.labelMasks()[0]);
        assertBits(act, back.tensors()[0]);
        long rawLabelBytes = oneHot.length() * 4 + ints.length() * 4 + mask.length() * 8 + longs.length() * 8;
        long actBytes = act.length() * 4;
        assertTrue(bytes.length < actBytes + rawLabelBytes / 20,
                bytes.length + " bytes: the 0/1 arrays should shrink more than 20 times from " + rawLabelBytes);
    }

    @Test
    void almostBinaryArraysTravelRawAndKeepTheirBits() {
        INDArray half = Nd4j.zeros(DataType.FLOAT, 100);
        half.putScalar(50, 0.5f);
        INDArray negativeZero = Nd4j.ones(DataType.DOUBLE, 100);
        negativeZero.putScalar(3, -0.0);
        INDArray small = Nd4j.ones(DataType.FLOAT, 10);       // shorter than MIN_PACKED_LENGTH
        INDArray bytes8 = Nd4j.ones(DataType.BYTE, 100);      // a type that is not packed
        assertTrue(!MessageCodec.isBinary(half) && !MessageCodec.isBinary(negativeZero)
                && !MessageCodec.isBinary(small) && !MessageCodec.isBinary(bytes8));
        assertTrue(MessageCodec.isBinary(Nd4j.ones(DataType.FLOAT, 100)));
        Message back = roundTrip(new Message(0, 0, 1, null, new INDArray[] {half, negativeZero, small, bytes8},
                null, null));
        assertBits(half, back.labels()[0]);
        assertBits(negativeZero, back.labels()[1]);
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(back.labels()[1].getDouble(3)),
                "-0.0 keeps its sign bit");
        assertBits(small, back.labels()[2]);
        assertBits(bytes8, back.labels()[3]);
    }

    @Test
    void malformedPackedArraysAreRejectedNamingTheField() {
        INDArray ones = Nd4j.ones(DataType.FLOAT, 70);   // 70 elements: 9 packed bytes, 2 unused bits
        byte[] good = MessageCodec.encode(new Message(1, 0, 1, new INDArray[] {ones}, null, null, null));
        assertEquals(Message.Kind.DATA, MessageCodec.decode(good).kind());
        // tensors: count at 18, presence at 22 (2 = bits), type 23, rank 24, dim 25-32, packed length 33-40, bits 41-49
        assertEquals(2, good[22]);

        byte[] padding = good.clone();
        padding[49] |= (byte) 0x80;
        assertMessage("bits set past the last of 70 elements", () -> MessageCodec.decode(padding));

        byte[] length = good.clone();
        ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).putLong(33, 8);
        assertMessage("8 packed bytes for shape [70]", () -> MessageCodec.decode(length));

        byte[] type = good.clone();
        type[23] = (byte) DataType.BYTE.ordinal();
        assertMessage("packed bits for data type BYTE", () -> MessageCodec.decode(type));

        byte[] flag = good.clone();
        flag[22] = 3;
        assertMessage("presence flag 3", () -> MessageCodec.decode(flag));
    }

    private static void assertBits(INDArray expected, INDArray actual) {
        assertEquals(expected.dataType(), actual.dataType());
        assertArrayEquals(expected.shape(), actual.shape());
        ByteBuffer e = expected.dup('c').data().asNio().duplicate();
        ByteBuffer a = actual.data().asNio().duplicate();
        int n = (int) (expected.length() * expected.dataType().width());
        e.position(0).limit(n);
        a.position(0).limit(n);
        assertEquals(e, a, "the same bytes");
    }

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable decode) {
        MalformedMessageException e = assertThrows(MalformedMessageException.class, decode);
        assertTrue(e.getMessage().startsWith("malformed pipeline message: "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }
}
