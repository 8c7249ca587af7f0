package io.asyncpipeline.examples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

class EuroparlTextTest {

    private static EuroparlText text;

    @BeforeAll
    static void load() {
        text = EuroparlText.load(0.1);
    }

    @Test
    void keepsOnlyTheEnglishDocuments() {
        // the resource holds 17 597 documents in eleven languages; about one in eleven is English
        assertTrue(text.documents() > 1000 && text.documents() < 2000, "documents: " + text.documents());
        assertTrue(text.trainLength() > 1_000_000, "train characters: " + text.trainLength());
        assertTrue(text.validationLength() > 100_000, "validation characters: " + text.validationLength());
        assertTrue(EuroparlText.isEnglish("The report of the committee and the vote of the house"));
        assertFalse(EuroparlText.isEnglish("La directive en examen sur l'égalité entre les hommes et les femmes"));
        assertFalse(EuroparlText.isEnglish("Detta är, givetvis, en komplicerad fråga."));
        String sample = text.trainText(1000, 400);
        assertTrue(sample.contains(" the "), sample);
    }

    @Test
    void mapsPrintableAsciiToOneThroughNinetyFiveAndTheRestToZero() {
        assertEquals(1, EuroparlText.id(' '));
        assertEquals(95, EuroparlText.id('~'));
        assertEquals(0, EuroparlText.id('é'));
        assertEquals(0, EuroparlText.id('\n'));
        for (char c = ' '; c <= '~'; c++) {
            assertEquals(c, EuroparlText.character(EuroparlText.id(c)));
        }
    }

    @Test
    void labelsAreTheNextCharacterOneHot() {
        List<DataSet> batches = text.trainBatches(3, 4, 16, 5, DataType.FLOAT);
        assertEquals(3, batches.size());
        for (DataSet ds : batches) {
            INDArray x = ds.getFeatures();
            INDArray y = ds.getLabels();
            assertArrayEquals(new long[] {4, 16}, x.shape());
            assertArrayEquals(new long[] {4, 16, EuroparlText.VOCAB_SIZE}, y.shape());
            assertEquals(4 * 16, y.sumNumber().intValue());
            INDArray next = y.argMax(2);
            for (int b = 0; b < 4; b++) {
                for (int j = 0; j + 1 < 16; j++) {
                    assertEquals(x.getInt(b, j + 1), next.getInt(b, j), "label of (" + b + "," + j + ")");
                }
            }
        }
        assertEquals(batches.get(0).getFeatures(), text.trainBatches(1, 4, 16, 5, DataType.FLOAT).get(0).getFeatures());
        assertNotEquals(batches.get(0).getFeatures(), text.trainBatches(1, 4, 16, 6, DataType.FLOAT).get(0).getFeatures());
    }

    /** The streaming iterator makes the same batches as the list, one at a time, and is read once. */
    @Test
    void trainIteratorMakesTheSameBatchesOnDemand() {
        List<DataSet> list = text.trainBatches(5, 3, 16, 11, DataType.FLOAT);
        org.nd4j.linalg.dataset.api.iterator.DataSetIterator it = text.trainIterator(5, 3, 16, 11, DataType.FLOAT);
        assertFalse(it.resetSupported());
        assertFalse(it.asyncSupported(), "no prefetch: a long run holds one batch");
        for (DataSet expected : list) {
            assertTrue(it.hasNext());
            DataSet d = it.next();
            assertEquals(expected.getFeatures(), d.getFeatures());
            assertEquals(expected.getLabels(), d.getLabels());
        }
        assertFalse(it.hasNext());
        assertThrows(java.util.NoSuchElementException.class, it::next);
    }

    @Test
    void validationWindowsAreFixedAndDisjointFromTraining() {
        List<DataSet> v1 = text.validationBatches(8, 32, 64, DataType.FLOAT);
        List<DataSet> v2 = text.validationBatches(8, 32, 64, DataType.FLOAT);
        assertEquals(8, v1.size());
        for (int i = 0; i < v1.size(); i++) {
            assertEquals(v1.get(i).getFeatures(), v2.get(i).getFeatures());
        }
        assertThrows(IllegalArgumentException.class, () -> text.validationBatches(8, 200_000, 64, DataType.FLOAT));
        assertThrows(IllegalArgumentException.class, () -> EuroparlText.load(1.0));
    }
}
