package io.asyncpipeline.schedule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Renders a timeline as a stage x time grid: one column per time unit {@code [t, t+1)}, one row per
 * stage. A cell shows the label ({@code F3}, {@code B0}, ...) of the action occupying that unit;
 * zero-duration actions (e.g. free updates) are prefixed to the cell of the unit in which they occur.
 * Idle cells are {@code .}; cells are left-aligned to a common width. Output is deterministic.
 *
 * <pre>
 * t  |0  1  2  3  4  5  6
 * S0 |F0 F1 .  .  B0 B1 U0
 * S1 |.  F0 F1 B0 B1 U0 .
 * </pre>
 */
public final class GridFormatter {

    /** Most time units that {@link #executedGrid} shows; earlier ones are summarised in one line. */
    static final int EXECUTED_COLUMNS = 32;

    private GridFormatter() {
    }

    /** @return grid of a completed simulation */
    public static String format(SimulationResult result) {
        return format(result.timeline());
    }

    /**
     * Simulates {@code plan} with unit costs (forward 1, backward 1, update 0, no latency) and renders it.
     *
     * @throws IllegalStateException if the plan deadlocks
     */
    public static String unitGrid(StagePlan plan) {
        return format(TimingSimulator.simulate(plan, OpCosts.uniform(plan.stages(), 1, 1, 0)));
    }

    /**
     * Renders what each stage has executed so far in a run of {@code schedule}, as a unit-cost grid
     * (see {@link StreamProgress#grid()}, which also covers a known stream end).
     *
     * @param schedule the generator the stages run
     * @param stages   number of stages {@code P}
     * @param executed per stage, the number of actions it has executed from its stream
     * @return the grid of the last 32 ({@code EXECUTED_COLUMNS}) time units, or a listing of the prefixes
     *         if they cannot be replayed
     */
    public static String executedGrid(PipelineSchedule schedule, int stages, int[] executed) {
        return StreamProgress.of(schedule, stages, executed).grid();
    }

    /** Renders the actions of {@code t} that have run so far. */
    static String format(Timeline t) {
        return format(t, Integer.MAX_VALUE);
    }

    /** Renders the last {@code maxColumns} time units of {@code t}, noting the omitted ones first. */
    static String format(Timeline t, int maxColumns) {
        int p = t.plan.stages();
        int columns = columnCount(t);
        int from = Math.max(0, columns - maxColumns);
        String[][] cells = new String[p][];
        for (int k = 0; k < p; k++) {
            cells[k] = Arrays.copyOfRange(stageCells(t, k, columns), from, columns);
        }
        int width = Integer.toString(Math.max(0, columns - 1)).length();
        for (String[] row : cells) {
            for (String c : row) {
                width = Math.max(width, c.length());
            }
        }
        String grid = render(cells, from, width);
        return from == 0 ? grid : "(time units 0.." + (from - 1) + " omitted)\n" + grid;
    }

    private static int columnCount(Timeline t) {
        int columns = 0;
        for (int k = 0; k < t.plan.stages(); k++) {
            for (int i = 0; i < t.done[k]; i++) {
                double s = t.start[k][i];
                double e = t.end[k][i];
                columns = Math.max(columns, e > s ? (int) Math.ceil(e) : (int) Math.floor(s) + 1);
            }
        }
        return columns;
    }

    private static String[] stageCells(Timeline t, int k, int columns) {
        StringBuilder[] prefix = new StringBuilder[columns];
        StringBuilder[] body = new StringBuilder[columns];
        for (int c = 0; c < columns; c++) {
            prefix[c] = new StringBuilder();
            body[c] = new StringBuilder();
        }
        List<Action> actions = t.plan.actions(k);
        for (int i = 0; i < t.done[k]; i++) {
            double s = t.start[k][i];
            double e = t.end[k][i];
            String label = actions.get(i).label();
            if (e > s) {
                for (int c = (int) Math.floor(s); c < (int) Math.ceil(e); c++) {
                    body[c].append(label);
                }
            } else {
                prefix[(int) Math.floor(s)].append(label);
            }
        }
        String[] out = new String[columns];
        for (int c = 0; c < columns; c++) {
            String text = prefix[c].toString() + body[c];
            out[c] = text.isEmpty() ? "." : text;
        }
        return out;
    }

    private static String render(String[][] cells, int firstColumn, int width) {
        int labelWidth = ("S" + (cells.length - 1)).length();
        List<String> lines = new ArrayList<>();
        StringBuilder header = new StringBuilder(pad("t", labelWidth)).append(" |");
        for (int c = 0; c < cells[0].length; c++) {
            header.append(pad(Integer.toString(firstColumn + c), width)).append(' ');
        }
        lines.add(header.toString().stripTrailing());
        for (int k = 0; k < cells.length; k++) {
            StringBuilder row = new StringBuilder(pad("S" + k, labelWidth)).append(" |");
            for (String cell : cells[k]) {
                row.append(pad(cell, width)).append(' ');
            }
            lines.add(row.toString().stripTrailing());
        }
        return String.join("\n", lines);
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }
}
