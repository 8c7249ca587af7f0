package io.asyncpipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Sgd;

/** Build-time errors of the SameDiff builder say what to change. */
class SameDiffSetupTest {

    private static final TransformerConfig C = TransformerConfig.builder().vocabSize(9).contextLength(5).modelDim(8)
            .heads(2).layers(3).mlpDim(12).tiedOutputHead(false).seed(21).dataType(DataType.DOUBLE).build();

    private static SameDiff graph(boolean trainingConfig) {
        SameDiff sd = DecoderTransformer.build(C);
        if (trainingConfig) {
            sd.setTrainingConfig(DecoderTransformer.trainingConfig(new Sgd(0.1)));
        }
        return sd;
    }

    private static String error(SameDiff sd, String... cuts) {
        return assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(sd).cutAfter(cuts).schedule(Schedule.GPIPE).build()).getMessage();
    }

    private static void contains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "\"" + p + "\" missing from: " + message);
        }
    }

    @Test
    void unknownBoundaryListsValidNames() {
        String m = error(graph(true), "block0_out", "block9_out");
        contains(m, "No variable named \"block9_out\"", "\"block0_out\"", "\"block1_out\"", "\"block2_out\"");
        assertTrue(!m.contains("add_"), "made-up names are not suggested: " + m);
        assertTrue(m.indexOf("\"block0_out\"", m.indexOf("e.g.")) < m.indexOf("\"block2_out\""), "graph order: " + m);
    }

    @Test
    void repeatedBoundaryIsAnEmptyStage() {
        contains(error(graph(true), "block0_out", "block0_out"), "\"block0_out\" given twice", "would be empty",
                "remove the repeated name");
    }

    @Test
    void boundaryAtOrAfterTheLossIsRejected() {
        contains(error(graph(true), "block0_out", "loss"), "\"loss\" is the loss", "upstream of the loss");
        contains(error(graph(true), "logits"), "\"logits\" is not used to compute the loss [loss]");
    }

    @Test
    void boundariesOutOfGraphOrder() {
        String m = error(graph(true), "block1_out", "block0_out");
        contains(m, "out of graph order", "\"block0_out\" comes before \"block1_out\"",
                "cutAfter(\"block0_out\", \"block1_out\")");
        // a non-adjacent permutation too
        contains(error(graph(true), "block0_out", "block2_out", "block1_out"), "\"block1_out\" comes before \"block2_out\"",
                "cutAfter(\"block0_out\", \"block1_out\", \"block2_out\")");
    }

    @Test
    void graphWithoutTrainingConfig() {
        contains(error(graph(false), "block0_out"), "no TrainingConfig", "sd.setTrainingConfig", "placeholders [", "tokens", "labels");
    }

    @Test
    void trainingConfigMappingAnUnknownPlaceholder() {
        SameDiff sd = graph(false);
        sd.setTrainingConfig(org.nd4j.autodiff.samediff.TrainingConfig.builder().updater(new Sgd(0.1))
                .dataSetFeatureMapping("input").dataSetLabelMapping(DecoderTransformer.LABELS).build());
        contains(error(sd, "block0_out"), "dataSetFeatureMapping names \"input\"", "use one of [", "tokens");
    }

    @Test
    void validCutStillBuilds() {
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(graph(true)).cutAfter("embed_out", "block1_out")
                .schedule(Schedule.GPIPE).build()) {
            assertEquals(3, w.partition().length);
        }
    }
}
