package io.asyncpipeline.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** The recorder, the Chrome trace writer and the text rendering, on spans with known times. */
class PipelineTimelineTest {

    private static final long ORIGIN = 1_000_000;

    @TempDir
    Path tmp;

    /** Stage 0: F0 [0,100) U0 [100,110) B0 [200,300); stage 1: waits [0,100), F0 [100,200), B0 [300,400). */
    private static PipelineTimeline twoStages() {
        StageTimeline s0 = new StageTimeline(0, 100, ORIGIN);
        s0.record(Span.Kind.FORWARD, 0, 0, ORIGIN, ORIGIN + 100);
        s0.record(Span.Kind.UPDATE, 0, 0, ORIGIN + 100, ORIGIN + 110);
        s0.recordWait(Span.Kind.WAIT_GRADIENTS, 0, 0, ORIGIN + 110, ORIGIN + 200);   // 90 ns: a hand-off, not kept
        s0.record(Span.Kind.BACKWARD, 0, 0, ORIGIN + 200, ORIGIN + 300);
        StageTimeline s1 = new StageTimeline(1, 100, ORIGIN);
        s1.recordWait(Span.Kind.WAIT_ACTIVATIONS, 0, 0, ORIGIN, ORIGIN + 100_000);
        s1.record(Span.Kind.FORWARD, 0, 0, ORIGIN + 100_000, ORIGIN + 200_000);
        s1.record(Span.Kind.BACKWARD, 0, 0, ORIGIN + 300_000, ORIGIN + 400_000);
        return PipelineTimeline.of(List.of(s0, s1));
    }

    @Test
    void recorderKeepsSpansRelativeToTheOriginUpToItsLimit() {
        StageTimeline t = new StageTimeline(2, 3, ORIGIN);
        for (int m = 0; m < 5; m++) {
            t.record(Span.Kind.FORWARD, m, 1, ORIGIN + 10 * m, ORIGIN + 10 * m + 5);
        }
        assertEquals(3, t.size());
        assertEquals(2, t.dropped());
        assertEquals(30, t.firstDropNanos(), "the first span not kept started at 30 ns");
        assertEquals(new Span(Span.Kind.FORWARD, 2, 1, 1, 10, 15), t.spans().get(1));
        assertEquals(List.of(0, 1, 2), t.spans().stream().map(Span::index).toList());
        assertThrows(IllegalArgumentException.class, () -> new StageTimeline(0, 0, ORIGIN));
    }

    @Test
    void recorderGrowsPastItsFirstArraysAndKeepsEverySpan() {
        StageTimeline t = new StageTimeline(0, 5000, 0);
        for (int i = 0; i < 3000; i++) {
            t.record(Span.Kind.BACKWARD, i, 0, 2L * i, 2L * i + 1);
        }
        assertEquals(3000, t.size());
        assertEquals(0, t.dropped());
        assertEquals(-1, t.firstDropNanos());
        assertEquals(new Span(Span.Kind.BACKWARD, 0, 2999, 0, 5998, 5999), t.spans().get(2999));
    }

    @Test
    void waitsShorterThanOneMicrosecondAreHandOffsNotIdleTime() {
        StageTimeline t = new StageTimeline(0, 10, 0);
        t.recordWait(Span.Kind.SEND_ACTIVATIONS, 0, 0, 0, StageTimeline.MIN_WAIT_NANOS - 1);
        assertEquals(0, t.size());
        t.recordWait(Span.Kind.SEND_ACTIVATIONS, 0, 0, 0, StageTimeline.MIN_WAIT_NANOS);
        assertEquals(1, t.size());
        assertTrue(t.spans().get(0).kind().idle());
        assertEquals("idle", t.spans().get(0).name());
    }

    @Test
    void spanNamesDistinguishTheOps() {
        assertEquals("F 12", new Span(Span.Kind.FORWARD, 0, 12, 0, 0, 1).name());
        assertEquals("R 12", new Span(Span.Kind.RECOMPUTE, 0, 12, 0, 0, 1).name());
        assertEquals("B 12", new Span(Span.Kind.BACKWARD, 0, 12, 0, 0, 1).name());
        assertEquals("U 3", new Span(Span.Kind.UPDATE, 0, 3, 0, 0, 1).name());
        assertEquals("load 4", new Span(Span.Kind.LOAD, 0, 4, 0, 0, 1).name());
        assertEquals(5, new Span(Span.Kind.LOAD, 0, 4, 0, 2, 7).durationNanos());
    }

    @Test
    void chromeTraceHasNamedRowsCompleteEventsAndExactMicroseconds() throws Exception {
        PipelineTimeline t = twoStages();
        Path file = tmp.resolve("trace.json");
        t.writeChromeTrace(file);
        String text = Files.readString(file);
        JsonNode root = new ObjectMapper().readTree(text);
        assertEquals("ms", root.get("displayTimeUnit").asText());
        List<JsonNode> events = new ArrayList<>();
        root.get("traceEvents").forEach(events::add);
        for (int k = 0; k < 2; k++) {
            int stage = k;
            assertEquals(1, events.stream().filter(e -> e.get("ph").asText().equals("M")
                    && e.get("name").asText().equals("thread_name") && e.get("tid").asInt() == stage + 1
                    && e.get("args").get("name").asText().equals("stage " + stage)).count(), text);
        }
        List<JsonNode> complete = events.stream().filter(e -> e.get("ph").asText().equals("X")).toList();
        assertEquals(List.of("F 0", "U 0", "B 0", "idle", "F 0", "B 0"),
                complete.stream().map(e -> e.get("name").asText()).toList());
        JsonNode u = complete.get(1);
        assertEquals("update", u.get("cat").asText());
        assertEquals(1, u.get("tid").asInt());
        assertEquals(1, u.get("pid").asInt());
        assertEquals(0.1, u.get("ts").asDouble(), 1e-12, "100 ns = 0.1 µs");
        assertEquals(0.010, u.get("dur").asDouble(), 1e-12);
        assertEquals(0, u.get("args").get("step").asInt());
        JsonNode f1 = complete.get(4);
        assertEquals(2, f1.get("tid").asInt());
        assertEquals(100.0, f1.get("ts").asDouble(), 0.0);
        assertEquals(100.0, f1.get("dur").asDouble(), 0.0);
        assertEquals(0, f1.get("args").get("mb").asInt());
        assertEquals(0, f1.get("args").get("epoch").asInt());
        JsonNode idle = complete.get(3);
        assertEquals("idle", idle.get("cat").asText());
        assertEquals("receive activations", idle.get("args").get("wait").asText());
        assertTrue(text.contains("\"ts\":0.100,\"dur\":0.010,"), "exact decimals, no floating-point noise:\n" + text);
        assertEquals(0, root.get("otherData").get("droppedSpans").get(1).asInt());
        assertFalse(text.contains("spans dropped"), text);
        assertEquals(text, t.toChromeTrace());
    }

    @Test
    void droppedSpansAreCountedAndNamedInTheTrace() throws Exception {
        StageTimeline s0 = new StageTimeline(0, 2, 0);
        for (int m = 0; m < 5; m++) {
            s0.record(Span.Kind.FORWARD, m, 0, 1000L * m, 1000L * m + 500);
        }
        PipelineTimeline t = PipelineTimeline.of(List.of(s0));
        assertEquals(3, t.dropped(0));
        assertEquals(3, t.dropped());
        assertEquals(2, t.spanLimit());
        JsonNode root = new ObjectMapper().readTree(t.toChromeTrace());
        assertEquals(3, root.get("otherData").get("droppedSpans").get(0).asInt());
        List<JsonNode> events = new ArrayList<>();
        root.get("traceEvents").forEach(events::add);
        assertTrue(events.stream().anyMatch(e -> e.get("name").asText().equals("thread_name")
                && e.get("args").get("name").asText().equals("stage 0 (3 spans dropped after the first 2)")));
        JsonNode marker = events.stream().filter(e -> e.get("ph").asText().equals("i")).findFirst().orElseThrow();
        assertEquals("spans dropped", marker.get("name").asText());
        assertEquals(2.0, marker.get("ts").asDouble(), 0.0, "at the first dropped span (2000 ns)");
        assertEquals(3, marker.get("args").get("dropped").asInt());
        assertEquals(2, events.stream().filter(e -> e.get("ph").asText().equals("X")).count());
        assertTrue(t.render(10).contains("stage 0: 3 spans dropped after the first 2"), t.render(10));
    }

    @Test
    void aTimelineThatWasNotRecordedHasNoSpansAndRefusesToWrite() {
        PipelineTimeline t = PipelineTimeline.notRecorded(3);
        assertFalse(t.recorded());
        assertEquals(3, t.stages());
        assertTrue(t.spans(2).isEmpty());
        assertEquals(0, t.dropped());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.writeChromeTrace(tmp.resolve("x.json")));
        assertTrue(e.getMessage().contains("recordTimeline(true)"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("x.json")), "no file is created");
        assertThrows(IllegalStateException.class, () -> t.render(10));
        assertThrows(IndexOutOfBoundsException.class, () -> t.spans(3));
        assertFalse(new PipelineMetrics(List.of(new StageMetrics(0)), 1, 1, 1).timeline().recorded());
    }

    @Test
    void renderDrawsOneFixedWidthRowPerStage() {
        PipelineTimeline t = twoStages();
        // the window [0, 400 µs) in 40 columns of 10 µs; stage 0's ops (ns long) fill none to half
        String[] lines = t.render(40).split("\n");
        assertEquals(1 + 2 + 1, lines.length, String.join("\n", lines));
        assertTrue(lines[0].startsWith("t [ms]  |0"), lines[0]);
        assertTrue(lines[0].contains("0.100"), "a label at column 10 (100 µs): " + lines[0]);
        assertEquals("stage 0 |" + ".".repeat(40), lines[1]);
        assertEquals("stage 1 |" + ".".repeat(10) + "F".repeat(10) + ".".repeat(10) + "B".repeat(10), lines[2]);
        assertTrue(lines[3].startsWith("1 column = 0.010 ms. F forward, R recompute, B backward, U update"), lines[3]);
        // stage 0 at 10 ns per column: F0 fills 0-9, U0 column 10, B0 20-29
        String[] fine = t.render(40, 0, 400).split("\n");
        assertEquals("stage 0 |" + "F".repeat(10) + "U" + ".".repeat(9) + "B".repeat(10) + ".".repeat(10), fine[1]);
        assertEquals("stage 1 |" + ".".repeat(40), fine[2]);
    }

    @Test
    void aColumnShowsAnOpOnlyWhenOpsFillHalfOfIt() {
        StageTimeline s = new StageTimeline(0, 10, 0);
        s.record(Span.Kind.FORWARD, 0, 0, 0, 4);         // 4 of column 0's 10 ns
        s.record(Span.Kind.BACKWARD, 0, 0, 10, 13);      // column 1: B 3 ns + U 2 ns = half, B the larger
        s.record(Span.Kind.UPDATE, 0, 0, 13, 15);
        s.record(Span.Kind.RECOMPUTE, 1, 0, 25, 30);     // column 2: 5 ns, exactly half
        s.record(Span.Kind.LOAD, 2, 0, 30, 36);          // column 3
        PipelineTimeline t = PipelineTimeline.of(List.of(s));
        String row = t.render(4, 0, 40).split("\n")[1];
        assertEquals("stage 0 |.BRL", row);
        assertThrows(IllegalArgumentException.class, () -> t.render(0));
        assertThrows(IllegalArgumentException.class, () -> t.render(10, 5, 5));
        assertThrows(IllegalArgumentException.class, () -> t.render(10, -1, 5));
    }

    @Test
    void metricsRefuseATimelineOfAnotherStageCount() {
        PipelineTimeline two = twoStages();
        assertThrows(IllegalArgumentException.class,
                () -> new PipelineMetrics(List.of(new StageMetrics(0)), 1, 1, 1, two));
        assertEquals(two, new PipelineMetrics(List.of(new StageMetrics(0), new StageMetrics(1)), 1, 1, 1, two).timeline());
    }
}
