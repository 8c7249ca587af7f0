package io.asyncpipeline.examples;

import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/**
 * PNG charts of the {@code --out} results, {@value #WIDTH} × {@value #HEIGHT} pixels, drawn with XChart on headless
 * AWT: {@code java.awt.headless} is set to true before the first chart, so no display is needed.
 */
final class Plots {

    static final int WIDTH = 800;
    static final int HEIGHT = 500;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {
    }

    /** One line of an XY chart. */
    record Series(String name, double[] x, double[] y) {
        Series {
            if (x.length != y.length) {
                throw new IllegalArgumentException(name + ": " + x.length + " x values but " + y.length + " y values");
            }
        }
    }

    /** A line chart with markers, one line per series; series without points are left out. */
    static void lines(Path png, String title, String xTitle, String yTitle, List<Series> series) {
        XYChart chart = xyChart(title, xTitle, yTitle);
        for (Series s : series) {
            if (s.x().length > 0) {
                chart.addSeries(s.name(), s.x(), s.y());
            }
        }
        save(chart, png);
    }

    /** One line of an XY chart with a spread: {@code y ± spread} drawn as error bars at every point. */
    record Band(String name, double[] x, double[] y, double[] spread) {
        Band {
            if (x.length != y.length || y.length != spread.length) {
                throw new IllegalArgumentException(name + ": " + x.length + " x values, " + y.length + " y values and "
                        + spread.length + " spreads");
            }
        }
    }

    /** More lines than this get the legend outside the plot area. */
    static final int CROWDED = 5;

    /** A line chart with markers and error bars, one line per band; bands without points are left out. */
    static void bands(Path png, String title, String xTitle, String yTitle, List<Band> bands) {
        XYChart chart;
        if (bands.size() > CROWDED) {       // a legend inside would hide lines: put it to the right, widen the chart
            chart = new XYChartBuilder().width(WIDTH + 250).height(HEIGHT).title(title).xAxisTitle(xTitle)
                    .yAxisTitle(yTitle).build();
            chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE).setMarkerSize(5);
        } else {
            chart = xyChart(title, xTitle, yTitle);
        }
        for (Band b : bands) {
            if (b.x().length > 0) {
                chart.addSeries(b.name(), b.x(), b.y(), b.spread());
            }
        }
        save(chart, png);
    }

    private static XYChart xyChart(String title, String xTitle, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE).setMarkerSize(5);
        return chart;
    }

    /**
     * A heat map of {@code values[y][x]} over the labelled grid (NaN cells, such as failed runs, are left empty), each
     * cell showing its value to {@code decimals} places.
     */
    static void heatMap(Path png, String title, String xTitle, String yTitle, List<String> xLabels, List<String> yLabels,
                        double[][] values, int decimals) {
        org.knowm.xchart.HeatMapChart chart = new org.knowm.xchart.HeatMapChartBuilder().width(WIDTH).height(HEIGHT)
                .title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setShowValue(true).setHeatMapValueDecimalPattern("0." + "0".repeat(Math.max(1, decimals)));
        List<Number[]> cells = new java.util.ArrayList<>();
        for (int y = 0; y < yLabels.size(); y++) {
            for (int x = 0; x < xLabels.size(); x++) {
                if (!Double.isNaN(values[y][x])) {
                    cells.add(new Number[]{x, y, values[y][x]});
                }
            }
        }
        if (cells.isEmpty()) {
            return;
        }
        chart.addSeries("validation loss", xLabels, yLabels, cells);
        save(chart, png);
    }

    /**
     * A grouped bar chart on a linear axis from 0: one group per category, one bar per series ({@code series} maps a
     * name to one value per category, in order).
     */
    static void bars(Path png, String title, String xTitle, String yTitle, List<String> categories,
                     Map<String, double[]> series) {
        CategoryChart chart = barChart(title, xTitle, yTitle, WIDTH, HEIGHT);
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            chart.addSeries(e.getKey(), categories, values(e.getKey(), e.getValue(), categories));
        }
        save(chart, png);
    }

    /** One panel of {@link #barPanels}: a bar per category, on its own linear axis from 0. */
    record Panel(String title, List<String> categories, double[] values) {
    }

    /**
     * Bar charts side by side in one {@value #WIDTH} × {@value #HEIGHT} image, each panel with its own value axis
     * (throughputs of different models differ by orders of magnitude; within a panel the bars compare at scale).
     */
    static void barPanels(Path png, String yTitle, List<Panel> panels) {
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("no panels");
        }
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            int n = panels.size();
            for (int i = 0; i < n; i++) {
                int x0 = WIDTH * i / n;
                int w = WIDTH * (i + 1) / n - x0;
                Panel p = panels.get(i);
                CategoryChart chart = barChart(p.title(), null, i == 0 ? yTitle : null, w, HEIGHT);
                chart.getStyler().setLegendVisible(false);
                if (n > 1) {
                    chart.getStyler().setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
                }
                chart.addSeries(yTitle, p.categories(), values(p.title(), p.values(), p.categories()));
                g.drawImage(BitmapEncoder.getBufferedImage(chart), x0, 0, null);
            }
        } finally {
            g.dispose();
        }
        try {
            ResultFiles.replace(png, out -> ImageIO.write(image, "png", out));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png, e);
        }
    }

    private static CategoryChart barChart(String title, String xTitle, String yTitle, int width, int height) {
        CategoryChart chart = new CategoryChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS)
                .setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setYAxisMin(0.0);
        return chart;
    }

    private static List<Double> values(String name, double[] values, List<String> categories) {
        if (values.length != categories.size()) {
            throw new IllegalArgumentException(name + ": " + values.length + " values for " + categories.size()
                    + " categories");
        }
        return java.util.Arrays.stream(values).boxed().toList();
    }

    private static void save(Chart<?, ?> chart, Path png) {
        try {
            ResultFiles.replace(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png, e);
        }
    }
}
