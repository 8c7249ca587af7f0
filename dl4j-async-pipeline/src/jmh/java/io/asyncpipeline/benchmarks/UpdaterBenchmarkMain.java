package io.asyncpipeline.benchmarks;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link UpdaterBenchmark} with JMH (settings from its annotations: 1 fork, 3×1 s warm-up,
 * 5×1 s measurement, average time in ms) and prints the median iteration time of each variant and the
 * ratios ours / DL4J built-in per parameter count, raw and with the gradient-restore copy subtracted.
 *
 * <p>The forked JVM inherits this process's environment, so {@code OMP_NUM_THREADS=1} in front of the
 * command limits ND4J's native ops to one OpenMP thread. Argument: an optional JMH include regex
 * (default {@code UpdaterBenchmark}).
 */
public final class UpdaterBenchmarkMain {

    private UpdaterBenchmarkMain() {
    }

    public static void main(String[] args) throws RunnerException {
        String include = args.length > 0 ? args[0] : UpdaterBenchmark.class.getSimpleName();
        Options opts = new OptionsBuilder().include(include).build();
        Collection<RunResult> results = new Runner(opts).run();

        // benchmark method -> n -> median ms
        Map<String, Map<Integer, Double>> median = new TreeMap<>();
        for (RunResult r : results) {
            String method = r.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            int n = Integer.parseInt(r.getParams().getParam("n"));
            double med = r.getPrimaryResult().getStatistics().getPercentile(50);
            median.computeIfAbsent(method, k -> new TreeMap<>()).put(n, med);
        }
        System.out.println(report(median));
    }

    static String report(Map<String, Map<Integer, Double>> median) {
        String omp = System.getenv("OMP_NUM_THREADS");
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nUpdaterBenchmark, median of measurement iterations, ms/op "
                + "(OMP_NUM_THREADS=%s, %d cpus)%n", omp == null ? "unset" : omp,
                Runtime.getRuntime().availableProcessors()));
        List<Integer> sizes = new ArrayList<>();
        median.values().forEach(m -> m.keySet().forEach(n -> {
            if (!sizes.contains(n)) {
                sizes.add(n);
            }
        }));
        sizes.sort(null);
        sb.append(String.format(Locale.ROOT, "%-16s", "variant"));
        for (int n : sizes) {
            sb.append(String.format(Locale.ROOT, "%14s", "n=" + n));
        }
        sb.append('\n');
        for (var e : median.entrySet()) {
            sb.append(String.format(Locale.ROOT, "%-16s", e.getKey()));
            for (int n : sizes) {
                Double v = e.getValue().get(n);
                sb.append(v == null ? String.format("%14s", "-") : String.format(Locale.ROOT, "%14.3f", v));
            }
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%nratio ours / DL4J built-in (raw; in brackets: copyOnly subtracted from both)%n"));
        String[][] pairs = {
            {"nadamOursFused", "nadamDl4j"},
            {"nadamOursOps", "nadamDl4j"},
            {"nesterovOurs", "nesterovDl4j"},
        };
        for (String[] p : pairs) {
            sb.append(String.format(Locale.ROOT, "%-30s", p[0] + "/" + p[1]));
            for (int n : sizes) {
                Double ours = get(median, p[0], n);
                Double theirs = get(median, p[1], n);
                Double copy = get(median, "copyOnly", n);
                if (ours == null || theirs == null) {
                    sb.append(String.format("%20s", "-"));
                    continue;
                }
                String net = copy == null || theirs - copy <= 0 ? "" :
                        String.format(Locale.ROOT, " [%.2f]", (ours - copy) / (theirs - copy));
                sb.append(String.format(Locale.ROOT, "%20s", String.format(Locale.ROOT, "%.2f", ours / theirs) + net));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static Double get(Map<String, Map<Integer, Double>> median, String method, int n) {
        Map<Integer, Double> m = median.get(method);
        return m == null ? null : m.get(n);
    }
}
