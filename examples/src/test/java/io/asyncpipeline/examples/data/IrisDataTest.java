package io.asyncpipeline.examples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

class IrisDataTest {

    @Test
    void hasOneHundredFiftyRowsAndThreeBalancedClasses() {
        DataSet ds = IrisData.load();
        assertArrayEquals(new long[] {150, 4}, ds.getFeatures().shape());
        assertArrayEquals(new long[] {150, 3}, ds.getLabels().shape());
        assertArrayEquals(new double[] {50, 50, 50}, ds.getLabels().sum(0).toDoubleVector(), 0.0);
        assertArrayEquals(new double[150], ds.getLabels().sum(1).subi(1).toDoubleVector(), 0.0);
    }

    @Test
    void featuresAreStandardised() {
        INDArray f = IrisData.load().getFeatures();
        assertArrayEquals(new double[4], f.mean(0).toDoubleVector(), 1e-5);
        assertArrayEquals(new double[] {1, 1, 1, 1}, f.std(false, 0).toDoubleVector(), 1e-5);
    }

    @Test
    void shuffleIsSeeded() {
        assertEquals(IrisData.load(3).getFeatures(), IrisData.load(3).getFeatures());
        assertNotEquals(IrisData.load(3).getFeatures(), IrisData.load(4).getFeatures());
        // classes are not left in file order
        INDArray firstTen = IrisData.load().getLabels().getRows(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertNotEquals(10.0, firstTen.getColumn(0).sumNumber().doubleValue());
    }

    @Test
    void iteratorBatches() {
        DataSetIterator it = IrisData.iterator(64, 1);
        int total = 0;
        while (it.hasNext()) {
            total += it.next().numExamples();
        }
        assertEquals(150, total);
        assertEquals(4, it.inputColumns());
        assertEquals(3, it.totalOutcomes());
    }
}
