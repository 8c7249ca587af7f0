package io.asyncpipeline.examples;

import io.asyncpipeline.Schedule;
import io.asyncpipeline.updater.DelayCorrectedNesterov;
import io.asyncpipeline.updater.DiscountedNadam;
import java.util.ArrayList;
import java.util.List;

/**
 * A variant of the transformer comparison ({@link TransformerComparison}, {@link PaperComparison}): a schedule, weight
 * stashing or not, the method.md §5 settings or not, and an optimiser. {@link #ALL} lists them.
 *
 * @param schedule null for {@code single} (no pipeline)
 * @param section5 delay-aware momentum and the PipeMare learning-rate correction (method.md §5)
 */
record ComparisonVariant(String name, Schedule schedule, boolean stash, boolean section5, Optimiser optimiser,
                         String description) {

    /** The optimiser of a variant. */
    enum Optimiser {
        /** Adam (β1 0.9, β2 0.999, ε 1e-8); with the decoupled weight decay every variant has, AdamW. */
        ADAM,
        /** {@link DiscountedNadam} with β1 0.99 and ψ as {@code --psi} says. */
        NADAM,
        /** {@link DiscountedNadam} with β1 0.99 and ψ = 0.004 whatever {@code --psi} says. */
        NADAM_FIXED_PSI,
        /** {@link DiscountedNadam} with β1 0.9 (the paper's ablation). */
        NADAM_BETA1_09,
        /** {@link DelayCorrectedNesterov} with momentum γ and discount δ. */
        NESTEROV,
        /** {@link DelayCorrectedNesterov} with δ = 1: plain Nesterov on stale gradients (the paper's ablation). */
        NESTEROV_NO_DISCOUNT;

        boolean nesterov() {
            return this == NESTEROV || this == NESTEROV_NO_DISCOUNT;
        }

        boolean nadam() {
            return this == NADAM || this == NADAM_FIXED_PSI || this == NADAM_BETA1_09;
        }
    }

    boolean gpipe() {
        return schedule == Schedule.GPIPE;
    }

    boolean pipelined() {
        return schedule != null;
    }

    static final List<ComparisonVariant> ALL = List.of(
            new ComparisonVariant("single", null, false, false, Optimiser.NADAM,
                    "no pipeline: sd.fit of the unsplit graph, DiscountedNadam, one update per batch"),
            new ComparisonVariant("gpipe-adamw", Schedule.GPIPE, false, false, Optimiser.ADAM,
                    "GPipe, AdamW (beta1 0.9): the paper's baseline"),
            new ComparisonVariant("gpipe-nadam", Schedule.GPIPE, false, false, Optimiser.NADAM, "GPipe, DiscountedNadam"),
            new ComparisonVariant("stash", Schedule.ASYNC_1F1B, true, false, Optimiser.NADAM,
                    "ours: async 1F1B, weight stashing, DiscountedNadam (beta1 0.99)"),
            new ComparisonVariant("stash-fixed-psi", Schedule.ASYNC_1F1B, true, false, Optimiser.NADAM_FIXED_PSI,
                    "ours with stashing, NAdam's default psi 0.004 (not scaled to the run)"),
            new ComparisonVariant("nostash", Schedule.ASYNC_1F1B, false, true, Optimiser.NADAM,
                    "ours without stashing, with the method.md section 5 settings"),
            new ComparisonVariant("nostash-plain", Schedule.ASYNC_1F1B, false, false, Optimiser.NADAM,
                    "no stashing and no section 5 settings"),
            new ComparisonVariant("pipedream", Schedule.ASYNC_1F1B, true, false, Optimiser.ADAM,
                    "PipeDream: async 1F1B, weight stashing, Adam (beta1 0.9)"),
            new ComparisonVariant("nesterov", Schedule.ASYNC_1F1B, true, false, Optimiser.NESTEROV,
                    "weight stashing, DelayCorrectedNesterov with its discount delta"),
            new ComparisonVariant("nesterov-no-discount", Schedule.ASYNC_1F1B, true, false,
                    Optimiser.NESTEROV_NO_DISCOUNT, "weight stashing, DelayCorrectedNesterov with delta = 1 (ablation)"),
            new ComparisonVariant("nadam-beta1-0.9", Schedule.ASYNC_1F1B, true, false, Optimiser.NADAM_BETA1_09,
                    "weight stashing, DiscountedNadam with beta1 0.9 (ablation)"));

    /** The names of {@link #ALL}. */
    static final List<String> NAMES = ALL.stream().map(ComparisonVariant::name).toList();
    /** The variants of the data protocol by default: all but {@code single}. */
    static final String DEFAULT_DATA = "gpipe-adamw,gpipe-nadam,stash,stash-fixed-psi,nostash,nostash-plain,"
            + "pipedream,nesterov,nesterov-no-discount,nadam-beta1-0.9";
    /** The variants of the updates protocol by default. */
    static final String DEFAULT_UPDATES = "gpipe-nadam,stash,nostash,pipedream";

    /** The variant called {@code name}; an unknown name is refused, naming the choices. */
    static ComparisonVariant named(String name) {
        for (ComparisonVariant v : ALL) {
            if (v.name().equals(name)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown variant '" + name + "', choose from " + NAMES);
    }

    /** The names, as picocli's completion candidates. */
    static final class Names extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        Names() {
            super(NAMES);
        }
    }
}
