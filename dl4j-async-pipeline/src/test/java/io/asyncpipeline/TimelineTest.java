package io.asyncpipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.metrics.PipelineMetrics;
import io.asyncpipeline.metrics.PipelineTimeline;
import io.asyncpipeline.metrics.Span;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * The timeline of real fits (Iris MLP in three stages, a two-stage ComputationGraph), read back from the Chrome
 * trace file: every stage has a named row, the op counts are the schedule's and the metrics', spans on a row do
 * not overlap, and activations and gradients flow in causal order.
 */
class TimelineTest {

    @TempDir
    Path tmp;

    /** One complete event of the trace, times in nanoseconds (the file's microseconds have three decimals). */
    record Event(String name, String cat, int stage, int mb, int epoch, long start, long end) {
    }

    /** A parsed trace: row names by stage, and each stage's complete events in file order. */
    record Trace(JsonNode root, Map<Integer, String> rowNames, Map<Integer, List<Event>> events) {

        List<Event> of(int stage, String cat) {
            return events.getOrDefault(stage, List.of()).stream().filter(e -> e.cat.equals(cat)).toList();
        }
    }

    private static long nanos(JsonNode micros) {
        return Math.round(micros.asDouble() * 1000);
    }

    private Trace writeAndRead(PipelineTimeline t) throws Exception {
        Path file = tmp.resolve("trace-" + System.nanoTime() + ".json");
        t.writeChromeTrace(file);
        JsonNode root = new ObjectMapper().readTree(Files.readString(file));
        assertEquals("ms", root.get("displayTimeUnit").asText());
        Map<Integer, String> names = new HashMap<>();
        Map<Integer, List<Event>> events = new HashMap<>();
        for (JsonNode e : root.get("traceEvents")) {
            int stage = e.get("tid").asInt() - 1;
            assertEquals(1, e.get("pid").asInt());
            if (e.get("ph").asText().equals("M") && e.get("name").asText().equals("thread_name")) {
                names.put(stage, e.get("args").get("name").asText());
            } else if (e.get("ph").asText().equals("X")) {
                long start = nanos(e.get("ts"));
                long dur = nanos(e.get("dur"));
                assertTrue(dur >= 0, e.toString());
                JsonNode args = e.get("args");
                int index = args.has("mb") ? args.get("mb").asInt() : args.get("step").asInt();
                events.computeIfAbsent(stage, k -> new ArrayList<>()).add(new Event(e.get("name").asText(),
                        e.get("cat").asText(), stage, index, args.get("epoch").asInt(), start, start + dur));
            }
        }
        return new Trace(root, names, events);
    }

    private static PipelineMetrics fitMlp(int epochs, int batch, Function<AsyncPipelineWrapper.Builder,
            AsyncPipelineWrapper.Builder> options) {
        MultiLayerNetwork net = Nets.irisMlp(new Sgd(0.05), DataType.FLOAT, 11);
        try (AsyncPipelineWrapper w = options.apply(new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1)).build()) {
            w.fit(Iris.iterator(batch, DataType.FLOAT), epochs);
            return w.metrics();
        }
    }

    /** Every stage's row is named, its counts match the metrics, and its spans follow one another. */
    private static void assertRowsCountsAndOrder(Trace trace, PipelineMetrics m, int forwards, int updates) {
        int p = m.stages().size();
        for (int k = 0; k < p; k++) {
            assertEquals("stage " + k, trace.rowNames().get(k));
            assertEquals(forwards, trace.of(k, "forward").size(), "forwards of stage " + k);
            assertEquals(forwards, trace.of(k, "backward").size(), "backwards of stage " + k);
            assertEquals(updates, trace.of(k, "update").size(), "updates of stage " + k);
            assertEquals(m.stage(k).forwards(), trace.of(k, "forward").size());
            assertEquals(m.stage(k).backwards(), trace.of(k, "backward").size());
            assertEquals(m.stage(k).recomputes(), trace.of(k, "recompute").size());
            assertEquals(m.stage(k).updates(), trace.of(k, "update").size());
            assertEquals(k == 0 ? forwards : 0, trace.of(k, "load").size(), "stage 0 loads each micro-batch");
            assertTrue(trace.of(k, "forward").stream().allMatch(e -> e.name.equals("F " + e.mb)));
            assertTrue(trace.of(k, "backward").stream().allMatch(e -> e.name.equals("B " + e.mb)));
            assertTrue(trace.of(k, "update").stream().allMatch(e -> e.name.equals("U " + e.mb)));
            List<Event> row = trace.events().get(k);
            for (int i = 1; i < row.size(); i++) {
                assertTrue(row.get(i).start >= row.get(i - 1).end, "stage " + k + ": " + row.get(i - 1) + " overlaps " + row.get(i));
            }
        }
    }

    /** F of (epoch, m) on stage k+1 starts after it ends on stage k; B of m on stage k starts after it ends on k+1. */
    private static void assertCausal(Trace trace, int p) {
        int checked = 0;
        for (int k = 0; k + 1 < p; k++) {
            Map<List<Integer>, Event> f = byMicroBatch(trace.of(k, "forward"));
            Map<List<Integer>, Event> bNext = byMicroBatch(trace.of(k + 1, "backward"));
            for (Event next : trace.of(k + 1, "forward")) {
                Event prev = f.get(List.of(next.epoch, next.mb));
                assertNotNull(prev, "stage " + k + " never ran the forward of " + next);
                assertTrue(next.start >= prev.end, prev + " then " + next);
                checked++;
            }
            for (Event b : trace.of(k, "backward")) {
                Event after = bNext.get(List.of(b.epoch, b.mb));
                assertNotNull(after, "stage " + (k + 1) + " never ran the backward of " + b);
                assertTrue(b.start >= after.end, after + " then " + b);
                checked++;
            }
        }
        assertTrue(checked > 0);
    }

    private static Map<List<Integer>, Event> byMicroBatch(List<Event> events) {
        Map<List<Integer>, Event> m = new HashMap<>();
        for (Event e : events) {
            assertEquals(null, m.put(List.of(e.epoch, e.mb), e), "one " + e.cat + " per micro-batch: " + e);
        }
        return m;
    }

    @Test
    void threadedAsyncTraceMatchesTheScheduleAndTheMetrics() throws Exception {
        PipelineMetrics m = fitMlp(1, 10, b -> b.recordTimeline(true));   // 150 rows: 15 micro-batches
        PipelineTimeline t = m.timeline();
        assertTrue(t.recorded());
        assertEquals(0, t.dropped());
        Trace trace = writeAndRead(t);
        assertRowsCountsAndOrder(trace, m, 15, 15);
        assertCausal(trace, 3);
        for (int k = 0; k < 3; k++) {
            // the spans carry the very readings the metrics add up
            assertEquals(m.stage(k).forwardNanos(), sum(t.spans(k), Span.Kind.FORWARD));
            assertEquals(m.stage(k).backwardNanos(), sum(t.spans(k), Span.Kind.BACKWARD));
            assertEquals(m.stage(k).updateNanos(), sum(t.spans(k), Span.Kind.UPDATE));
        }
        long idle = 0;
        for (int k = 0; k < 3; k++) {
            idle += trace.of(k, "idle").size();
        }
        assertTrue(idle > 0, "the stages waited for each other at least once");
        for (JsonNode e : trace.root().get("traceEvents")) {
            if (e.path("cat").asText().equals("idle")) {
                assertEquals("idle", e.get("name").asText());
                assertTrue(e.get("args").get("wait").asText().matches("(receive|send) (activations|gradients)"), e.toString());
            }
        }
        assertEquals(0, trace.root().get("otherData").get("droppedSpans").get(2).asInt());
    }

    private static long sum(List<Span> spans, Span.Kind kind) {
        return spans.stream().filter(s -> s.kind() == kind).mapToLong(Span::durationNanos).sum();
    }

    @Test
    void synchronousScheduleHasMicroBatchOpsAndOneUpdatePerBatch() throws Exception {
        PipelineMetrics m = fitMlp(1, 30, b -> b.schedule(Schedule.GPIPE).microBatches(5).recordTimeline(true));
        Trace trace = writeAndRead(m.timeline());
        assertRowsCountsAndOrder(trace, m, 25, 5);
        assertCausal(trace, 3);
        for (int k = 0; k < 3; k++) {
            // GPipe: all five forwards of a mini-batch, then its five backwards, then the update
            List<String> first = trace.events().get(k).stream().filter(e -> !e.cat.equals("idle") && !e.cat.equals("load"))
                    .limit(11).map(Event::name).toList();
            assertEquals(List.of("F 0", "F 1", "F 2", "F 3", "F 4", "B 0", "B 1", "B 2", "B 3", "B 4", "U 0"), first);
        }
    }

    @Test
    void replayRecordsEveryStageOnItsOwnRow() throws Exception {
        PipelineMetrics m = fitMlp(1, 10, b -> b.singleThreadedReplay(true).recordTimeline(true));
        Trace trace = writeAndRead(m.timeline());
        assertRowsCountsAndOrder(trace, m, 15, 15);
        assertCausal(trace, 3);
        // one thread ran them all: no two spans of any stages overlap
        List<Event> all = new ArrayList<>();
        trace.events().values().forEach(all::addAll);
        all.sort(Comparator.comparingLong(Event::start));
        for (int i = 1; i < all.size(); i++) {
            assertTrue(all.get(i).start >= all.get(i - 1).end, all.get(i - 1) + " overlaps " + all.get(i));
        }
    }

    @Test
    void recomputedForwardsAreSpansOfTheirOwn() throws Exception {
        PipelineMetrics m = fitMlp(1, 10, b -> b.recomputeActivations(true).recordTimeline(true));
        Trace trace = writeAndRead(m.timeline());
        assertRowsCountsAndOrder(trace, m, 15, 15);
        assertTrue(m.stage(0).recomputes() > 0, "stage 0 keeps one slot and has micro-batches in flight");
        Map<List<Integer>, Event> backward = byMicroBatch(trace.of(0, "backward"));
        for (Event r : trace.of(0, "recompute")) {
            assertEquals("R " + r.mb, r.name);
            assertTrue(r.end <= backward.get(List.of(r.epoch, r.mb)).start, "recompute right before its backward");
        }
    }

    @Test
    void epochsShareOneClockAndAreTaggedInTheArgs() throws Exception {
        PipelineMetrics m = fitMlp(2, 10, b -> b.recordTimeline(true));
        Trace trace = writeAndRead(m.timeline());
        assertRowsCountsAndOrder(trace, m, 30, 30);
        assertCausal(trace, 3);
        long lastOfFirst = 0;
        long firstOfSecond = Long.MAX_VALUE;
        for (List<Event> row : trace.events().values()) {
            for (Event e : row) {
                if (e.epoch == 0) {
                    lastOfFirst = Math.max(lastOfFirst, e.end);
                } else {
                    assertEquals(1, e.epoch);
                    firstOfSecond = Math.min(firstOfSecond, e.start);
                }
            }
        }
        assertTrue(firstOfSecond >= lastOfFirst, "the pipeline drains between epochs");
        assertEquals(15, trace.of(0, "forward").stream().filter(e -> e.epoch == 1).count());
    }

    @Test
    void theLimitDropsSpansAndTheTraceSaysSo() throws Exception {
        PipelineMetrics m = fitMlp(1, 10, b -> b.recordTimeline(true).timelineSpanLimit(10));
        PipelineTimeline t = m.timeline();
        assertEquals(10, t.spanLimit());
        Trace trace = writeAndRead(t);
        for (int k = 0; k < 3; k++) {
            assertEquals(10, t.spans(k).size());
            assertTrue(t.dropped(k) >= 3 * 15 - 10, "F, B and U of 15 micro-batches do not fit in 10: " + t.dropped(k));
            assertEquals(t.dropped(k), trace.root().get("otherData").get("droppedSpans").get(k).asLong());
            assertEquals("stage " + k + " (" + t.dropped(k) + " spans dropped after the first 10)", trace.rowNames().get(k));
            assertEquals(10, trace.events().get(k).size());
        }
        assertTrue(t.render(50).contains("spans dropped after the first 10"));
    }

    @Test
    void offByDefaultNoSpansAndTheWriterSaysHowToRecord() {
        PipelineMetrics m = fitMlp(1, 50, b -> b);
        PipelineTimeline t = m.timeline();
        assertFalse(t.recorded());
        for (int k = 0; k < 3; k++) {
            assertTrue(t.spans(k).isEmpty());
        }
        Path file = tmp.resolve("none.json");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.writeChromeTrace(file));
        assertTrue(e.getMessage().contains(".recordTimeline(true)"), e.getMessage());
        assertFalse(Files.exists(file));
    }

    @Test
    void settingsShowTheLimitAndBuildRejectsALimitBelowOne() {
        MultiLayerNetwork net = Nets.irisMlp(new Sgd(0.05), DataType.FLOAT, 11);
        try (AsyncPipelineWrapper off = new AsyncPipelineWrapper.Builder(net).stages(2).build();
             AsyncPipelineWrapper on = new AsyncPipelineWrapper.Builder(net).stages(2).recordTimeline(true).build()) {
            assertEquals(0, off.settings().timelineSpans());
            assertEquals(PipelineBuilder.DEFAULT_TIMELINE_SPAN_LIMIT, on.settings().timelineSpans());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(net).stages(2).recordTimeline(true).timelineSpanLimit(0).build());
        assertTrue(e.getMessage().contains("timelineSpanLimit"), e.getMessage());
    }

    @Test
    void renderedRunHasOneFixedWidthRowPerStage() {
        PipelineTimeline t = fitMlp(1, 10, b -> b.recordTimeline(true)).timeline();
        String[] lines = t.render(80).split("\n");
        assertEquals(1 + 3 + 1, lines.length, String.join("\n", lines));
        for (int k = 0; k < 3; k++) {
            String row = lines[1 + k];
            assertTrue(row.startsWith("stage " + k + " |"), row);
            String cells = row.substring("stage 0 |".length());
            assertEquals(80, cells.length(), row);
            assertTrue(cells.matches("[FRBUL.]+"), row);
            // a forward or backward at least one column long fills at least half of some column, which then shows it
            // (on a loaded machine stalls can stretch the fit until no op is that long: then there is nothing to see)
            double width = Math.max(1, t.endNanos()) / 80.0;
            long longest = t.spans(k).stream().filter(sp -> sp.kind() == Span.Kind.FORWARD || sp.kind() == Span.Kind.BACKWARD)
                    .mapToLong(Span::durationNanos).max().orElse(0);
            if (longest >= width) {
                assertTrue(cells.indexOf('F') >= 0 || cells.indexOf('B') >= 0, "an op of " + longest
                        + " ns fills half a column of " + width + " ns: " + row);
            }
        }
        assertTrue(lines[4].contains("F forward"), lines[4]);
    }

    @Test
    void computationGraphStagesRecordToo() throws Exception {
        ComputationGraph g = Nets.irisGraph(new Sgd(0.05), DataType.FLOAT, 5);
        PipelineMetrics m;
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(g).cutAfter("h1").recordTimeline(true).build()) {
            w.fit(Iris.iterator(25, DataType.FLOAT));
            m = w.metrics();
        }
        Trace trace = writeAndRead(m.timeline());
        assertEquals(2, trace.rowNames().size());
        assertRowsCountsAndOrder(trace, m, 6, 6);
        assertCausal(trace, 2);
    }
}
