package io.asyncpipeline.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class PipelineScheduleTest {

    /** Walks a stream with the interpreter's rules for a stream of n micro-batches. */
    static List<Action> executed(Iterator<Action> s, int n) {
        List<Action> out = new ArrayList<>();
        Integer end = null;
        while (true) {
            Action a = s.next();
            if (a.type() == ActionType.FORWARD) {
                if (end != null && a.index() >= end) {
                    continue;
                }
                if (a.index() >= n) {
                    end = a.index(); // the forward found no input
                    continue;
                }
            }
            if (a.type() == ActionType.BACKWARD && end != null && a.index() >= end) {
                return out;
            }
            out.add(a);
        }
    }

    private static void assertPrefixesMatch(IntFunction<StagePlan> finite, int stages,
                                            IntFunction<Iterator<Action>> stream, int n) {
        StagePlan plan = finite.apply(n);
        for (int k = 0; k < stages; k++) {
            Iterator<Action> s = stream.apply(k);
            assertEquals(plan.actions(k), executed(s, n), "stage " + k + " of " + stages + ", N=" + n);
        }
    }

    @Test
    void asyncStreamEqualsTheFinitePlanForEveryLength() {
        for (int p = 1; p <= 6; p++) {
            for (int n = 1; n <= 12; n++) {
                int stages = p;
                assertPrefixesMatch(nn -> Schedules.async1F1B(stages, nn), p,
                        k -> Schedules.async1F1B().stream(k, stages), n);
            }
        }
    }

    @Test
    void syncStreamsEqualTheFinitePlansForWholeMiniBatches() {
        for (int p = 1; p <= 5; p++) {
            for (int m = 1; m <= 4; m++) {
                for (int j = 1; j <= 3; j++) {
                    int stages = p;
                    int micro = m;
                    assertPrefixesMatch(nn -> Schedules.gpipe(stages, micro, nn / micro), p,
                            k -> Schedules.gpipe(micro).stream(k, stages), j * m);
                    assertPrefixesMatch(nn -> Schedules.oneFOneB(stages, micro, nn / micro), p,
                            k -> Schedules.oneFOneB(micro).stream(k, stages), j * m);
                }
            }
        }
    }

    @Test
    void asyncStreamStartsWithWarmUpThenSteadyState() {
        Iterator<Action> s = Schedules.async1F1B().stream(0, 3);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            b.append(s.next()).append(' ');
        }
        assertEquals("0F0 0F1 0F2 0B0 0U0 0F3 0B1 0U1 ", b.toString());
    }

    private static String first(Iterator<Action> s, int count) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < count; i++) {
            b.append(i == 0 ? "" : " ").append(s.next());
        }
        return b.toString();
    }

    @Test
    void syncStreamsRepeatTheirRoundShiftedByMMicroBatchesAndOneStep() {
        assertEquals("2F0 2F1 2B0 2F2 2B1 2B2 2U0 2F3 2F4 2B3 2F5 2B4 2B5 2U1 2F6",
                first(Schedules.oneFOneB(3).stream(2, 4), 15));
        assertEquals("0F0 0F1 0B0 0B1 0U0 0F2 0F3 0B2 0B3 0U1", first(Schedules.gpipe(2).stream(0, 5), 10));
        assertEquals("0F0 0B0 0U0 0F1 0B1 0U1", first(Schedules.async1F1B().stream(0, 1), 6));
    }

    @Test
    void truncationDropsForwardsPastTheEndAndStopsAtTheFirstBackwardPastIt() {
        // stage 0 of 3 (tau = 2) on a stream of 2 micro-batches: F2 and F3 find no input, B2 ends the list
        assertEquals(List.of(Action.forward(0, 0), Action.forward(0, 1), Action.backward(0, 0), Action.update(0, 0),
                Action.backward(0, 1), Action.update(0, 1)),
                StagePlan.truncate(Schedules.async1F1B().stream(0, 3), 2));
        // GPipe with M = 3 on 4 micro-batches: the partial second mini-batch runs F3 B3 but no update
        assertEquals("0F0 0F1 0F2 0B0 0B1 0B2 0U0 0F3 0B3", Schedules.gpipe(3).plan(1, 4).toCompactString());
        assertEquals(List.of(), StagePlan.truncate(Schedules.oneFOneB(2).stream(0, 2), 0));
    }

    @Test
    void truncationRejectsNegativeLengthsAndFiniteStreams() {
        assertThrows(IllegalArgumentException.class, () -> StagePlan.truncate(Schedules.async1F1B().stream(0, 1), -1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StagePlan.truncate(List.of(Action.forward(0, 0), Action.backward(0, 0)).iterator(), 5));
        assertTrue(e.getMessage().contains("stream ended before a backward of micro-batch >= 5"), e.getMessage());
    }

    @Test
    void namesUpdateSizesAndArgumentChecks() {
        assertEquals("async 1F1B", Schedules.async1F1B().name());
        assertEquals("GPipe (M=4)", Schedules.gpipe(4).toString());
        assertEquals("sync 1F1B (M=2)", Schedules.oneFOneB(2).name());
        assertEquals(1, Schedules.async1F1B().microBatchesPerUpdate());
        assertEquals(4, Schedules.gpipe(4).microBatchesPerUpdate());
        assertEquals(2, Schedules.oneFOneB(2).microBatchesPerUpdate());
        assertEquals(Schedules.gpipe(4), Schedules.gpipe(4));
        assertMessage(() -> Schedules.gpipe(0), "microBatchesPerMiniBatch must be >= 1 but was 0");
        assertMessage(() -> Schedules.oneFOneB(-2), "microBatchesPerMiniBatch must be >= 1 but was -2");
        assertMessage(() -> Schedules.async1F1B().stream(3, 3), "stage must be in 0..2 but was 3");
        assertMessage(() -> Schedules.gpipe(2).stream(0, 0), "stages must be >= 1 but was 0");
        assertMessage(() -> Schedules.oneFOneB(2).plan(2, 0), "microBatches must be >= 1 but was 0");
    }

    @Test
    void streamsAreIndependentAndFresh() {
        PipelineSchedule s = Schedules.gpipe(2);
        Iterator<Action> a = s.stream(0, 2);
        a.next();
        assertEquals(Action.forward(0, 0), s.stream(0, 2).next());
        assertEquals(Action.forward(0, 1), a.next());
    }

    private static void assertMessage(Executable call, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
