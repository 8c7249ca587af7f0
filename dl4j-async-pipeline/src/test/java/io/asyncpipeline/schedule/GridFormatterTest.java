package io.asyncpipeline.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class GridFormatterTest {

    @Test
    void unitGridOfSmallGpipe() {
        assertEquals("t  |0  1  2  3  4  5  6\n"
                + "S0 |F0 F1 .  .  B0 B1 U0\n"
                + "S1 |.  F0 F1 B0 B1 U0 .", GridFormatter.unitGrid(Schedules.gpipe(2, 2, 1)));
    }

    @Test
    void doubleCostBackwardsAndZeroCostUpdates() {
        SimulationResult r = TimingSimulator.simulate(Schedules.async1F1B(2, 2), OpCosts.uniform(2, 1, 2, 0));
        assertEquals("t  |0    1    2    3    4    5    6    7    8    9\n"
                + "S0 |F0   F1   .    .    B0   B0   U0   B1   B1   U1\n"
                + "S1 |.    F0   B0   B0   U0F1 B1   B1   U1   .    .", GridFormatter.format(r));
    }

    @Test
    void wideGridsKeepColumnsAligned() {
        String grid = GridFormatter.unitGrid(Schedules.gpipe(11, 1, 1));
        String[] lines = grid.split("\n");
        assertEquals(12, lines.length);
        assertEquals("t   |0  1  2  3  4  5  6  7  8  9  10 11 12 13 14 15 16 17 18 19 20 21 22", lines[0]);
        assertEquals("S10 |.  .  .  .  .  .  .  .  .  .  F0 B0 U0 .  .  .  .  .  .  .  .  .  .", lines[11]);
        assertEquals("S0  |F0 .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  B0 U0", lines[1]);
    }
}
