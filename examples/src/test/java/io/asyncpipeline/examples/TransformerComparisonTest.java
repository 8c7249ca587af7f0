package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.examples.data.EuroparlText;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine;

class TransformerComparisonTest {

    private static final String[] TINY = {"--steps", "4", "--stages", "2", "--batch", "4", "--context", "8", "--dim", "16",
        "--heads", "2", "--micro", "2", "--warmup", "1", "--eval-every", "2", "--val-windows", "8"};

    private static TransformerComparison.Options options(String... args) {
        return CommandLine.populateCommand(new TransformerComparison(), args).options();
    }

    @Test
    void gpipeEqualsUnsplitFitAndAsyncDiffers() {
        TransformerComparison.Options o = options(TINY);
        EuroparlText text = EuroparlText.load(0.1);
        List<DataSet> val = text.validationBatches(o.batch(), o.context(), o.valWindows(), DataType.FLOAT);
        TransformerComparison.Curve single = TransformerComparison.run("single", o, o.model(), text, val);
        TransformerComparison.Curve gpipe = TransformerComparison.run("gpipe", o, o.model(), text, val);
        TransformerComparison.Curve stash = TransformerComparison.run("stash", o, o.model(), text, val);
        assertEquals(List.of(2, 4), single.steps());
        for (int i = 0; i < 2; i++) {
            assertEquals(single.loss().get(i), gpipe.loss().get(i), 1e-5, "GPipe must equal sd.fit at chunk " + i);
        }
        assertNotEquals(single.last(), stash.last(), "asynchronous updates use stale gradients");
        assertTrue(single.last() < Math.log(EuroparlText.VOCAB_SIZE) + 0.5, "loss " + single.last());
        String table = TransformerComparison.table(List.of(single, gpipe, stash), o);
        assertTrue(table.contains("| gpipe |") && table.contains("| stash |"), table);
    }

    @Test
    void badOptionsAreNamed() {
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--variants", "gpipe,foo")).getMessage().contains("foo"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--batch", "10", "--micro", "4")).getMessage()
                .contains("--micro"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--stepz", "3")).getMessage().contains("--stepz"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--steps", "0")).getMessage().contains("--steps"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--lr", "abc")).getMessage().contains("--lr"));
        assertTrue(assertThrows(CommandLine.ParameterException.class,
                () -> options("--stages", "3", "--layers", "8")).getMessage()
                .contains("--layers"));
    }

    @Test
    void blocksAreSpreadEvenlyOverTheStages() {
        assertArrayEquals(new String[] {"block1_out", "block3_out", "block5_out"},
                options("--stages", "4", "--layers", "8").cuts());
        TransformerComparison.Options eight = options();
        assertEquals(8, eight.layers());
        assertEquals(7, eight.cuts().length);
        assertEquals("block6_out", eight.cuts()[6]);
    }
}
