package io.asyncpipeline.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class StreamProgressTest {

    private static final PipelineSchedule ASYNC = Schedules.async1F1B();

    @Test
    void executedGridOfAsyncAfterAFewActionsPerStage() {
        // stage 0 ran 0F0 0F1 0B0 0U0, stage 1 ran 1F0 1B0 1U0 1F1 1B1 (unit costs, free updates)
        assertEquals("t  |0    1    2    3    4\n"
                + "S0 |F0   F1   .    B0   U0\n"
                + "S1 |.    F0   B0   U0F1 B1", GridFormatter.executedGrid(ASYNC, 2, new int[] {4, 5}));
        assertEquals("t  |\nS0 |\nS1 |", GridFormatter.executedGrid(ASYNC, 2, new int[] {0, 0}));
    }

    @Test
    void waitsForNamesTheMissingInputs() {
        StreamProgress p = StreamProgress.of(ASYNC, 2, new int[] {2, 1});
        assertEquals(Optional.of(Action.backward(0, 0)), p.next(0));
        assertEquals("next 0B0 waits for 1B0", p.waitsFor(0));
        assertEquals("next 1B0 is ready", p.waitsFor(1));
        StreamProgress start = StreamProgress.of(Schedules.gpipe(2), 3, new int[] {0, 0, 0});
        assertEquals("next 0F0 is ready", start.waitsFor(0));
        assertEquals("next 1F0 waits for 0F0", start.waitsFor(1));
        // stage 1 of 3 in sync 1F1B (M=2): F0 F1 B0 B1 U0, so after F0 F1 it waits for stage 2's backward
        StreamProgress mid = StreamProgress.of(Schedules.oneFOneB(2), 3, new int[] {2, 2, 1});
        assertEquals("next 1B0 waits for 2B0", mid.waitsFor(1));
        assertEquals("next 0B0 waits for 1B0", mid.waitsFor(0));
        assertEquals("next 2B0 is ready", mid.waitsFor(2));
    }

    @Test
    void knownStreamEndSkipsForwardsAndFinishesStages() {
        // N = 2: stage 0 runs F0 F1 B0 U0 (F2 skipped) B1 U1 and stops at B2; stage 1 runs 6 actions too
        StreamProgress done = StreamProgress.of(ASYNC, 2, new int[] {6, 6}, 2);
        assertEquals(Optional.empty(), done.next(0));
        assertEquals("finished", done.waitsFor(1));
        assertEquals(GridFormatter.unitGrid(Schedules.async1F1B(2, 2)), done.grid());
        StreamProgress midway = StreamProgress.of(ASYNC, 2, new int[] {4, 3}, 2);
        assertEquals(Optional.of(Action.backward(0, 1)), midway.next(0));
        assertEquals("next 0B1 waits for 1B1", midway.waitsFor(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StreamProgress.of(ASYNC, 2, new int[] {7, 0}, 2));
        assertEquals("stage 0 finishes after 6 actions of async 1F1B with stream end 2, but executed says 7",
                e.getMessage());
    }

    @Test
    void reportShowsGridAndEveryStage() {
        assertEquals("GPipe (M=2) on 2 stages, executed so far:\n"
                + "t  |0  1  2\n"
                + "S0 |F0 F1 .\n"
                + "S1 |.  F0 F1\n"
                + "Next:\n"
                + "  stage 0: next 0B0 waits for 1B0\n"
                + "  stage 1: next 1B0 is ready", StreamProgress.of(Schedules.gpipe(2), 2, new int[] {2, 2}).report());
        // one step later stage 1 has run 1B0, so stage 0 is no longer held back
        assertEquals("next 0B0 is ready", StreamProgress.of(Schedules.gpipe(2), 2, new int[] {2, 3}).waitsFor(0));
    }

    @Test
    void inconsistentCountsAreListedInsteadOfGridded() {
        // stage 1 claims 1F0 although stage 0 has not run 0F0
        assertEquals("(no grid: the executed actions do not replay under the schedule's dependencies, 0 of 1 placed)\n"
                + "  stage 0: (none)\n"
                + "  stage 1: 1F0", GridFormatter.executedGrid(ASYNC, 2, new int[] {0, 1}));
    }

    @Test
    void longRunsShowOnlyRecentMicroBatchesAndTheLastTimeUnits() {
        // full async run of N = 200 on 2 stages: history restarts at micro-batch 200 - 64 = 136, i.e. a
        // 64-micro-batch async run (2*64 + 2 = 130 time units, 131 columns) of which the last 32 are shown
        String grid = StreamProgress.of(ASYNC, 2, new int[] {600, 600}, 200).grid();
        String[] lines = grid.split("\n");
        assertEquals(5, lines.length, grid);
        assertEquals("(micro-batches below 136 omitted; time restarts at 0)", lines[0]);
        assertEquals("(time units 0..98 omitted)", lines[1]);
        assertTrue(lines[2].startsWith("t  |99 "), lines[2]);
        assertTrue(lines[2].endsWith(" 130"), lines[2]);
        assertEquals(33, lines[2].split(" +").length, lines[2]);
        // drain as in the unit grid of async1F1B(2, N): stage 0 "B U B U", stage 1 "B U ." at the end
        assertTrue(lines[3].replaceAll(" +", " ").endsWith(" U197F199 B198 U198 B199 U199"), lines[3]);
        assertTrue(lines[4].replaceAll(" +", " ").endsWith(" U198F199 B199 U199 ."), lines[4]);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> StreamProgress.of(ASYNC, 2, new int[] {1}));
        assertThrows(IllegalArgumentException.class, () -> StreamProgress.of(ASYNC, 2, new int[] {1, -1}));
        assertThrows(IllegalArgumentException.class, () -> StreamProgress.of(ASYNC, 2, new int[] {1, 1}, -1));
        assertThrows(IllegalArgumentException.class, () -> StreamProgress.of(ASYNC, 0, new int[0]));
        assertThrows(IndexOutOfBoundsException.class, () -> StreamProgress.of(ASYNC, 1, new int[] {0}).waitsFor(1));
    }

    @Test
    void rejectsStreamsThatBreakTheOrderContract() {
        PipelineSchedule swapped = new PipelineSchedule() {
            @Override
            public String name() {
                return "swapped";
            }

            @Override
            public int microBatchesPerUpdate() {
                return 1;
            }

            @Override
            public Iterator<Action> stream(int stage, int stages) {
                return Stream.iterate(0, i -> i + 1).map(i -> Action.forward(stage, i ^ 1)).iterator();
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> StreamProgress.of(swapped, 1, new int[] {1}));
        assertEquals("stream of swapped on stage 0 runs 0F1 after 0 FORWARD actions; streams must run"
                + " micro-batches 0, 1, 2, ... in order", e.getMessage());
    }
}
