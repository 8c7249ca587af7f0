package io.asyncpipeline.model.samediff;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class SameDiffGradientsTest {

    private static SameDiff graph() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3);
        SDVariable w = sd.var("w", Nd4j.rand(DataType.FLOAT, 3, 2));
        SDVariable loss = sd.math().tanh(x.mmul(w)).sum("loss");
        sd.setLossVariables(loss);
        return sd;
    }

    private static String captured(Runnable r) {
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            r.run();
            System.out.println("after");
        } finally {
            System.setOut(original);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void dropsOnlyTheDifferentiatedOpLinesAndRestoresSystemOut() {
        SameDiff noisy = graph();
        String raw = captured(noisy::createGradFunction);
        assertTrue(raw.contains(SameDiffGradients.NOISE), "ND4J no longer prints the noise; the filter can go: " + raw);

        PrintStream before = System.out;
        SameDiff quiet = graph();
        String filtered = captured(() -> SameDiffGradients.create(quiet));
        assertFalse(filtered.contains(SameDiffGradients.NOISE), filtered);
        assertTrue(filtered.contains("after"), "other output must pass through: " + filtered);
        assertSame(before, System.out);
        assertNotNull(quiet.getFunction("grad"), "the gradient function was not created");
    }
}
