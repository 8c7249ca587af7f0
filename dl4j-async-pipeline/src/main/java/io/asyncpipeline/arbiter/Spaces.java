package io.asyncpipeline.arbiter;

import org.deeplearning4j.arbiter.optimize.api.ParameterSpace;
import org.deeplearning4j.arbiter.optimize.parameter.FixedValue;
import org.deeplearning4j.arbiter.util.LeafUtils;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Leaf bookkeeping shared by the composite spaces of this package. */
final class Spaces {

    private Spaces() {
    }

    /** A fixed value as a space with no parameters. */
    static <T> ParameterSpace<T> fixed(T value) {
        return new FixedValue<>(Objects.requireNonNull(value, "value"));
    }

    /** The leaves under {@code children} (null children skipped), each leaf object once. */
    @SuppressWarnings("rawtypes")
    static List<ParameterSpace> leaves(ParameterSpace<?>... children) {
        List<ParameterSpace> all = new ArrayList<>();
        for (ParameterSpace<?> c : children) {
            if (c != null) {
                all.addAll(c.collectLeaves());
            }
        }
        return LeafUtils.getUniqueObjects(all);
    }

    /** How many values of [0,1] the leaves read, counting a leaf shared by two children once. */
    @SuppressWarnings("rawtypes")
    static int count(List<ParameterSpace> leaves) {
        int n = 0;
        for (ParameterSpace p : leaves) {
            n += p.numParameters();
        }
        return n;
    }

    /**
     * Gives the leaves consecutive positions of {@code indices}, in order, as Arbiter's candidate generators do
     * for the leaves of a whole search space (Arbiter's own {@code BaseUpdaterSpace.setIndices} gives every leaf
     * the first positions).
     */
    @SuppressWarnings("rawtypes")
    static void assign(String space, List<ParameterSpace> leaves, int... indices) {
        int needed = count(leaves);
        if (indices == null || indices.length != needed) {
            throw new IllegalArgumentException(space + " reads " + needed + " values, got "
                    + (indices == null ? "null" : indices.length + " indices " + Arrays.toString(indices)));
        }
        int at = 0;
        for (ParameterSpace p : leaves) {
            int n = p.numParameters();
            if (n > 0) {
                p.setIndices(Arrays.copyOfRange(indices, at, at + n));
                at += n;
            }
        }
    }

    /**
     * Values {@code space} can take, for checks before a search starts: the fixed value, or a one-parameter leaf read
     * at 21 evenly spaced points of [0,1] (the ends included, as a grid search reads them; a discrete space of more
     * than 21 values is read at those points only) on a copy made through Arbiter's JSON, so the caller's space keeps
     * its indices. Empty, with a warning, when the space cannot be copied or read.
     */
    static <T> List<T> sample(ParameterSpace<T> space) {
        if (space == null) {
            return List.of();
        }
        if (space instanceof FixedValue<T> f) {
            return List.of(f.getValue(new double[0]));
        }
        if (!space.isLeaf() || space.numParameters() != 1) {
            return List.of();
        }
        try {
            var mapper = org.deeplearning4j.arbiter.optimize.serde.jackson.JsonMapper.getMapper();
            @SuppressWarnings("unchecked")
            ParameterSpace<T> copy = mapper.readValue(mapper.writeValueAsString(space), ParameterSpace.class);
            copy.setIndices(0);
            List<T> out = new ArrayList<>();
            for (int i = 0; i <= 20; i++) {
                out.add(copy.getValue(new double[]{i / 20.0}));
            }
            return out;
        } catch (Exception | LinkageError e) {
            org.slf4j.LoggerFactory.getLogger(Spaces.class).warn("cannot check the values of {} before the search"
                    + " (it does not copy through Arbiter's JSON: {}); values the updater rejects will fail their"
                    + " candidates instead", space, e.toString());
            return List.of();
        }
    }

    /**
     * Checks every value {@link #sample} finds in {@code space} with {@code check} (which throws
     * {@link IllegalArgumentException} for a bad one), naming the space's field in the message.
     */
    static <T> void check(String owner, String field, ParameterSpace<T> space, java.util.function.Consumer<T> check) {
        for (T v : sample(space)) {
            try {
                check.accept(v);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(owner + "." + field + ": the space " + space + " contains " + v
                        + ", which the updater rejects: " + e.getMessage(), e);
            }
        }
    }

    /** {@code space} as Arbiter JSON. */
    static String toJson(Object space) {
        try {
            return org.deeplearning4j.arbiter.optimize.serde.jackson.JsonMapper.getMapper().writeValueAsString(space);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Reads Arbiter JSON as a {@code type}; unreadable JSON is an {@link IllegalArgumentException} naming the type. */
    static <T> T fromJson(String json, Class<T> type) {
        try {
            return org.deeplearning4j.arbiter.optimize.serde.jackson.JsonMapper.getMapper().readValue(json, type);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not a " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }
}
