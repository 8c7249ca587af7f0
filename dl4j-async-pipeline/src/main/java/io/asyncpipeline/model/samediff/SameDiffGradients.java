package io.asyncpipeline.model.samediff;

import java.io.PrintStream;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Creates a SameDiff gradient function without its console noise: ND4J 1.0.0-M2.1's
 * {@code SameDiff.createGradFunction} prints "Added differentiated op &lt;name&gt;" to {@code System.out} for
 * every op it differentiates (thousands of lines for a transformer). While it runs, {@code System.out} is
 * swapped for a stream that drops exactly those lines and passes everything else through. The swap is
 * process-wide (other threads printing meanwhile go through the filter too, unchanged but for those lines).
 */
public final class SameDiffGradients {

    static final String NOISE = "Added differentiated op ";

    private SameDiffGradients() {
    }

    /** {@code sd.createGradFunction(variables)} (all trainable variables when none are named), quietly. */
    public static synchronized void create(SameDiff sd, String... variables) {
        PrintStream original = System.out;
        Filter filter = new Filter(original);
        System.setOut(filter);
        try {
            if (variables.length == 0) {
                sd.createGradFunction();
            } else {
                sd.createGradFunction(variables);
            }
        } finally {
            if (System.out == filter) {          // someone else swapped System.out meanwhile: keep theirs
                System.setOut(original);
            }
        }
    }

    private static final class Filter extends PrintStream {

        Filter(PrintStream out) {
            super(out, true);
        }

        @Override
        public void println(String line) {
            if (line == null || !line.startsWith(NOISE)) {
                super.println(line);
            }
        }
    }
}
