package io.asyncpipeline.model.dl4j;

import java.util.Map;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Copies per-parameter optimizer state between two DL4J multi-layer updaters whose parameters overlap
 * by a known offset. DL4J keeps each block's state (e.g. NAdam's m and v) as arrays over the block's
 * parameter range, and blocks of the two updaters need not line up, so the copy goes key by key over
 * the intersection of every pair of blocks.
 */
public final class UpdaterStates {

    private UpdaterStates() {
    }

    /**
     * Copies state from {@code from} to {@code to}, where parameter {@code i} of {@code to} is parameter
     * {@code i + offset} of {@code from}. With {@code reverse} the copy goes from {@code to} back into
     * {@code from}. Blocks whose state keys differ (another updater type) are skipped and left as they are.
     */
    public static void copy(Updater from, Updater to, long offset, boolean reverse) {
        for (UpdaterBlock big : ((BaseMultiLayerUpdater<?>) from).getUpdaterBlocks()) {
            for (UpdaterBlock small : ((BaseMultiLayerUpdater<?>) to).getUpdaterBlocks()) {
                long lo = Math.max(big.getParamOffsetStart(), small.getParamOffsetStart() + offset);
                long hi = Math.min(big.getParamOffsetEnd(), small.getParamOffsetEnd() + offset);
                if (lo < hi) {
                    copyRange(big, small, lo, hi, offset, reverse);
                }
            }
        }
    }

    private static void copyRange(UpdaterBlock big, UpdaterBlock small, long lo, long hi, long offset, boolean reverse) {
        Map<String, INDArray> bigState = big.getGradientUpdater().getState();
        Map<String, INDArray> smallState = small.getGradientUpdater().getState();
        if (bigState == null || smallState == null || !bigState.keySet().equals(smallState.keySet())) {
            return;
        }
        for (String key : bigState.keySet()) {
            INDArray b = flat(bigState.get(key)).get(NDArrayIndex.interval(lo - big.getParamOffsetStart(),
                    hi - big.getParamOffsetStart()));
            INDArray s = flat(smallState.get(key)).get(NDArrayIndex.interval(lo - offset - small.getParamOffsetStart(),
                    hi - offset - small.getParamOffsetStart()));
            if (reverse) {
                b.assign(s);
            } else {
                s.assign(b);
            }
        }
    }

    private static INDArray flat(INDArray a) {
        INDArray f = org.nd4j.linalg.api.shape.Shape.newShapeNoCopy(a, new long[] {a.length()}, a.ordering() == 'f');
        if (f == null) {
            throw new IllegalStateException("updater state array of shape " + java.util.Arrays.toString(a.shape())
                    + " is not contiguous; cannot copy it in place");
        }
        return f;
    }
}
