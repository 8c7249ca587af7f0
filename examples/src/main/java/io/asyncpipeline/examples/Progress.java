package io.asyncpipeline.examples;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Progress of a long run on standard error: steps done of a known total, the latest loss (where there is one),
 * examples per second since the start, and the estimated time left. Standard output, which carries the results,
 * is never written.
 *
 * <p>With a console ({@link System#console()} not null) a {@code me.tongfei:progressbar} bar redraws itself in place.
 * Without one (CI logs, output redirected to a file) it prints plain lines instead, throttled: one each time the
 * run crosses another {@value #PERCENT_STEP}% of the total, or when {@value #INTERVAL_SECONDS} s have passed since the
 * last line (checked at each step), and a last one at {@link #close()}. The system property {@value #PROPERTY}
 * (or the environment variable {@code PROGRESS}) forces {@code bar}, {@code lines} or {@code off}.
 *
 * <p>Thread-safe: the pipeline calls DL4J listeners from its last stage's thread and reads the training iterator
 * from its first stage's thread, while the caller reports losses from its own.
 */
final class Progress implements AutoCloseable {

    /** System property choosing the display: {@code bar}, {@code lines}, {@code off}, or {@code auto} (default). */
    static final String PROPERTY = "progress";
    static final int PERCENT_STEP = 10;
    static final int INTERVAL_SECONDS = 30;

    enum Mode { BAR, LINES, OFF }

    private final String task;
    private final long total;
    private final String unit;
    private final Mode mode;
    private final PrintStream out;
    private final LongSupplier nanoClock;
    private final long intervalNanos;
    private final ProgressBar bar;
    private final long start;

    private long done;
    private long examples;
    private String lossLabel = "loss";
    private double loss = Double.NaN;
    private long lastLineNanos;
    private long lastLineDone;
    private boolean closed;

    /**
     * A progress display for {@code total} steps called {@code unit} (plural, e.g. "steps"), in the mode {@link #mode()}
     * chooses, on standard error.
     */
    static Progress start(String task, long total, String unit) {
        return new Progress(task, total, unit, mode(), System.err, System::nanoTime, INTERVAL_SECONDS * 1_000_000_000L);
    }

    /** A display that shows nothing. */
    static Progress none() {
        return new Progress("", 1, "steps", Mode.OFF, System.err, System::nanoTime, Long.MAX_VALUE);
    }

    Progress(String task, long total, String unit, Mode mode, PrintStream out, LongSupplier nanoClock,
             long intervalNanos) {
        if (total < 1) {
            throw new IllegalArgumentException("total must be at least 1, got " + total);
        }
        this.task = task;
        this.total = total;
        this.unit = unit;
        this.mode = mode;
        this.out = out;
        this.nanoClock = nanoClock;
        this.intervalNanos = intervalNanos;
        this.start = nanoClock.getAsLong();
        this.lastLineNanos = start;
        this.bar = mode == Mode.BAR ? new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                .setConsumer(new ConsoleProgressBarConsumer(out)).setUpdateIntervalMillis(1000).build() : null;
    }

    /**
     * The display: the system property {@value #PROPERTY}, else the environment variable {@code PROGRESS}, else
     * {@code auto}: a bar when the JVM has a console, plain lines otherwise.
     */
    static Mode mode() {
        String v = System.getProperty(PROPERTY, System.getenv("PROGRESS"));
        return mode(v, System.console() != null);
    }

    static Mode mode(String setting, boolean console) {
        String s = setting == null ? "auto" : setting.trim().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "bar" -> Mode.BAR;
            case "lines" -> Mode.LINES;
            case "off", "none" -> Mode.OFF;
            default -> console ? Mode.BAR : Mode.LINES;
        };
    }

    Mode displayMode() {
        return mode;
    }

    /** Advances by {@code steps} steps that together saw {@code examples} examples. */
    synchronized void step(long steps, long examples) {
        this.done += steps;
        this.examples += examples;
        if (mode == Mode.BAR) {
            bar.stepBy(steps);
            bar.setExtraMessage(extra(nanoClock.getAsLong()));
        } else if (mode == Mode.LINES) {
            long now = nanoClock.getAsLong();
            boolean crossed = bucket(done) > bucket(lastLineDone);
            if (crossed || now - lastLineNanos >= intervalNanos) {
                printLine(now);
            }
        }
    }

    /** The latest loss, shown as {@code label value} from now on ({@code NaN} hides it). */
    synchronized void loss(String label, double value) {
        this.lossLabel = label;
        this.loss = value;
        if (mode == Mode.BAR) {
            bar.setExtraMessage(extra(nanoClock.getAsLong()));
        }
    }

    synchronized void loss(double value) {
        loss(lossLabel, value);
    }

    synchronized long done() {
        return done;
    }

    /** Ends the display: the bar is completed, or a last line is printed if steps were made since the previous one. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (mode == Mode.BAR) {
            bar.setExtraMessage(extra(nanoClock.getAsLong()));
            bar.close();
        } else if (mode == Mode.LINES && done != lastLineDone) {
            printLine(nanoClock.getAsLong());
        }
    }

    private long bucket(long steps) {
        return steps * 100 / total / PERCENT_STEP;
    }

    private void printLine(long now) {
        out.println(line(now));
        out.flush();
        lastLineNanos = now;
        lastLineDone = done;
    }

    /** The plain line for the state at {@code now} (nanoseconds of the clock given at construction). */
    synchronized String line(long now) {
        double elapsed = (now - start) / 1e9;
        StringBuilder sb = new StringBuilder();
        sb.append(task).append(": ").append(done).append('/').append(total).append(' ').append(unit)
                .append(String.format(Locale.ROOT, " (%d%%)", done * 100 / total));
        if (!Double.isNaN(loss)) {
            sb.append(String.format(Locale.ROOT, ", %s %.4f", lossLabel, loss));
        }
        sb.append(", ").append(formatRate(rate(examples, elapsed))).append(" examples/s");
        sb.append(", elapsed ").append(duration(elapsed));
        sb.append(", ETA ").append(duration(etaSeconds(done, total, elapsed)));
        return sb.toString();
    }

    /** What the bar shows after its own counts and ETA: loss and examples/s. */
    private String extra(long now) {
        double elapsed = (now - start) / 1e9;
        String rate = formatRate(rate(examples, elapsed)) + " ex/s";
        return Double.isNaN(loss) ? rate : String.format(Locale.ROOT, "%s %.4f, %s", lossLabel, loss, rate);
    }

    /** Examples per second; NaN before any time has passed. */
    static double rate(long examples, double seconds) {
        return seconds > 0 ? examples / seconds : Double.NaN;
    }

    /** Seconds left at the average pace so far; NaN before the first step, 0 when done. */
    static double etaSeconds(long done, long total, double elapsedSeconds) {
        if (done >= total) {
            return 0;
        }
        if (done <= 0 || !(elapsedSeconds >= 0)) {
            return Double.NaN;
        }
        return elapsedSeconds / done * (total - done);
    }

    /** {@code m:ss}, or {@code h:mm:ss} from one hour; {@code ?} when unknown. Rounds to the nearest second. */
    static String duration(double seconds) {
        if (!(seconds >= 0) || Double.isInfinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        long h = s / 3600;
        long m = s % 3600 / 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", m, s % 60);
    }

    /** One decimal below 100, none from 100; {@code ?} when unknown. */
    static String formatRate(double perSecond) {
        if (Double.isNaN(perSecond) || Double.isInfinite(perSecond)) {
            return "?";
        }
        return String.format(Locale.ROOT, perSecond < 100 ? "%.1f" : "%.0f", perSecond);
    }

    // ---- hooks inside fit

    /**
     * A DL4J listener for {@code MultiLayerNetwork}/{@code ComputationGraph} fits, plain or pipelined (the pipeline
     * calls it from its last stage's thread, once per micro-batch asynchronously, once per mini-batch otherwise):
     * one step of {@code examplesPerIteration} examples per {@code iterationDone}, with the model's score as the loss.
     */
    TrainingListener trainingListener(long examplesPerIteration) {
        return new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                loss("loss", model.score());
                step(1, examplesPerIteration);
            }
        };
    }

    /**
     * A SameDiff listener for {@code sd.fit}: one step per training iteration, of as many examples as the batch has.
     * It shows no loss: SameDiff 1.0.0-M2.1 hands listeners 0 for the loss variables (only the regularisation terms
     * are filled in), so callers report a loss they measure themselves, such as a validation loss.
     */
    Listener sameDiffListener() {
        return new BaseListener() {
            @Override
            public boolean isActive(Operation operation) {
                return operation == Operation.TRAINING;
            }

            @Override
            public void iterationDone(SameDiff sd, At at, org.nd4j.linalg.dataset.api.MultiDataSet dataSet, Loss l) {
                step(1, dataSet.getFeatures(0).size(0));
            }
        };
    }

    /**
     * {@code iterator}, counting one step per batch read, for fits that call no listener (SameDiff pipelines): a
     * step is then a batch that entered the pipeline, up to P − 1 ahead of the updates made.
     */
    DataSetIterator counting(DataSetIterator iterator) {
        return new CountingIterator(iterator, this);
    }

    private static final class CountingIterator implements DataSetIterator {
        private static final long serialVersionUID = 1L;
        private final DataSetIterator in;
        private final transient Progress progress;

        CountingIterator(DataSetIterator in, Progress progress) {
            this.in = in;
            this.progress = progress;
        }

        @Override
        public DataSet next(int num) {
            return counted(in.next(num));
        }

        @Override
        public DataSet next() {
            return counted(in.next());
        }

        private DataSet counted(DataSet ds) {
            progress.step(1, ds.numExamples());
            return ds;
        }

        @Override
        public boolean hasNext() {
            return in.hasNext();
        }

        @Override
        public int inputColumns() {
            return in.inputColumns();
        }

        @Override
        public int totalOutcomes() {
            return in.totalOutcomes();
        }

        @Override
        public boolean resetSupported() {
            return in.resetSupported();
        }

        @Override
        public boolean asyncSupported() {
            return in.asyncSupported();
        }

        @Override
        public void reset() {
            in.reset();
        }

        @Override
        public int batch() {
            return in.batch();
        }

        @Override
        public void setPreProcessor(DataSetPreProcessor preProcessor) {
            in.setPreProcessor(preProcessor);
        }

        @Override
        public DataSetPreProcessor getPreProcessor() {
            return in.getPreProcessor();
        }

        @Override
        public List<String> getLabels() {
            return in.getLabels();
        }
    }
}
