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

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable decode) {
        MalformedMessageException e = assertThrows(MalformedMessageException.class, decode);
        assertTrue(e.getMessage().startsWith("malformed pipeline message: "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }
}
