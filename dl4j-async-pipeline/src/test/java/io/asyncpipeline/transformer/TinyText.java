package io.asyncpipeline.transformer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** A small character-level corpus and next-character batches of it, for transformer tests. */
public final class TinyText {

    public static final String TEXT =
            "the cat sat on the mat. the dog sat on the log. a cat and a dog sat on a mat and a log. "
            + "the bird sang in the tree. the fish swam in the sea. a bird and a fish met by the sea. "
            + "we read the book by the fire. they ran to the hill and back. the sun is up and the sky is blue. ";

    private final String chars;
    private final int[] ids;

    public TinyText() {
        StringBuilder sb = new StringBuilder();
        TEXT.chars().distinct().sorted().forEach(c -> sb.append((char) c));
        chars = sb.toString();
        ids = TEXT.chars().map(chars::indexOf).toArray();
    }

    public int vocabSize() {
        return chars.length();
    }

    /** Batches of random windows: features = ids [B,T] (as the given type), labels = one-hot next ids [B,T,V]. */
    public List<DataSet> batches(int count, int batch, int t, long seed, DataType dt) {
        Random r = new Random(seed);
        List<DataSet> out = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            INDArray x = Nd4j.zeros(dt, batch, t);
            INDArray y = Nd4j.zeros(dt, batch, t, vocabSize());
            for (int b = 0; b < batch; b++) {
                int start = r.nextInt(ids.length - t - 1);
                for (int j = 0; j < t; j++) {
                    x.putScalar(b, j, ids[start + j]);
                    y.putScalar(new long[] {b, j, ids[start + j + 1]}, 1.0);
                }
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }
}
