package io.asyncpipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TinyText;
import io.asyncpipeline.transformer.TransformerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NativeMemoryGuardTest {

    @Test
    void collectsAndTrimsWhileOpenAndStopsWhenClosed() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            NativeMemoryGuard guard = NativeMemoryGuard.open(16L << 20);
            try (guard) {
                INDArray[] garbage = new INDArray[4];
                while (guard.trims() == 0) {
                    for (int i = 0; i < garbage.length; i++) {
                        garbage[i] = Nd4j.ones(DataType.FLOAT, 4 << 20);      // 16 MB each, touched
                    }
                    Thread.sleep(20);
                }
                assertTrue(guard.collections() >= 1, "a trim follows a collection");
                assertTrue(guard.overheadNanos() > 0);
            }
            int after = guard.collections();
            for (int i = 0; i < 20; i++) {
                Nd4j.ones(DataType.FLOAT, 4 << 20);
                Thread.sleep(20);
            }
            assertEquals(after, guard.collections(), "a closed guard asks for nothing");
        });
    }

    @Test
    void aBudgetMustBePositive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeMemoryGuard.open(0));
        assertTrue(e.getMessage().contains("budgetBytes"), e.getMessage());
    }

    @Test
    void setsSameDiffsCacheSwitchWhileAnyGuardIsOpenAndLeavesAUsersValueAlone() {
        String before = System.getProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY);
        System.clearProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY);
        try {
            NativeMemoryGuard a = NativeMemoryGuard.open();
            NativeMemoryGuard b = NativeMemoryGuard.open();
            assertEquals("false", System.getProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY));
            a.close();
            a.close();                                              // twice: counted once
            assertEquals("false", System.getProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY), "b is still open");
            b.close();
            assertEquals(null, System.getProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY), "given back");

            System.setProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY, "true");
            try (NativeMemoryGuard c = NativeMemoryGuard.open()) {
                assertEquals("true", System.getProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY), "the user's value");
            }
            assertEquals("true", System.getProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY));
        } finally {
            if (before == null) {
                System.clearProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY);
            } else {
                System.setProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY, before);
            }
        }
    }

    /**
     * Plain {@code sd.fit} inside a guard frees the intermediate arrays of each step at once (outside, SameDiff keeps
     * them in its cache, open), and trains to the same bits.
     */
    @Test
    void plainSameDiffFitInsideAGuardFreesEachStepsArraysAndGivesTheSameBits() {
        String before = System.getProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY);
        System.clearProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY);
        try {
            List<INDArray> outside = new ArrayList<>();
            SameDiff plain = fitTiny(outside);
            List<INDArray> inside = new ArrayList<>();
            SameDiff guarded;
            try (NativeMemoryGuard g = NativeMemoryGuard.open()) {
                guarded = fitTiny(inside);
            }
            long closedOutside = outside.stream().filter(INDArray::wasClosed).count();
            long closedInside = inside.stream().filter(INDArray::wasClosed).count();
            assertTrue(inside.size() > 100, "ops ran: " + inside.size());
            assertTrue(closedInside > inside.size() / 2, closedInside + " of " + inside.size() + " freed inside");
            assertTrue(closedOutside < closedInside / 4, closedOutside + " of " + outside.size() + " freed outside");
            for (var v : plain.variables()) {
                if (v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(v.getArr().data().asFloat(),
                            guarded.getVariable(v.name()).getArr().data().asFloat(), 0f, v.name());
                }
            }
        } finally {
            if (before != null) {
                System.setProperty(NativeMemoryGuard.SAMEDIFF_CACHE_PROPERTY, before);
            }
        }
    }

    /** Three steps of a tiny transformer with plain sd.fit; every op output of the training steps lands in outputs. */
    private static SameDiff fitTiny(List<INDArray> outputs) {
        TinyText text = new TinyText();
        TransformerConfig c = TransformerConfig.builder().vocabSize(text.vocabSize()).contextLength(12).modelDim(24)
                .heads(2).layers(2).mlpDim(48).seed(3).build();
        SameDiff sd = DecoderTransformer.build(c);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(new Adam(1e-3)));
        DecoderTransformer.prepareForFit(sd);
        sd.addListeners(new BaseListener() {
            @Override
            public boolean isActive(Operation operation) {
                return true;
            }

            @Override
            public void opExecution(SameDiff s, At at, org.nd4j.linalg.dataset.api.MultiDataSet batch, SameDiffOp op,
                                    OpContext ctx, INDArray[] out) {
                for (INDArray a : out) {
                    if (a != null) {
                        outputs.add(a);
                    }
                }
            }
        });
        for (DataSet d : text.batches(3, 8, 12, 11, DataType.FLOAT)) {
            sd.fit(d);
        }
        return sd;
    }
}
