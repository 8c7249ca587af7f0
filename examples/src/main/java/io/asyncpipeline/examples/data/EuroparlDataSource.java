package io.asyncpipeline.examples.data;

import org.deeplearning4j.arbiter.optimize.api.data.DataSource;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.util.Properties;

/**
 * The English Europarl character stream as an Arbiter {@link DataSource}: training batches of random windows
 * ({@link EuroparlText#trainIterator}, the same ones for every candidate) and a fixed validation set
 * ({@link EuroparlText#validationBatches}). Configured through properties, as Arbiter creates it by class:
 * {@value #CONTEXT}, {@value #BATCH}, {@value #STEPS}, {@value #SEED}, {@value #DTYPE}, {@value #VALIDATION_WINDOWS}.
 */
public final class EuroparlDataSource implements DataSource {

    private static final long serialVersionUID = 1L;

    public static final String CONTEXT = "context";
    public static final String BATCH = "batch";
    public static final String STEPS = "steps";
    public static final String SEED = "seed";
    public static final String DTYPE = "dtype";
    public static final String VALIDATION_WINDOWS = "validationWindows";

    private static EuroparlText text;

    private int context = 32;
    private int batch = 16;
    private int steps = 100;
    private long seed = 1;
    private DataType dtype = DataType.FLOAT;
    private int validationWindows = 256;

    public EuroparlDataSource() {
    }

    /** The properties for these settings. */
    public static Properties properties(int context, int batch, int steps, long seed, DataType dtype,
                                        int validationWindows) {
        Properties p = new Properties();
        p.setProperty(CONTEXT, Integer.toString(context));
        p.setProperty(BATCH, Integer.toString(batch));
        p.setProperty(STEPS, Integer.toString(steps));
        p.setProperty(SEED, Long.toString(seed));
        p.setProperty(DTYPE, dtype.name());
        p.setProperty(VALIDATION_WINDOWS, Integer.toString(validationWindows));
        return p;
    }

    /** The corpus, read once per JVM (10% held out for validation, as in TransformerComparison). */
    static synchronized EuroparlText text() {
        if (text == null) {
            text = EuroparlText.load(0.1);
        }
        return text;
    }

    @Override
    public void configure(Properties p) {
        context = Integer.parseInt(p.getProperty(CONTEXT, Integer.toString(context)));
        batch = Integer.parseInt(p.getProperty(BATCH, Integer.toString(batch)));
        steps = Integer.parseInt(p.getProperty(STEPS, Integer.toString(steps)));
        seed = Long.parseLong(p.getProperty(SEED, Long.toString(seed)));
        dtype = DataType.valueOf(p.getProperty(DTYPE, dtype.name()));
        validationWindows = Integer.parseInt(p.getProperty(VALIDATION_WINDOWS, Integer.toString(validationWindows)));
    }

    @Override
    public Object trainData() {
        return text().trainIterator(steps, batch, context, seed, dtype);
    }

    @Override
    public Object testData() {
        return new ListDataSetIterator<>(text().validationBatches(batch, context, validationWindows, dtype), 1);
    }

    @Override
    public Class<?> getDataType() {
        return DataSetIterator.class;
    }
}
