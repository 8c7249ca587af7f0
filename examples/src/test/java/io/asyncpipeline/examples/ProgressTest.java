package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** The plain-line display of {@link Progress} (what CI logs and redirected runs show), on a fake clock. */
class ProgressTest {

    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong clock = new AtomicLong(5 * SECOND);      // any origin: only differences count
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private Progress lines(String task, long total, String unit) {
        return new Progress(task, total, unit, Progress.Mode.LINES, out, clock::get, 30 * SECOND);
    }

    private List<String> printed() {
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void linesAtEveryTenPercentAndAfterThirtySecondsWithRateAndEta() {
        Progress p = lines("stash", 100, "steps");
        for (int i = 1; i <= 9; i++) {
            clock.addAndGet(SECOND);
            p.step(1, 16);
        }
        assertEquals(List.of(), printed(), "nothing before 10% or 30 s");
        clock.addAndGet(SECOND);
        p.loss("val loss", 2.71828);
        p.step(1, 16);
        // 10 steps of 16 examples in 10 s: 16 examples/s; 90 steps left at 1 s each
        assertEquals(List.of("stash: 10/100 steps (10%), val loss 2.7183, 16.0 examples/s, elapsed 0:10, ETA 1:30"),
                printed());
        for (int i = 11; i <= 20; i++) {
            clock.addAndGet(SECOND);
            p.step(1, 16);
        }
        assertEquals(2, printed().size(), printed().toString());
        assertEquals("stash: 20/100 steps (20%), val loss 2.7183, 16.0 examples/s, elapsed 0:20, ETA 1:20",
                printed().get(1));
        clock.addAndGet(29 * SECOND);
        p.step(1, 16);
        assertEquals(2, printed().size(), "29 s after the last line and still within 20..29%");
        clock.addAndGet(SECOND);
        p.loss(Double.NaN);
        p.step(1, 16);
        // 22 steps, 352 examples in 50 s: 7.04 examples/s; 78 steps left at 50/22 s each = 177.3 s
        assertEquals("stash: 22/100 steps (22%), 7.0 examples/s, elapsed 0:50, ETA 2:57", printed().get(2));
        clock.addAndGet(SECOND);
        p.step(3, 48);
        p.close();
        p.close();
        assertEquals(4, printed().size(), "close prints the last state once");
        assertEquals("stash: 25/100 steps (25%), 7.8 examples/s, elapsed 0:51, ETA 2:33", printed().get(3));
    }

    @Test
    void lastStepPrintsOnceAndCloseAddsNothing() {
        Progress p = lines("soak mlp", 3, "micro-batches");
        for (int i = 0; i < 3; i++) {
            clock.addAndGet(2 * SECOND);
            p.step(1, 64);
        }
        p.close();
        // 3 steps of 3: the 33% and 66% buckets, then 100%
        assertEquals(List.of(
                "soak mlp: 1/3 micro-batches (33%), 32.0 examples/s, elapsed 0:02, ETA 0:04",
                "soak mlp: 2/3 micro-batches (66%), 32.0 examples/s, elapsed 0:04, ETA 0:02",
                "soak mlp: 3/3 micro-batches (100%), 32.0 examples/s, elapsed 0:06, ETA 0:00"), printed());
    }

    @Test
    void formatting() {
        assertEquals("0:00", Progress.duration(0));
        assertEquals("0:59", Progress.duration(59.4));
        assertEquals("1:00", Progress.duration(59.6));
        assertEquals("59:59", Progress.duration(3599.4));
        assertEquals("1:00:00", Progress.duration(3599.6));
        assertEquals("26:03:05", Progress.duration(26 * 3600 + 3 * 60 + 5));
        assertEquals("?", Progress.duration(Double.NaN));
        assertEquals("?", Progress.duration(-1));
        assertEquals("?", Progress.duration(Double.POSITIVE_INFINITY));
        assertEquals(160.0, Progress.rate(1600, 10), 1e-12);
        assertTrue(Double.isNaN(Progress.rate(5, 0)));
        assertEquals("160", Progress.formatRate(160));
        assertEquals("12.3", Progress.formatRate(12.345));
        assertEquals("99.9", Progress.formatRate(99.94));
        assertEquals("?", Progress.formatRate(Double.NaN));
        assertEquals(150.0, Progress.etaSeconds(25, 100, 50), 1e-12);
        assertEquals(0.0, Progress.etaSeconds(100, 100, 50));
        assertTrue(Double.isNaN(Progress.etaSeconds(0, 100, 50)));
    }

    @Test
    void modeFollowsTheSettingElseTheConsole() {
        assertEquals(Progress.Mode.BAR, Progress.mode(null, true));
        assertEquals(Progress.Mode.LINES, Progress.mode(null, false));
        assertEquals(Progress.Mode.LINES, Progress.mode("auto", false));
        assertEquals(Progress.Mode.LINES, Progress.mode("lines", true));
        assertEquals(Progress.Mode.BAR, Progress.mode(" BAR ", false));
        assertEquals(Progress.Mode.OFF, Progress.mode("off", true));
        assertThrows(IllegalArgumentException.class, () -> lines("x", 0, "steps"));
    }

    @Test
    void offPrintsNothing() {
        Progress p = new Progress("quiet", 2, "steps", Progress.Mode.OFF, out, clock::get, 0);
        p.step(2, 10);
        p.close();
        assertEquals(2, p.done());
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void countingIteratorStepsOncePerBatchWithItsExamples() {
        List<DataSet> batches = List.of(batch(4), batch(4), batch(2));
        Progress p = lines("count", 3, "batches");
        var it = p.counting(new ListDataSetIterator<>(batches, 1));
        clock.addAndGet(5 * SECOND);
        int n = 0;
        while (it.hasNext()) {
            it.next();
            n++;
        }
        assertEquals(3, n);
        assertEquals(3, p.done());
        p.close();
        // 10 examples in 5 s
        assertEquals("count: 3/3 batches (100%), 2.0 examples/s, elapsed 0:05, ETA 0:00",
                printed().get(printed().size() - 1));
    }

    /** The DL4J listener counts one step per iteration of a real fit and shows the model's score. */
    @Test
    void trainingListenerStepsPerIterationWithTheScore() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).updater(new Sgd(0.1))
                .list().layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(2)
                        .activation(Activation.SOFTMAX).build()).build());
        net.init();
        Progress p = lines("fit", 3, "steps");
        net.setListeners(p.trainingListener(5));
        clock.addAndGet(SECOND);
        net.fit(new ListDataSetIterator<>(List.of(batch(5), batch(5), batch(5)), 1));
        assertEquals(3, p.done());
        String last = printed().get(printed().size() - 1);
        assertTrue(last.startsWith("fit: 3/3 steps (100%), loss "), last);
        double loss = Double.parseDouble(last.replaceAll(".*, loss ([0-9.]+),.*", "$1"));
        assertEquals(net.score(), loss, 1e-4);
        assertTrue(last.endsWith(", 15.0 examples/s, elapsed 0:01, ETA 0:00"), last);
    }

    private static DataSet batch(int n) {
        var labels = Nd4j.zeros(n, 2);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, i % 2, 1.0);
        }
        return new DataSet(Nd4j.rand(n, 3), labels);
    }
}
