package io.asyncpipeline.transformer;

import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Immutable shape and initialisation settings of a {@link DecoderTransformer}.
 *
 * <pre>{@code
 * TransformerConfig c = TransformerConfig.builder().vocabSize(64).contextLength(16)
 *         .modelDim(32).heads(4).layers(2).mlpDim(64).build();
 * }</pre>
 */
public final class TransformerConfig {

    private final int vocabSize;
    private final int contextLength;
    private final int modelDim;
    private final int heads;
    private final int layers;
    private final int mlpDim;
    private final boolean tiedOutputHead;
    private final long seed;
    private final DataType dataType;

    private TransformerConfig(Builder b) {
        this.vocabSize = b.vocabSize;
        this.contextLength = b.contextLength;
        this.modelDim = b.modelDim;
        this.heads = b.heads;
        this.layers = b.layers;
        this.mlpDim = b.mlpDim;
        this.tiedOutputHead = b.tiedOutputHead;
        this.seed = b.seed;
        this.dataType = b.dataType;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().vocabSize(vocabSize).contextLength(contextLength).modelDim(modelDim).heads(heads)
                .layers(layers).mlpDim(mlpDim).tiedOutputHead(tiedOutputHead).seed(seed).dataType(dataType);
    }

    /** Number of token ids (ids are 0 .. vocabSize-1). */
    public int vocabSize() {
        return vocabSize;
    }

    /** Sequence length T: every input has exactly this many positions. */
    public int contextLength() {
        return contextLength;
    }

    public int modelDim() {
        return modelDim;
    }

    public int heads() {
        return heads;
    }

    /** Head size: modelDim / heads. */
    public int headDim() {
        return modelDim / heads;
    }

    /** Number of transformer blocks. */
    public int layers() {
        return layers;
    }

    /** Hidden width of each block's MLP. */
    public int mlpDim() {
        return mlpDim;
    }

    /** True: the output projection is the transposed token embedding; false: a separate matrix and bias. */
    public boolean tiedOutputHead() {
        return tiedOutputHead;
    }

    public long seed() {
        return seed;
    }

    /** Floating point type of the parameters and activations (FLOAT by default; DOUBLE for gradient checks). */
    public DataType dataType() {
        return dataType;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TransformerConfig)) {
            return false;
        }
        TransformerConfig c = (TransformerConfig) o;
        return vocabSize == c.vocabSize && contextLength == c.contextLength && modelDim == c.modelDim
                && heads == c.heads && layers == c.layers && mlpDim == c.mlpDim && tiedOutputHead == c.tiedOutputHead
                && seed == c.seed && dataType == c.dataType;
    }

    @Override
    public int hashCode() {
        return Objects.hash(vocabSize, contextLength, modelDim, heads, layers, mlpDim, tiedOutputHead, seed, dataType);
    }

    @Override
    public String toString() {
        return "TransformerConfig{vocab=" + vocabSize + ", T=" + contextLength + ", d=" + modelDim + ", heads=" + heads
                + ", layers=" + layers + ", mlp=" + mlpDim + ", tied=" + tiedOutputHead + ", seed=" + seed
                + ", dtype=" + dataType + "}";
    }

    /** Builder; defaults: modelDim 64, heads 4, layers 2, mlpDim 4·modelDim, tied head, seed 12345, FLOAT. */
    public static final class Builder {
        private int vocabSize = -1;
        private int contextLength = -1;
        private int modelDim = 64;
        private int heads = 4;
        private int layers = 2;
        private int mlpDim = -1;
        private boolean tiedOutputHead = true;
        private long seed = 12345;
        private DataType dataType = DataType.FLOAT;

        private Builder() {
        }

        public Builder vocabSize(int v) {
            this.vocabSize = v;
            return this;
        }

        public Builder contextLength(int v) {
            this.contextLength = v;
            return this;
        }

        public Builder modelDim(int v) {
            this.modelDim = v;
            return this;
        }

        public Builder heads(int v) {
            this.heads = v;
            return this;
        }

        public Builder layers(int v) {
            this.layers = v;
            return this;
        }

        public Builder mlpDim(int v) {
            this.mlpDim = v;
            return this;
        }

        public Builder tiedOutputHead(boolean v) {
            this.tiedOutputHead = v;
            return this;
        }

        public Builder seed(long v) {
            this.seed = v;
            return this;
        }

        public Builder dataType(DataType v) {
            this.dataType = Objects.requireNonNull(v, "dataType");
            return this;
        }

        /** @throws IllegalArgumentException naming the first invalid setting */
        public TransformerConfig build() {
            if (vocabSize < 2) {
                throw new IllegalArgumentException("vocabSize must be set and >= 2, got " + vocabSize);
            }
            if (contextLength < 1) {
                throw new IllegalArgumentException("contextLength must be set and >= 1, got " + contextLength);
            }
            if (modelDim < 1) {
                throw new IllegalArgumentException("modelDim must be >= 1, got " + modelDim);
            }
            if (heads < 1) {
                throw new IllegalArgumentException("heads must be >= 1, got " + heads);
            }
            if (modelDim % heads != 0) {
                throw new IllegalArgumentException("modelDim (" + modelDim + ") must be divisible by heads (" + heads + ")");
            }
            if (layers < 1) {
                throw new IllegalArgumentException("layers (blocks) must be >= 1, got " + layers);
            }
            if (mlpDim == -1) {
                mlpDim = 4 * modelDim;
            }
            if (mlpDim < 1) {
                throw new IllegalArgumentException("mlpDim must be >= 1, got " + mlpDim);
            }
            if (!dataType.isFPType()) {
                throw new IllegalArgumentException("dataType must be a floating point type, got " + dataType);
            }
            return new TransformerConfig(this);
        }
    }
}
