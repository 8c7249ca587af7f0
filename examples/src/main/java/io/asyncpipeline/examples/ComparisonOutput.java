package io.asyncpipeline.examples;

import io.asyncpipeline.examples.TransformerComparison.Curve;
import io.asyncpipeline.examples.TransformerComparison.Hyper;
import io.asyncpipeline.examples.TransformerComparison.Options;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The transformer comparison's results as a table, a CSV and plots. */
final class ComparisonOutput {

    private ComparisonOutput() {
    }

    /** The optimiser values of {@code v} as a table cell. */
    static String hyperCell(ComparisonVariant v, Options o) {
        Hyper h = o.hyper(v);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "lr %.3g", h.lr()));
        if (v.optimiser().nesterov()) {
            sb.append(String.format(Locale.ROOT, ", γ %.3f, δ %s", h.momentum(),
                    v.optimiser() == ComparisonVariant.Optimiser.NESTEROV_NO_DISCOUNT ? "1"
                            : h.discount() == null ? "1-γ" : String.format(Locale.ROOT, "%.3g", h.discount())));
        }
        if (v.optimiser().nadam()) {
            sb.append(String.format(Locale.ROOT, ", ψ %.3g", o.psi(v)));
        }
        return sb.toString();
    }

    static String table(List<Curve> curves, Options o) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "| variant | optimiser | updates | val. loss (nats/char) | bits/char |"
                + " perplexity | train s | s on %d devices |%n", o.stages()));
        sb.append("|---|---|---|---|---|---|---|---|\n");
        for (Curve cv : curves) {
            ComparisonVariant v = ComparisonVariant.named(cv.variant());
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %.4f | %.3f | %.2f | %.0f | %.0f |%n", cv.variant(),
                    hyperCell(v, o), o.updates(v, cv.units().get(cv.units().size() - 1)), cv.last(),
                    cv.last() / Math.log(2), Math.exp(cv.last()), cv.seconds(), cv.deviceTotal()));
        }
        sb.append(o.data()
                ? String.format(Locale.ROOT, "(protocol data: every variant saw %d micro-batches of %d windows of %d"
                + " characters; GPipe updated once per %d; %d blocks on %d stages)%n", o.length(), o.batch(),
                o.context(), o.micro(), o.layers(), o.stages())
                : String.format(Locale.ROOT, "(protocol updates, not the paper's: %d steps x %d windows of %d"
                + " characters for every variant; %d blocks on %d stages)%n", o.length(), o.batch(), o.context(),
                o.layers(), o.stages()));
        return sb.toString();
    }

    /**
     * {@value TransformerComparison#CSV}: one row per validation measurement: protocol, variant, updates, micro-batches, examples seen
     * (windows of --context characters), characters seen, training seconds so far (evaluations excluded), simulated
     * seconds on --stages devices, validation loss.
     */
    static void writeCsv(Path file, List<Curve> curves, Options o) {
        try {
            csv(curves, o, Map.of()).write(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** The rows of {@link #writeCsv}, with {@code extra} columns (name, value) first on every row. */
    static Csv csv(List<Curve> curves, Options o, Map<String, Object> extra) {
        List<String> header = new ArrayList<>(extra.keySet());
        header.addAll(List.of("protocol", "variant", "updates", "micro_batches", "examples", "characters",
                "train_seconds", "device_seconds", "val_loss"));
        Csv csv = new Csv(header.toArray(new String[0]));
        for (Curve cv : curves) {
            ComparisonVariant v = ComparisonVariant.named(cv.variant());
            for (int i = 0; i < cv.units().size(); i++) {
                int units = cv.units().get(i);
                long examples = o.examples(units);
                List<Object> row = new ArrayList<>(extra.values());
                row.addAll(List.of(o.protocol().name(), cv.variant(), o.updates(v, units), o.microBatches(v, units),
                        examples, examples * o.context(), cv.trainSeconds().get(i), cv.deviceSeconds().get(i),
                        cv.loss().get(i)));
                csv.row(row.toArray());
            }
        }
        return csv;
    }

    /** {@value TransformerComparison#PLOT_EXAMPLES}, {@value TransformerComparison#PLOT_TIME} and {@value TransformerComparison#PLOT_DEVICE_TIME}: validation loss per variant. */
    static void writePlots(Path dir, List<Curve> curves, Options o) {
        List<Plots.Series> byExamples = new ArrayList<>();
        List<Plots.Series> byTime = new ArrayList<>();
        List<Plots.Series> byDevice = new ArrayList<>();
        for (Curve cv : curves) {
            int n = cv.units().size();
            double[] examples = new double[n];
            double[] seconds = new double[n];
            double[] deviceSeconds = new double[n];
            double[] loss = new double[n];
            for (int i = 0; i < n; i++) {
                examples[i] = o.examples(cv.units().get(i));
                seconds[i] = cv.trainSeconds().get(i);
                deviceSeconds[i] = cv.deviceSeconds().get(i);
                loss[i] = cv.loss().get(i);
            }
            byExamples.add(new Plots.Series(cv.variant(), examples, loss));
            byTime.add(new Plots.Series(cv.variant(), seconds, loss));
            byDevice.add(new Plots.Series(cv.variant(), deviceSeconds, loss));
        }
        String title = String.format(Locale.ROOT, "Validation loss, %d blocks on %d stages (%s)", o.layers(), o.stages(),
                o.data() ? "equal data" : "equal updates");
        String y = "validation loss (nats per character)";
        Plots.lines(dir.resolve(TransformerComparison.PLOT_EXAMPLES), title, "examples seen (windows of " + o.context() + " characters)", y,
                byExamples);
        Plots.lines(dir.resolve(TransformerComparison.PLOT_TIME), title, "training time on this machine (s, evaluations excluded)", y, byTime);
        Plots.lines(dir.resolve(TransformerComparison.PLOT_DEVICE_TIME), title, "simulated time on " + o.stages() + " devices (s)", y,
                byDevice);
    }
}
