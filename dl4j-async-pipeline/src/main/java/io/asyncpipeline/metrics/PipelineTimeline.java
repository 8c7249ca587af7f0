package io.asyncpipeline.metrics;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What every stage did over time during one {@code fit}: its forwards, recomputes, backwards, updates, stage 0's
 * loads from the iterator, and its waits on the channels, as {@link Span}s timed with one clock
 * ({@link System#nanoTime()}, 0 = when the fit began). Recorded only when the wrapper is built with
 * {@code recordTimeline(true)}; otherwise {@link #recorded()} is false, {@link #spans} are empty and the
 * writers throw.
 *
 * <p>{@link #writeChromeTrace(Path)} writes the Chrome trace-event JSON that ui.perfetto.dev and
 * {@code chrome://tracing} open (one row per stage); {@link #render} draws a fixed-width text timeline.
 */
public final class PipelineTimeline {

    /** Process id of the trace; Perfetto treats 0 specially, so the pipeline is process 1 and stage k thread k + 1. */
    static final int PID = 1;

    private static final String NOT_RECORDED = "no timeline was recorded for this fit: build the wrapper with "
            + ".recordTimeline(true) to record one";

    private final int stages;
    private final List<StageTimeline> recorders;

    private PipelineTimeline(int stages, List<StageTimeline> recorders) {
        this.stages = stages;
        this.recorders = recorders;
    }

    /** The timeline of a fit that recorded none. */
    public static PipelineTimeline notRecorded(int stages) {
        return new PipelineTimeline(stages, List.of());
    }

    /** The timeline made of every stage's recorder (stage k at index k), read after the fit. */
    public static PipelineTimeline of(List<StageTimeline> recorders) {
        for (int k = 0; k < recorders.size(); k++) {
            if (recorders.get(k).stage() != k) {
                throw new IllegalArgumentException("recorder " + k + " belongs to stage " + recorders.get(k).stage());
            }
        }
        return new PipelineTimeline(recorders.size(), List.copyOf(recorders));
    }

    /** True when the fit recorded its timeline. */
    public boolean recorded() {
        return !recorders.isEmpty();
    }

    public int stages() {
        return stages;
    }

    /** The spans of stage k in time order (empty when nothing was recorded). */
    public List<Span> spans(int k) {
        if (k < 0 || k >= stages) {
            throw new IndexOutOfBoundsException("stage " + k + " of " + stages);
        }
        return recorded() ? recorders.get(k).spans() : List.of();
    }

    /** Spans of stage k that were not kept because the stage reached {@link #spanLimit()}. */
    public long dropped(int k) {
        return recorded() ? recorders.get(k).dropped() : 0;
    }

    /** Spans not kept, over all stages. */
    public long dropped() {
        long d = 0;
        for (int k = 0; k < stages; k++) {
            d += dropped(k);
        }
        return d;
    }

    /** Most spans kept per stage, or 0 when nothing was recorded. */
    public int spanLimit() {
        return recorded() ? recorders.get(0).limit() : 0;
    }

    /** End of the last span of any stage, in nanoseconds since the fit began (0 when there is none). */
    public long endNanos() {
        long end = 0;
        for (int k = 0; k < stages; k++) {
            List<Span> s = spans(k);
            if (!s.isEmpty()) {
                end = Math.max(end, s.get(s.size() - 1).endNanos());
            }
        }
        return end;
    }

    // ---- Chrome trace-event JSON

    /**
     * Writes the timeline as a Chrome trace-event JSON file: {@code {"traceEvents":[…],"displayTimeUnit":"ms",
     * "otherData":{…}}}. Each span is a complete event ({@code "ph":"X"}) with {@code ts} and {@code dur} in
     * microseconds since the fit began, {@code pid} 1, {@code tid} = stage + 1, a name such as {@code "F 12"},
     * {@code "B 12"}, {@code "U 3"} or {@code "idle"}, its category and {@code args} ({@code {"mb":12,"epoch":0}},
     * an update's {@code {"step":3,"epoch":0}}; a wait's adds {@code "wait":"receive gradients"}, {@code "receive
     * activations"}, {@code "send activations"} or {@code "send gradients"}). Metadata events name each row
     * {@code "stage k"}; if spans were dropped, the row's name says how many, an instant event marks the first
     * dropped one, and {@code otherData.droppedSpans} lists the counts per stage.
     *
     * @throws IllegalStateException if the fit recorded no timeline
     */
    public void writeChromeTrace(Path file) throws IOException {
        requireRecorded();
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            writeChromeTrace(w);
        }
    }

    /** Writes the Chrome trace-event JSON to {@code out} (see {@link #writeChromeTrace(Path)}). */
    public void writeChromeTrace(Appendable out) throws IOException {
        requireRecorded();
        out.append("{\"displayTimeUnit\":\"ms\",\n\"otherData\":{\"producer\":\"dl4j-async-pipeline\",\"stages\":")
                .append(Integer.toString(stages)).append(",\"spanLimitPerStage\":").append(Integer.toString(spanLimit()))
                .append(",\"droppedSpans\":[");
        for (int k = 0; k < stages; k++) {
            out.append(k == 0 ? "" : ",").append(Long.toString(dropped(k)));
        }
        out.append("]},\n\"traceEvents\":[\n");
        out.append("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + PID + ",\"tid\":1,\"args\":{\"name\":\"pipeline\"}}");
        for (int k = 0; k < stages; k++) {
            long dropped = dropped(k);
            String name = "stage " + k + (dropped == 0 ? "" : " (" + dropped + " spans dropped after the first "
                    + spanLimit() + ")");
            out.append(",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + PID + ",\"tid\":").append(Integer.toString(k + 1))
                    .append(",\"args\":{\"name\":\"").append(name).append("\"}}");
            out.append(",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":" + PID + ",\"tid\":")
                    .append(Integer.toString(k + 1)).append(",\"args\":{\"sort_index\":").append(Integer.toString(k)).append("}}");
        }
        StringBuilder line = new StringBuilder(160);
        for (int k = 0; k < stages; k++) {
            for (Span s : spans(k)) {
                line.setLength(0);
                line.append(",\n{\"name\":\"").append(s.name()).append("\",\"cat\":\"").append(s.kind().category())
                        .append("\",\"ph\":\"X\",\"ts\":");
                micros(line, s.startNanos());
                line.append(",\"dur\":");
                micros(line, s.durationNanos());
                line.append(",\"pid\":" + PID + ",\"tid\":").append(k + 1).append(",\"args\":{\"")
                        .append(s.kind() == Span.Kind.UPDATE ? "step" : "mb").append("\":").append(s.index())
                        .append(",\"epoch\":").append(s.epoch());
                if (s.kind().idle()) {
                    line.append(",\"wait\":\"").append(s.kind().waitReason()).append('"');
                }
                line.append("}}");
                out.append(line);
            }
            if (dropped(k) > 0) {
                line.setLength(0);
                line.append(",\n{\"name\":\"spans dropped\",\"cat\":\"timeline\",\"ph\":\"i\",\"s\":\"t\",\"ts\":");
                micros(line, recorders.get(k).firstDropNanos());
                line.append(",\"pid\":" + PID + ",\"tid\":").append(k + 1).append(",\"args\":{\"dropped\":")
                        .append(dropped(k)).append(",\"kept\":").append(spanLimit()).append("}}");
                out.append(line);
            }
        }
        out.append("\n]}\n");
    }

    /** The Chrome trace-event JSON as a string (see {@link #writeChromeTrace(Path)}). */
    public String toChromeTrace() {
        StringBuilder b = new StringBuilder();
        try {
            writeChromeTrace(b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);     // a StringBuilder does not throw
        }
        return b.toString();
    }

    /** Appends {@code nanos} as microseconds with three decimals (exact, no floating point). */
    private static void micros(StringBuilder b, long nanos) {
        long n = Math.max(0, nanos);
        long frac = n % 1000;
        b.append(n / 1000).append('.');
        if (frac < 100) {
            b.append(frac < 10 ? "00" : "0");
        }
        b.append(frac);
    }

    // ---- text timeline

    /** The whole fit drawn in {@code columns} columns; see {@link #render(int, long, long)}. */
    public String render(int columns) {
        requireRecorded();
        return render(columns, 0, Math.max(1, endNanos()));
    }

    /**
     * Draws the time window [{@code fromNanos}, {@code toNanos}) (nanoseconds since the fit began) as a
     * fixed-width text timeline: a time axis, one row per stage ({@code "stage k |"} then one character per
     * column), a legend, and a note per stage that dropped spans. A column shows the op that took most of it
     * ({@code F} forward, {@code R} recompute, {@code B} backward, {@code U} update, {@code L} load) when ops
     * fill at least half of it, else {@code .} (idle, waiting or bookkeeping). Ops shorter than half a column
     * can vanish: pick a narrower window to see them.
     *
     * @throws IllegalStateException if the fit recorded no timeline
     */
    public String render(int columns, long fromNanos, long toNanos) {
        requireRecorded();
        if (columns < 1) {
            throw new IllegalArgumentException("columns must be >= 1, got " + columns);
        }
        if (fromNanos < 0 || toNanos <= fromNanos) {
            throw new IllegalArgumentException("the window needs 0 <= from < to, got [" + fromNanos + ", " + toNanos + ")");
        }
        double width = (toNanos - fromNanos) / (double) columns;
        String label = "stage " + (stages - 1) + " |";
        List<String> lines = new ArrayList<>();
        lines.add(axis(columns, fromNanos, width, label.length()));
        for (int k = 0; k < stages; k++) {
            lines.add(pad("stage " + k, label.length() - 1) + "|" + row(spans(k), columns, fromNanos, toNanos, width));
        }
        lines.add(String.format(Locale.ROOT, "1 column = %s ms. F forward, R recompute, B backward, U update, L load "
                + "(stage 0 reads the iterator), . idle or waiting (ops fill less than half the column)", ms(width)));
        for (int k = 0; k < stages; k++) {
            if (dropped(k) > 0) {
                lines.add("stage " + k + ": " + dropped(k) + " spans dropped after the first " + spanLimit()
                        + " (from " + ms(recorders.get(k).firstDropNanos()) + " ms on)");
            }
        }
        return String.join("\n", lines) + "\n";
    }

    private static String row(List<Span> spans, int columns, long from, long to, double width) {
        Span.Kind[] kinds = Span.Kind.values();
        double[][] busy = new double[columns][kinds.length];
        for (Span s : spans) {
            if (s.kind().idle() || s.endNanos() <= from || s.startNanos() >= to) {
                continue;
            }
            double a = Math.max(s.startNanos(), from) - from;
            double b = Math.min(s.endNanos(), to) - from;
            int first = (int) Math.min(columns - 1, Math.floor(a / width));
            int last = (int) Math.min(columns - 1, Math.floor(b / width));
            for (int c = first; c <= last; c++) {
                double overlap = Math.min(b, (c + 1) * width) - Math.max(a, c * width);
                if (overlap > 0) {
                    busy[c][s.kind().ordinal()] += overlap;
                }
            }
        }
        StringBuilder r = new StringBuilder(columns);
        for (int c = 0; c < columns; c++) {
            double total = 0;
            int best = -1;
            for (int i = 0; i < kinds.length; i++) {
                total += busy[c][i];
                if (busy[c][i] > 0 && (best < 0 || busy[c][i] > busy[c][best])) {
                    best = i;
                }
            }
            r.append(best >= 0 && 2 * total >= width ? kinds[best].symbol() : '.');
        }
        return r.toString();
    }

    /** A line with the time (ms) at every tenth column, each label starting at its column. */
    private static String axis(int columns, long from, double width, int indent) {
        StringBuilder b = new StringBuilder(pad("t [ms]", indent - 1)).append('|');
        int at = 0;
        for (int c = 0; c < columns; c += 10) {
            String t = ms(from + c * width);
            if (c < at || c + t.length() > columns) {
                continue;
            }
            b.append(" ".repeat(c - at)).append(t);
            at = c + t.length();
        }
        return b.toString();
    }

    /** Milliseconds with three significant digits or more. */
    private static String ms(double nanos) {
        double ms = nanos / 1e6;
        String f = ms == 0 ? "%.0f" : ms >= 100 ? "%.0f" : ms >= 10 ? "%.1f" : ms >= 1 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, f, ms);
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    private void requireRecorded() {
        if (!recorded()) {
            throw new IllegalStateException(NOT_RECORDED);
        }
    }
}
