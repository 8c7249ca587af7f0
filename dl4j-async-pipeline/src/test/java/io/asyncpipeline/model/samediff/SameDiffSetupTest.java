package io.asyncpipeline.model.samediff;

import io.asyncpipeline.Schedule;
import io.asyncpipeline.AsyncPipelineWrapper;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.transformer.DecoderTransformer;
import io.asyncpipeline.transformer.TransformerConfig;
import io.asyncpipeline.model.samediff.SameDiffPipelineModel;
import io.asyncpipeline.model.samediff.SameDiffPartitioner;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
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
    void unknownCutVariableListsValidNames() {
        String m = error(graph(true), "block0_out", "block9_out");
        contains(m, "No variable named \"block9_out\"", "\"block0_out\"", "\"block1_out\"", "\"block2_out\"");
        assertTrue(!m.contains("add_"), "made-up names are not suggested: " + m);
        assertTrue(m.indexOf("\"block0_out\"", m.indexOf("e.g.")) < m.indexOf("\"block2_out\""), "graph order: " + m);
    }

    @Test
    void repeatedCutVariableIsAnEmptyStage() {
        contains(error(graph(true), "block0_out", "block0_out"), "\"block0_out\" given twice", "would be empty",
                "remove the repeated name");
    }

    @Test
    void cutAtOrAfterTheLossIsRejected() {
        contains(error(graph(true), "block0_out", "loss"), "\"loss\" is the loss", "upstream of the loss");
        contains(error(graph(true), "logits"), "\"logits\" is not used to compute the loss [loss]");
    }

    @Test
    void cutVariablesOutOfGraphOrder() {
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

    /** x → h = tanh(x·w0) → out = h·w1 + x·w2 → loss: the features skip past any cut after h. */
    private static SameDiff inputSkipGraph() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, 4);
        SDVariable y = sd.placeHolder("y", DataType.DOUBLE, -1, 3);
        SDVariable h = sd.math().tanh("h", x.mmul(sd.var("w0", Nd4j.rand(DataType.DOUBLE, 4, 5))));
        SDVariable out = h.mmul(sd.var("w1", Nd4j.rand(DataType.DOUBLE, 5, 3)))
                .add("out", x.mmul(sd.var("w2", Nd4j.rand(DataType.DOUBLE, 4, 3))));
        sd.setLossVariables(sd.loss().meanSquaredError("loss", y, out, null));
        sd.setTrainingConfig(org.nd4j.autodiff.samediff.TrainingConfig.builder().updater(new Sgd(0.1))
                .dataSetFeatureMapping("x").dataSetLabelMapping("y").build());
        return sd;
    }

    @Test
    void namedCutAfterWhichTheFeaturesAreStillReadFailsAtBuild() {
        String m = error(inputSkipGraph(), "h");
        contains(m, "Cut variable \"h\" does not separate the graph", "feature placeholder \"x\"",
                "only the first stage gets");
    }

    @Test
    void profileWithAMultiDataSetIsRejectedForSameDiff() {
        org.nd4j.linalg.dataset.MultiDataSet mds = new org.nd4j.linalg.dataset.MultiDataSet(
                Nd4j.zeros(DataType.DOUBLE, 2, 4), Nd4j.zeros(DataType.DOUBLE, 2, 3));
        String m = assertThrows(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(inputSkipGraph())
                .profileWith(mds).build()).getMessage();
        contains(m, "profileWith(MultiDataSet)", "profileWith(DataSet)");
    }

    @Test
    void cutThatTheResidualBypassesNamesTheActivationItDoesNotCarry() {
        // block0_ln1 is the layer norm inside block 0: the residual stream embed_out flows around it
        String m = error(graph(true), "block0_ln1");
        contains(m, "Cut variable \"block0_ln1\" does not separate the graph", "also read \"embed_out\"",
                "an activation the cut does not carry", "e.g. ", "\"block0_attn_res\"");
    }

    @Test
    void stagesWithoutCutAfterAreBalancedAutomatically() {
        SameDiff sd = graph(true);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(sd).stages(2).schedule(Schedule.GPIPE).build()) {
            // 3 blocks in 2 stages: the middle of the graph is inside block 1, after its attention
            assertEquals(List.of("block1_attn_res"), ((SameDiffPipelineModel) w.pipelineModel()).cuts());
            assertEquals(SameDiffPartitioner.balance(sd, 2).cuts(), ((SameDiffPipelineModel) w.pipelineModel()).cuts());
        }
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(sd).schedule(Schedule.GPIPE).build()) {
            assertEquals(2, w.partition().length, "default: 2 stages");
        }
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(sd).stages(3).schedule(Schedule.GPIPE).build()) {
            assertEquals(List.of("block0_out", "block1_out"), ((SameDiffPipelineModel) w.pipelineModel()).cuts());
        }
        int most = SameDiffPartitioner.candidates(sd).size() + 1;
        String m = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(sd).stages(most + 1).schedule(Schedule.GPIPE).build()).getMessage();
        contains(m, "into " + (most + 1) + " stages", "at most " + most + " stages", "\"block2_out\"".replace("\"", ""));
        contains(assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(sd).stages(1).schedule(Schedule.GPIPE).build()).getMessage(), "at least 2 stages");
    }

    private static DataSet sample(int batch, int t, int v) {
        return new DataSet(Nd4j.zeros(DataType.DOUBLE, batch, t), Nd4j.zeros(DataType.DOUBLE, batch, t, v));
    }

    private static String sampleError(DataSet sample) {
        return assertThrows(IllegalArgumentException.class, () -> new AsyncPipelineWrapper.Builder(graph(true))
                .cutAfter("block0_out").profileWith(sample).schedule(Schedule.GPIPE).build()).getMessage();
    }

    @Test
    void sampleWithWrongShapesFailsAtBuildSayingWhatToChange() {
        contains(sampleError(sample(2, 7, 9)), "sample's features have shape [2, 7]", "placeholder \"tokens\" is declared"
                + " [-1, 5]", "dimension 1 is 7, expected 5", "change the data", "placeholder's declared shape");
        contains(sampleError(sample(2, 5, 4)), "sample's labels have shape [2, 5, 4]", "\"labels\" is declared [-1, 5, 9]",
                "dimension 2 is 4, expected 9");
        contains(sampleError(new DataSet(Nd4j.zeros(DataType.DOUBLE, 2, 5), Nd4j.zeros(DataType.DOUBLE, 10, 9))),
                "labels have shape [10, 9]", "rank 2 instead of 3");
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(graph(true)).profileWith(sample(3, 5, 9))
                .schedule(Schedule.GPIPE).build()) {
            assertEquals(2, w.partition().length, "a matching sample builds (and sizes the cost estimate)");
        }
    }

    @Test
    void placeholderWithoutShapeOrShapesTheGraphCannotTakeFailAtBuild() {
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", DataType.DOUBLE, (long[]) null);
        SDVariable label = sd.placeHolder("label", DataType.DOUBLE, -1, 3);
        SDVariable h = sd.nn().tanh("hidden", in.mmul(sd.var("w0", Nd4j.rand(DataType.DOUBLE, 4, 6))));
        SDVariable out = h.mmul("out", sd.var("w1", Nd4j.rand(DataType.DOUBLE, 6, 3)));
        sd.loss().meanSquaredError("loss", label, out, null);
        sd.setLossVariables("loss");
        sd.setTrainingConfig(org.nd4j.autodiff.samediff.TrainingConfig.builder().updater(new Sgd(0.1))
                .dataSetFeatureMapping("in").dataSetLabelMapping("label").build());
        contains(error(sd, "hidden"), "placeholder \"in\" (the DataSet's features) is declared without a shape",
                "sd.placeHolder(\"in\", DOUBLE, -1, 32)");
        // declared, but not what the first product needs: [-1, 5] x [4, 6]
        SameDiff bad = SameDiff.create();
        SDVariable in2 = bad.placeHolder("in", DataType.DOUBLE, -1, 5);
        SDVariable label2 = bad.placeHolder("label", DataType.DOUBLE, -1, 3);
        SDVariable h2 = bad.nn().tanh("hidden", in2.mmul(bad.var("w0", Nd4j.rand(DataType.DOUBLE, 4, 6))));
        bad.loss().meanSquaredError("loss", label2, h2.mmul("out", bad.var("w1", Nd4j.rand(DataType.DOUBLE, 6, 3))), null);
        bad.setLossVariables("loss");
        bad.setTrainingConfig(org.nd4j.autodiff.samediff.TrainingConfig.builder().updater(new Sgd(0.1))
                .dataSetFeatureMapping("in").dataSetLabelMapping("label").build());
        contains(error(bad, "hidden"), "a forward pass of the graph on zeros shaped like its placeholders",
                "\"in\" [2, 5]", "match what the graph's ops expect");
    }

    @Test
    void asManyStagesAsCandidateCutsTrain() {
        TransformerConfig one = C.toBuilder().layers(1).build();
        SameDiff sd = DecoderTransformer.build(one);
        sd.setTrainingConfig(DecoderTransformer.trainingConfig(new Sgd(0.1)));
        int p = SameDiffPartitioner.candidates(sd).size() + 1;     // stages without parameters in the middle too
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(sd).stages(p).schedule(Schedule.GPIPE).microBatches(1)
                .build()) {
            w.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(List.of(sample(2, 5, 9)), 1));
            assertEquals(p, w.partition().length);
        }
        assertEquals(1, sd.getTrainingConfig().getIterationCount());
    }
}
