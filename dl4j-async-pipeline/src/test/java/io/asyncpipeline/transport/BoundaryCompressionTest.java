package io.asyncpipeline.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The rounding of every boundary mode, what travels, and what a malformed boundary message gets. */
class BoundaryCompressionTest {

    private static INDArray sample() {
        Nd4j.getRandom().setSeed(4);
        return Nd4j.randn(DataType.FLOAT, 64, 32).muli(3.0);
    }

    private static INDArray roundTrip(BoundaryCompression c, INDArray x) {
        INDArray[] sent = c.compress(new INDArray[] {x});
        return c.decompress(sent, true)[0];
    }

    @Test
    void halfPrecisionModesRoundLikeACastAndHalveTheBytes() {
        INDArray x = sample();
        for (BoundaryCompression c : new BoundaryCompression[] {BoundaryCompression.FP16, BoundaryCompression.BF16}) {
            INDArray[] sent = c.compress(new INDArray[] {x});
            assertEquals(2, sent.length, "payload and scalar");
            assertEquals(2, sent[0].dataType().width(), c + " payload of 2 bytes per value");
            INDArray back = c.decompress(sent, false)[0];
            assertEquals(DataType.FLOAT, back.dataType());
            DataType half = c == BoundaryCompression.FP16 ? DataType.HALF : DataType.BFLOAT16;
            assertArrayEquals(x.castTo(half).castTo(DataType.FLOAT).ravel().toFloatVector(), back.ravel().toFloatVector(), 0f, c.name());
            assertNotEquals(0.0, x.sub(back).amaxNumber().doubleValue(), c + " really rounds");
            double relative = x.sub(back).div(x).amaxNumber().doubleValue();
            assertTrue(relative <= (c == BoundaryCompression.FP16 ? 1.0 / 1024 : 1.0 / 128), c + ": " + relative);
        }
    }

    @Test
    void int8KeepsEveryValueWithinHalfAScaleStep() {
        INDArray x = sample();
        INDArray[] sent = BoundaryCompression.INT8.compress(new INDArray[] {x});
        assertEquals(DataType.INT8, sent[0].dataType());
        double scale = sent[1].getDouble(0);
        assertEquals(x.amaxNumber().doubleValue() / 127.0, scale, 1e-6);
        assertEquals(127.0, sent[0].castTo(DataType.FLOAT).amaxNumber().doubleValue(), 0.0, "the largest value uses 127");
        INDArray back = BoundaryCompression.INT8.decompress(sent, false)[0];
        assertTrue(x.sub(back).amaxNumber().doubleValue() <= scale / 2 * (1 + 1e-5));
        INDArray zeros = Nd4j.zeros(DataType.FLOAT, 3, 3);
        assertEquals(0.0, roundTrip(BoundaryCompression.INT8, zeros).amaxNumber().doubleValue(), 0.0);
        assertArrayEquals(x.ravel().toFloatVector(), sample().ravel().toFloatVector(), 0f, "the sender's tensor is not changed");
    }

    @Test
    void theSameTensorRoundsTheSameEveryTime() {
        INDArray x = sample();
        for (BoundaryCompression c : BoundaryCompression.values()) {
            assertArrayEquals(roundTrip(c, x).ravel().toFloatVector(), roundTrip(c, x.dup()).ravel().toFloatVector(), 0f, c.name());
        }
    }

    @Test
    void noneAndNonFloatingTensorsPassUnchanged() {
        INDArray x = sample();
        INDArray[] tensors = {x};
        assertSame(tensors, BoundaryCompression.NONE.compress(tensors));
        assertSame(tensors, BoundaryCompression.NONE.decompress(tensors, true));
        INDArray ids = Nd4j.createFromArray(3, 1, 4, 1, 5);
        INDArray back = roundTrip(BoundaryCompression.INT8, ids);
        assertEquals(DataType.INT32, back.dataType());
        assertArrayEquals(new int[] {3, 1, 4, 1, 5}, back.toIntVector());
        INDArray d = Nd4j.rand(DataType.DOUBLE, 4, 4);
        assertEquals(DataType.DOUBLE, roundTrip(BoundaryCompression.FP16, d).dataType(), "restored to its own type");
    }

    @Test
    void aNullTensorTravelsAsNull() {
        INDArray x = sample();
        INDArray[] sent = BoundaryCompression.INT8.compress(new INDArray[] {null, x});
        assertEquals(4, sent.length);
        assertEquals(null, sent[0]);
        assertEquals(null, sent[1]);
        INDArray[] back = BoundaryCompression.INT8.decompress(sent, true);
        assertEquals(null, back[0]);
        assertEquals(x.rank(), back[1].rank());
        Message m = MessageCodec.decode(MessageCodec.encode(new Message(0, 0, 64,
                BoundaryCompression.FP16.compress(new INDArray[] {null, x}), null, null, null)));
        assertEquals(null, BoundaryCompression.FP16.decompress(m.tensors(), true)[0], "null survives the codec");
    }

    @Test
    void theReceiverFreesWhatItDecompressed() {
        INDArray[] sent = BoundaryCompression.FP16.compress(new INDArray[] {sample()});
        BoundaryCompression.FP16.decompress(sent, true);
        assertTrue(sent[0].wasClosed());
        assertTrue(sent[1].wasClosed());
    }

    @Test
    void aMalformedBoundaryIsRefusedByName() {
        INDArray x = sample();
        MalformedMessageException odd = assertThrows(MalformedMessageException.class,
                () -> BoundaryCompression.FP16.decompress(new INDArray[] {x}, false));
        assertTrue(odd.getMessage().contains("payload and a scalar"), odd.getMessage());
        MalformedMessageException type = assertThrows(MalformedMessageException.class,
                () -> BoundaryCompression.FP16.decompress(new INDArray[] {x.castTo(DataType.INT8), Nd4j.scalar(1f)}, false));
        assertTrue(type.getMessage().contains("expected HALF"), type.getMessage());
    }

    @Test
    void theEncodedMessageShrinksWithThePayload() {
        INDArray x = sample();
        int plain = MessageCodec.encode(new Message(0, 0, 64, new INDArray[] {x}, null, null, null)).length;
        int int8 = MessageCodec.encode(new Message(0, 0, 64, BoundaryCompression.INT8.compress(new INDArray[] {x}), null,
                null, null)).length;
        int fp16 = MessageCodec.encode(new Message(0, 0, 64, BoundaryCompression.FP16.compress(new INDArray[] {x}), null,
                null, null)).length;
        assertTrue(fp16 < plain * 0.51, fp16 + " vs " + plain);
        assertTrue(int8 < plain * 0.26, int8 + " vs " + plain);
    }
}
