package io.asyncpipeline.examples;

import io.asyncpipeline.examples.PaperComparison.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The report of a {@link PaperComparison} sweep, rebuilt from the final runs on disk: per stage count a table of every
 * variant over its seeds ({@value PaperComparison#REPORT}), {@value PaperComparison#SUMMARY}, and plots of validation
 * loss against data and against simulated device time.
 *
 * <p>Each variant is compared with GPipe (AdamW) twice: at equal data (the final losses, both runs having seen every
 * micro-batch) and at equal device time (the variant's final loss against GPipe's loss, on the same seed, at the
 * simulated time the variant finished). A difference is claimed only when the gap between the means exceeds both
 * standard deviations; a single seed is never a claim.
 */
final class PaperReport {

    static final String BASELINE = "gpipe-adamw";

    private final Path out;

    PaperReport(Path out) {
        this.out = out;
    }

    /** One final run read back: validation loss, micro-batches and simulated device seconds at each measurement. */
    record Run(int stages, long seed, String variant, double[] microBatches, double[] deviceSeconds, double[] loss,
               Map<String, String> first) {

        double last() {
            return loss[loss.length - 1];
        }

        double lastDeviceSeconds() {
            return deviceSeconds[deviceSeconds.length - 1];
        }

        /** The first point where the loss reaches {@code target}, linearly interpolated; NaN if never. */
        double reach(double[] x, double target) {
            for (int i = 0; i < loss.length; i++) {
                if (loss[i] <= target) {
                    if (i == 0) {
                        return x[0];
                    }
                    double f = (loss[i - 1] - target) / (loss[i - 1] - loss[i]);
                    return x[i - 1] + f * (x[i] - x[i - 1]);
                }
            }
            return Double.NaN;
        }

        /**
         * The validation loss at {@code at} on the axis {@code x}, linearly interpolated between measurements; the final
         * loss from the last measurement on (the run has finished and keeps its model); NaN before the first measurement.
         */
        double lossAt(double[] x, double at) {
            if (at < x[0]) {
                return Double.NaN;
            }
            for (int i = 1; i < x.length; i++) {
                if (at <= x[i]) {
                    double f = (at - x[i - 1]) / (x[i] - x[i - 1]);
                    return loss[i - 1] + f * (loss[i] - loss[i - 1]);
                }
            }
            return last();
        }
    }

    /** Mean and sample standard deviation (0 for one value); NaN values are left out, {@code n} counts the rest. */
    record Stat(double mean, double sd, int n) {
        static Stat of(double[] v) {
            double[] x = Arrays.stream(v).filter(d -> !Double.isNaN(d)).toArray();
            if (x.length == 0) {
                return new Stat(Double.NaN, Double.NaN, 0);
            }
            double mean = Arrays.stream(x).average().orElse(Double.NaN);
            double ss = 0;
            for (double d : x) {
                ss += (d - mean) * (d - mean);
            }
            return new Stat(mean, x.length > 1 ? Math.sqrt(ss / (x.length - 1)) : 0, x.length);
        }

        /** "mean ± sd"; a single value alone (one seed has no spread), "–" for none. */
        String format(int decimals) {
            if (n < 2) {
                return n == 0 ? "–" : String.format(Locale.ROOT, "%." + decimals + "f", mean);
            }
            return String.format(Locale.ROOT, "%." + decimals + "f ± %." + decimals + "f", mean, sd);
        }
    }

    /**
     * "better" or "worse" than {@code base} only when the gap between the means exceeds both standard deviations,
     * else "level (within spread)"; a single seed is never a claim.
     */
    static String verdict(Stat a, Stat base) {
        if (a.n() < 2 || base.n() < 2) {
            return "one seed: no claim";
        }
        double gap = a.mean() - base.mean();
        if (Math.abs(gap) > Math.max(a.sd(), base.sd())) {
            return String.format(Locale.ROOT, "%s by %.4f", gap < 0 ? "better" : "worse", Math.abs(gap));
        }
        return "level (within spread)";
    }

    /**
     * Each run of {@code rs} and GPipe (AdamW) of the same seed at equal simulated device time, the earlier of the two
     * finishes: {@code [0]} the run's losses, {@code [1]} GPipe's (interpolated between measurements). A seed GPipe has
     * no run of, or either side has no measurement by then, is NaN on both sides (left out of the statistics).
     */
    static double[][] atEqualTime(List<Run> rs, List<Run> base) {
        Map<Long, Run> bySeed = new LinkedHashMap<>();
        base.forEach(b -> bySeed.put(b.seed(), b));
        double[][] out = new double[2][rs.size()];
        for (int i = 0; i < rs.size(); i++) {
            Run r = rs.get(i);
            Run b = bySeed.get(r.seed());
            double t = b == null ? Double.NaN : Math.min(r.lastDeviceSeconds(), b.lastDeviceSeconds());
            double mine = b == null ? Double.NaN : r.lossAt(r.deviceSeconds(), t);
            double theirs = b == null ? Double.NaN : b.lossAt(b.deviceSeconds(), t);
            boolean both = !Double.isNaN(mine) && !Double.isNaN(theirs);
            out[0][i] = both ? mine : Double.NaN;
            out[1][i] = both ? theirs : Double.NaN;
        }
        return out;
    }

    /**
     * How long GPipe (AdamW) of the same seed took to reach each run's final loss: {@code [0]} GPipe's simulated
     * seconds to that loss (interpolated between its measurements), {@code [1]} those seconds over the run's own, the
     * device-time speed-up of the run. NaN where GPipe has no run of the seed or never reached the loss.
     */
    static double[][] gpipeTimeToLoss(List<Run> rs, List<Run> base) {
        Map<Long, Run> bySeed = new LinkedHashMap<>();
        base.forEach(b -> bySeed.put(b.seed(), b));
        double[][] out = new double[2][rs.size()];
        for (int i = 0; i < rs.size(); i++) {
            Run r = rs.get(i);
            Run b = bySeed.get(r.seed());
            double t = b == null || Double.isNaN(r.last()) ? Double.NaN : b.reach(b.deviceSeconds(), r.last());
            out[0][i] = t;
            out[1][i] = t / r.lastDeviceSeconds();
        }
        return out;
    }

    /** Reads every final run on disk. */
    List<Run> runs() throws IOException {
        List<Run> runs = new ArrayList<>();
        Path root = out.resolve("final");
        if (!Files.isDirectory(root)) {
            return runs;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".csv")).sorted().toList()) {
                List<Map<String, String>> rows = PaperComparison.readCsv(f);
                if (rows.isEmpty()) {
                    continue;
                }
                int n = rows.size();
                double[] mb = new double[n];
                double[] dev = new double[n];
                double[] loss = new double[n];
                for (int i = 0; i < n; i++) {
                    mb[i] = Double.parseDouble(rows.get(i).get("micro_batches"));
                    dev[i] = Double.parseDouble(rows.get(i).get("device_seconds"));
                    String v = rows.get(i).get("val_loss");
                    loss[i] = v == null || v.isEmpty() ? Double.NaN : Double.parseDouble(v);   // empty: diverged
                }
                Map<String, String> r0 = rows.get(0);
                runs.add(new Run(Integer.parseInt(r0.get("stages")), Long.parseLong(r0.get("seed")), r0.get("variant"),
                        mb, dev, loss, r0));
            }
        }
        return runs;
    }

    /** Writes the report, {@value PaperComparison#SUMMARY} and the plots, and prints the report. */
    void write(Settings s) throws IOException {
        List<Run> runs = runs();
        if (runs.isEmpty()) {
            System.out.println("no final runs in " + out + " yet");
            return;
        }
        Map<Integer, Map<String, List<Run>>> by = new TreeMap<>();
        for (Run r : runs) {
            by.computeIfAbsent(r.stages(), k -> new LinkedHashMap<>()).computeIfAbsent(r.variant(), k -> new ArrayList<>())
                    .add(r);
        }
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "Paper protocol (method.md §7): %d-block transformer (d %d, %d heads, context"
                        + " %d) on Europarl characters; every variant trains on the same %d micro-batches of %d windows;"
                        + " GPipe updates once per %d, the asynchronous variants after every one; warm-up 6%%, cosine to"
                        + " 0.1×, decoupled weight decay 0.01, per-stage gradient clipping at %s; learning rate (and γ, δ)"
                        + " from an Arbiter random search of %d candidates per variant on seed %d (%d micro-batches"
                        + " each). Validation loss in nats per character, mean ± sd over seeds.%n%n", s.layers(), s.dim(),
                s.heads(), s.context(), s.microBatches(), s.batch(), s.micro(), s.clip() > 0 ? s.clip() : "none",
                s.candidates(), s.tuneSeed(), s.tuneMicroBatches()));
        md.append("Equal data: the final losses, every run having seen every micro-batch. Equal device time: the"
                + " variant's final loss against GPipe (AdamW)'s loss on the same seeds at the simulated time the variant"
                + " finished (interpolated between GPipe's measurements; both at GPipe's finish if GPipe finished first)."
                + " GPipe's point there is a checkpoint partway through its own schedule, its learning rate not yet"
                + " annealed; a GPipe run planned for that time would anneal by then. GPipe's s to this loss: when GPipe"
                + " (AdamW) of the same seed first reached the variant's final loss, and in brackets that time over the"
                + " variant's own (the device-time speed-up), mean ± sd over seeds. A verdict claims a difference only"
                + " when the gap between the means exceeds both standard deviations.\n\n");
        Csv summary = new Csv("stages", "variant", "seeds", "lr", "momentum", "discount", "psi", "val_loss_mean",
                "val_loss_sd", "device_seconds_mean", "device_seconds_to_gpipe_loss_mean", "micro_batches_to_gpipe_loss_mean",
                "verdict_vs_gpipe_adamw", "gpipe_loss_at_equal_time_mean", "gpipe_loss_at_equal_time_sd",
                "verdict_vs_gpipe_adamw_at_equal_time", "gpipe_device_seconds_to_this_loss_mean",
                "device_time_speedup_mean", "device_time_speedup_sd");
        for (Map.Entry<Integer, Map<String, List<Run>>> e : by.entrySet()) {
            int p = e.getKey();
            Map<String, List<Run>> vs = e.getValue();
            List<Run> base = vs.getOrDefault(BASELINE, List.of());
            Stat baseStat = Stat.of(base.stream().mapToDouble(Run::last).toArray());
            double target = baseStat.mean();
            md.append(String.format(Locale.ROOT, "### P = %d stages%n%n", p));
            md.append("| variant | lr | γ | δ / ψ | seeds | val. loss | vs GPipe (AdamW), equal data"
                    + " | simulated s on P devices | s to GPipe's loss | micro-batches to GPipe's loss"
                    + " | GPipe (AdamW) at this device time | vs GPipe, equal device time"
                    + " | GPipe (AdamW)'s s to this loss (speed-up) |\n"
                    + "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (String name : order(vs.keySet())) {
                List<Run> rs = vs.get(name);
                Stat loss = Stat.of(rs.stream().mapToDouble(Run::last).toArray());
                Stat dev = Stat.of(rs.stream().mapToDouble(Run::lastDeviceSeconds).toArray());
                Stat toTime = Stat.of(rs.stream().mapToDouble(r -> r.reach(r.deviceSeconds(), target)).toArray());
                Stat toData = Stat.of(rs.stream().mapToDouble(r -> r.reach(r.microBatches(), target)).toArray());
                boolean isBase = name.equals(BASELINE);
                String verdict = isBase || base.isEmpty() ? "–" : verdict(loss, baseStat);
                double[][] pairs = atEqualTime(rs, base);
                Stat atTime = isBase ? Stat.of(new double[0]) : Stat.of(pairs[1]);
                String timeVerdict = isBase || atTime.n() == 0 ? "–" : verdict(Stat.of(pairs[0]), atTime);
                double[][] toLoss = gpipeTimeToLoss(rs, base);
                Stat gpipeTime = isBase ? Stat.of(new double[0]) : Stat.of(toLoss[0]);
                Stat speedUp = isBase ? Stat.of(new double[0]) : Stat.of(toLoss[1]);
                String toLossCell = isBase || base.isEmpty() ? "–" : gpipeTime.n() == 0 ? "not reached"
                        : gpipeTime.format(0) + " (" + speedUp.format(2) + "×" + (gpipeTime.n() < rs.size()
                        ? ", " + gpipeTime.n() + " of " + rs.size() + " seeds" : "") + ")";
                Map<String, String> f = rs.get(0).first();
                String dOrPsi = !f.get("discount").isEmpty() ? "δ " + fmt(f.get("discount"))
                        : name.equals("nesterov-no-discount") ? "δ 1" : !f.get("psi").isEmpty() ? "ψ " + fmt(f.get("psi")) : "";
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                        name, fmt(f.get("lr")), f.get("momentum").isEmpty() ? "" : fmt(f.get("momentum")), dOrPsi,
                        loss.n(), loss.format(4), verdict, dev.format(0),
                        toTime.n() == 0 ? "not reached" : toTime.format(0) + (toTime.n() < rs.size()
                                ? " (" + toTime.n() + " of " + rs.size() + " seeds)" : ""),
                        toData.n() == 0 ? "not reached" : toData.format(0),
                        atTime.format(4) + (atTime.n() > 0 && atTime.n() < rs.size()
                                ? " (" + atTime.n() + " of " + rs.size() + " seeds)" : ""), timeVerdict, toLossCell));
                summary.row(p, name, loss.n(), f.get("lr"), f.get("momentum"), f.get("discount"), f.get("psi"),
                        loss.mean(), loss.n() > 1 ? loss.sd() : "", dev.mean(), toTime.mean(), toData.mean(), verdict,
                        isBase ? "" : atTime.mean(), isBase || atTime.n() < 2 ? "" : atTime.sd(), timeVerdict,
                        isBase ? "" : gpipeTime.mean(), isBase ? "" : speedUp.mean(),
                        isBase || speedUp.n() < 2 ? "" : speedUp.sd());
            }
            md.append('\n');
            plots(p, vs, s);
        }
        summary.write(out.resolve(PaperComparison.SUMMARY));
        Files.writeString(out.resolve(PaperComparison.REPORT), md.toString(), StandardCharsets.UTF_8);
        System.out.print(md);
        System.out.println("report written to " + out.toAbsolutePath().resolve(PaperComparison.REPORT) + ", "
                + PaperComparison.SUMMARY + " and loss-vs-*-P<p>.png");
    }

    private static String fmt(String number) {
        return String.format(Locale.ROOT, "%.3g", Double.parseDouble(number));
    }

    /** ComparisonVariant names in the order of {@link TransformerComparison#ALL}. */
    private static List<String> order(Collection<String> names) {
        return ComparisonVariant.NAMES.stream().filter(names::contains).toList();
    }

    /** loss-vs-data-P&lt;p&gt;.png and loss-vs-device-time-P&lt;p&gt;.png: the mean over seeds with ± sd bars. */
    private void plots(int p, Map<String, List<Run>> vs, Settings s) {
        List<Plots.Band> byData = new ArrayList<>();
        List<Plots.Band> byTime = new ArrayList<>();
        for (String name : order(vs.keySet())) {
            List<Run> rs = vs.get(name);
            int n = rs.stream().mapToInt(r -> r.loss().length).min().orElse(0);
            double[] x = new double[n];
            double[] t = new double[n];
            double[] mean = new double[n];
            double[] sd = new double[n];
            for (int i = 0; i < n; i++) {
                final int k = i;
                x[i] = rs.get(0).microBatches()[i];
                t[i] = Stat.of(rs.stream().mapToDouble(r -> r.deviceSeconds()[k]).toArray()).mean();
                Stat st = Stat.of(rs.stream().mapToDouble(r -> r.loss()[k]).toArray());
                mean[i] = st.mean();
                sd[i] = st.sd();
            }
            String label = name + " (" + rs.size() + (rs.size() == 1 ? " seed)" : " seeds)");
            byData.add(new Plots.Band(label, x, mean, sd));
            byTime.add(new Plots.Band(label, t, mean, sd));
        }
        String title = String.format(Locale.ROOT, "Validation loss, %d stages, equal data (mean ± sd over seeds)", p);
        String y = "validation loss (nats per character)";
        Plots.bands(out.resolve("loss-vs-data-P" + p + ".png"), title, "micro-batches seen (" + s.batch()
                + " windows each)", y, byData);
        Plots.bands(out.resolve("loss-vs-device-time-P" + p + ".png"), title.replace("equal data",
                "simulated device time"), "simulated time on " + p + " devices (s)", y, byTime);
    }
}
