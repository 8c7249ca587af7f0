package io.asyncpipeline.transformer;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * A GPT-style decoder-only transformer as a {@link SameDiff} graph.
 *
 * <p>Graph (B = batch, T = {@link TransformerConfig#contextLength()}, D = modelDim, V = vocabSize):
 * <pre>
 *   tokens [B,T] (token ids as floating point values, cast to int inside)
 *   embed_out = onehot(tokens)·wte + wpe                        [B,T,D]
 *   block{i}: a = x + proj(causalSelfAttention(layerNorm(x)))
 *             block{i}_out = a + mlp(layerNorm(a))               [B,T,D]  (pre-LN, GELU MLP)
 *   logits = layerNorm(block{L-1}_out) · wte^T  (tied)  or  · head_W + head_b   [B,T,V]
 *   loss = mean over the B·T positions of softmax cross-entropy(labels, logits)
 * </pre>
 * {@code labels} is a one-hot placeholder [B,T,V] (targets are usually the tokens shifted by one). The
 * sequence length must equal the context length (the causal mask is a [T,T] constant).
 *
 * <p>Every block's output variable is named {@link #blockOutput(int)} and the embedding output
 * {@link #EMBED_OUT}, so a pipeline can cut the graph between blocks. Parameters are named
 * {@code wte}, {@code wpe}, {@code block{i}_...}, {@code lnf_gain}, {@code lnf_bias} and, untied,
 * {@code head_W}, {@code head_b}.
 */
public final class DecoderTransformer {

    public static final String TOKENS = "tokens";
    public static final String LABELS = "labels";
    public static final String EMBED_OUT = "embed_out";
    public static final String LOGITS = "logits";
    public static final String LOSS = "loss";

    private DecoderTransformer() {
    }

    /** Name of the output of block {@code i} (0-based). */
    public static String blockOutput(int i) {
        return "block" + i + "_out";
    }

    /** Names of the block outputs {@code block0_out .. block{layers-2}_out}: the cut variables between blocks. */
    public static String[] blockCuts(TransformerConfig c) {
        String[] b = new String[c.layers() - 1];
        for (int i = 0; i < b.length; i++) {
            b[i] = blockOutput(i);
        }
        return b;
    }

    /**
     * The cut variables that spread the blocks evenly over {@code stages} stages: after every
     * ({@code layers / stages})-th block, {@code stages - 1} names.
     *
     * @throws IllegalArgumentException when {@code stages} is below 1 or does not divide the number of blocks
     */
    public static String[] blockCuts(TransformerConfig c, int stages) {
        if (stages < 1 || c.layers() % stages != 0) {
            throw new IllegalArgumentException("the transformer's " + c.layers() + " blocks cannot be spread evenly over "
                    + stages + " stages: give a stage count that divides " + c.layers());
        }
        int per = c.layers() / stages;
        String[] cuts = new String[stages - 1];
        for (int k = 0; k < cuts.length; k++) {
            cuts[k] = blockOutput((k + 1) * per - 1);
        }
        return cuts;
    }

    /** Builds the graph with freshly initialised parameters (normal(0, 0.02) weights, zero biases, unit LN gains). */
    public static SameDiff build(TransformerConfig c) {
        SameDiff sd = SameDiff.create();
        DataType dt = c.dataType();
        int t = c.contextLength();
        int d = c.modelDim();
        int h = c.heads();
        int hd = c.headDim();
        Random rng = Nd4j.getRandomFactory().getNewRandomInstance(c.seed());
        Init init = new Init(dt, rng);

        SDVariable tokens = sd.placeHolder(TOKENS, dt, -1, t);
        SDVariable labels = sd.placeHolder(LABELS, dt, -1, t, c.vocabSize());

        SDVariable wte = sd.var("wte", init.normal(0.02, c.vocabSize(), d));
        SDVariable wpe = sd.var("wpe", init.normal(0.02, t, d));
        // token embedding as one-hot(tokens) · wte rather than gather: in M2.1 the gradient of gather w.r.t.
        // the gathered array is wrong when an index repeats (probed: max abs error 1.7 against the scatter-add
        // of the upstream gradient for ids {0,1,1,3,1,0,4,4}); a matmul gradient is exact
        SDVariable ids = sd.reshape(tokens, -1).castTo(DataType.INT);
        SDVariable onehot = sd.oneHot(ids, c.vocabSize(), -1, 1.0, 0.0, dt);                 // [B*T, V]
        SDVariable tok = sd.reshape(onehot.mmul(wte), -1, t, d);                            // [B,T,D]
        SDVariable x = sd.math().add(EMBED_OUT, tok, wpe);         // broadcast over B

        // causal mask: 0 on and below the diagonal, a large negative number above it
        INDArray maskArr = Nd4j.zeros(dt, t, t);
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                maskArr.putScalar(i, j, -1e9);
            }
        }
        SDVariable causal = sd.constant("causal_mask", maskArr);
        double scale = 1.0 / Math.sqrt(hd);

        for (int l = 0; l < c.layers(); l++) {
            String p = "block" + l + "_";
            // --- attention ---
            SDVariable ln1 = layerNorm(sd, p + "ln1", x, d, dt);
            SDVariable flat = sd.reshape(ln1, -1, d);                                      // [B*T, D]
            SDVariable q = heads(sd, projection(sd, init, p + "attn_q", flat, d, d, 0.02, true), t, h, hd);   // [B*H, T, hd]
            SDVariable k = heads(sd, projection(sd, init, p + "attn_k", flat, d, d, 0.02, false), t, h, hd);
            SDVariable v = heads(sd, projection(sd, init, p + "attn_v", flat, d, d, 0.02, true), t, h, hd);
            SDVariable scores = sd.mmul(q, k, false, true, false).mul(scale).add(causal);  // [B*H, T, T]
            SDVariable att = sd.nn().softmax(scores, 2);
            SDVariable ctx = sd.mmul(att, v);                                               // [B*H, T, hd]
            ctx = sd.reshape(ctx, -1, h, t, hd);
            ctx = sd.permute(ctx, 0, 2, 1, 3);                                              // [B, T, H, hd]
            ctx = sd.reshape(ctx, -1, d);                                                   // [B*T, D]
            SDVariable projW = sd.var(p + "attn_proj_W", init.normal(0.02 / Math.sqrt(2.0 * c.layers()), d, d));
            SDVariable projB = sd.var(p + "attn_proj_b", Nd4j.zeros(dt, 1, d));
            SDVariable attnOut = sd.reshape(ctx.mmul(projW).add(projB), -1, t, d);
            SDVariable a = x.add(p + "attn_res", attnOut);
            // --- MLP ---
            SDVariable ln2 = layerNorm(sd, p + "ln2", a, d, dt);
            SDVariable fcW = sd.var(p + "mlp_fc_W", init.normal(0.02, d, c.mlpDim()));
            SDVariable fcB = sd.var(p + "mlp_fc_b", Nd4j.zeros(dt, 1, c.mlpDim()));
            SDVariable hid = sd.nn().gelu(sd.reshape(ln2, -1, d).mmul(fcW).add(fcB));
            SDVariable outW = sd.var(p + "mlp_proj_W", init.normal(0.02 / Math.sqrt(2.0 * c.layers()), c.mlpDim(), d));
            SDVariable outB = sd.var(p + "mlp_proj_b", Nd4j.zeros(dt, 1, d));
            SDVariable mlp = sd.reshape(hid.mmul(outW).add(outB), -1, t, d);
            x = a.add(blockOutput(l), mlp);
        }

        SDVariable lnf = layerNorm(sd, "lnf", x, d, dt);
        SDVariable flat = sd.reshape(lnf, -1, d);
        SDVariable logits2d;
        if (c.tiedOutputHead()) {
            logits2d = sd.mmul(flat, wte, false, true, false);
        } else {
            SDVariable hw = sd.var("head_W", init.normal(0.02, d, c.vocabSize()));
            SDVariable hb = sd.var("head_b", Nd4j.zeros(dt, 1, c.vocabSize()));
            logits2d = flat.mmul(hw).add(hb);
        }
        sd.reshape(LOGITS, logits2d, -1, t, c.vocabSize());
        SDVariable labels2d = sd.reshape(labels, -1, c.vocabSize());
        SDVariable loss = sd.loss().softmaxCrossEntropy(LOSS, labels2d, logits2d, null);
        sd.setLossVariables(loss);
        return sd;
    }

    /**
     * A training config for {@link #build} graphs: maps DataSet features to {@code tokens} and labels
     * to {@code labels}, minimises {@code loss}.
     */
    public static TrainingConfig trainingConfig(IUpdater updater, Regularization... regularization) {
        return TrainingConfig.builder()
                .updater(updater)
                .regularization(regularization)
                .dataSetFeatureMapping(TOKENS)
                .dataSetLabelMapping(LABELS)
                .minimize(LOSS)
                .build();
    }

    /**
     * Creates the gradient function of {@code sd} now, with the library's graph-level gradient construction, so that
     * {@code sd.fit} uses it. SameDiff then releases each intermediate array of a training step as soon as its last
     * reader ran; inside a {@link io.asyncpipeline.NativeMemoryGuard} released arrays are freed at once instead of
     * being kept in SameDiff's array cache (up to a quarter of JavaCPP's {@code maxBytes}). Call after
     * {@code setTrainingConfig} and before the first {@code fit}.
     */
    public static void prepareForFit(SameDiff sd) {
        io.asyncpipeline.model.samediff.SameDiffGradients.create(sd);
    }

    /** Token ids [B,T] (any numeric array) → one-hot [B,T,V] of the model's type. */
    public static INDArray oneHot(INDArray ids, int vocabSize, DataType dt) {
        long b = ids.size(0);
        long t = ids.size(1);
        INDArray out = Nd4j.zeros(dt, b, t, vocabSize);
        for (long i = 0; i < b; i++) {
            for (long j = 0; j < t; j++) {
                out.putScalar(new long[] {i, j, ids.getLong(i, j)}, 1.0);
            }
        }
        return out;
    }

    private static SDVariable layerNorm(SameDiff sd, String prefix, SDVariable x, int d, DataType dt) {
        SDVariable g = sd.var(prefix + "_gain", Nd4j.ones(dt, d));
        SDVariable b = sd.var(prefix + "_bias", Nd4j.zeros(dt, d));
        return sd.nn().layerNorm(prefix, x, g, b, false, 2);
    }

    /**
     * x·W (+ b) with W [in, out] ~ normal(0, std) and b zeros, named prefix_W / prefix_b. The key projection
     * has no bias: softmax over keys is invariant to it, so its gradient is exactly zero (only rounding
     * noise, which normalising updaters would turn into full-size steps).
     */
    private static SDVariable projection(SameDiff sd, Init init, String prefix, SDVariable x, int in, int out, double std,
                                         boolean bias) {
        SDVariable w = sd.var(prefix + "_W", init.normal(std, in, out));
        if (!bias) {
            return x.mmul(w);
        }
        SDVariable b = sd.var(prefix + "_b", Nd4j.zeros(init.dt, 1, out));
        return x.mmul(w).add(b);
    }

    /** [B*T, D] → [B*H, T, hd]. */
    private static SDVariable heads(SameDiff sd, SDVariable x, int t, int h, int hd) {
        SDVariable r = sd.reshape(x, -1, t, h, hd);
        r = sd.permute(r, 0, 2, 1, 3);
        return sd.reshape(r, -1, t, hd);
    }

    private static final class Init {
        private final DataType dt;
        private final Random rng;

        Init(DataType dt, Random rng) {
            this.dt = dt;
            this.rng = rng;
        }

        INDArray normal(double std, long... shape) {
            INDArray a = Nd4j.createUninitialized(DataType.DOUBLE, shape);
            for (long i = 0; i < a.length(); i++) {
                a.putScalar(i, rng.nextGaussian() * std);
            }
            return a.castTo(dt);
        }
    }
}
