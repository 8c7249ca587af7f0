package io.asyncpipeline.model.samediff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class PassArenaTest {

    @Test
    void aPassReusesThePreviousPassArraysByTypeAndShape() {
        PassArena a = new PassArena();
        INDArray x = a.allocate(false, DataType.FLOAT, 2, 3);
        INDArray y = a.allocate(true, DataType.FLOAT, 4);
        a.release(x);
        assertFalse(x.wasClosed(), "a released array stays valid until the pass ends");
        long xId = x.getId();
        a.endPass();

        INDArray x2 = a.allocate(false, DataType.FLOAT, 2, 3);
        assertSame(x, x2, "same type and shape: the previous pass's array");
        assertNotEquals(xId, x2.getId(), "with a new id, as the session tracks arrays by id");
        INDArray d = a.allocate(false, DataType.DOUBLE, 4);
        assertFalse(d == y, "another type is another array");
        assertEquals(3, a.allocations(), "x, y and d allocated fresh");
        a.endPass();
        assertTrue(y.wasClosed(), "an array the pass did not reuse is closed when it ends");
        assertFalse(x.wasClosed());
        assertEquals(3, a.allocations());
        assertEquals(1, a.reuses());

        a.close();
        assertTrue(x.wasClosed() && d.wasClosed(), "close frees pooled arrays");
    }

    @Test
    void closeFreesArraysStillInUse() {
        PassArena a = new PassArena();
        INDArray x = a.dup(org.nd4j.linalg.factory.Nd4j.ones(DataType.FLOAT, 3));
        assertEquals(3.0, x.sumNumber().doubleValue());
        a.close();
        assertTrue(x.wasClosed());
    }

    @Test
    void emptyShapesAreNotPooled() {
        PassArena a = new PassArena();
        INDArray e = a.allocate(false, DataType.FLOAT, 0, 3);
        assertTrue(e.isEmpty());
        a.endPass();
        assertEquals(0, a.allocations());
    }
}
