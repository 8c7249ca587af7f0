package io.asyncpipeline.arbiter;

import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.IntConsumer;

/**
 * A candidate's training data cut to a step budget: at most {@code steps} batches (0: one pass), starting the
 * underlying iterator again when it runs out before the budget is spent. {@code onStep} hears every batch handed
 * out (from the thread that reads the data: the pipeline's first stage).
 */
final class StepBudget {

    private StepBudget() {
    }

    /** Counts and limits; shared by both iterator kinds. */
    private static final class Counter {
        final int steps;
        final IntConsumer onStep;
        int done;

        Counter(int steps, IntConsumer onStep) {
            this.steps = steps;
            this.onStep = onStep;
        }

        boolean hasNext(boolean underlyingHasNext, boolean resetSupported, Runnable reset) {
            if (steps > 0 && done >= steps) {
                return false;
            }
            if (underlyingHasNext) {
                return true;
            }
            if (steps > 0 && done > 0 && resetSupported) {
                reset.run();
                return true;
            }
            return false;
        }

        void handedOut() {
            done++;
            onStep.accept(done);
        }
    }

    static DataSetIterator of(DataSetIterator it, int steps, IntConsumer onStep) {
        Counter c = new Counter(steps, onStep);
        return new DataSetIterator() {
            private static final long serialVersionUID = 1L;

            @Override
            public boolean hasNext() {
                return c.hasNext(it.hasNext(), it.resetSupported(), it::reset) && it.hasNext();
            }

            @Override
            public DataSet next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("step budget of " + c.steps + " spent");
                }
                DataSet ds = it.next();
                c.handedOut();
                return ds;
            }

            @Override
            public DataSet next(int num) {
                throw new UnsupportedOperationException("next(int) on a step budget");
            }

            @Override
            public int inputColumns() {
                return it.inputColumns();
            }

            @Override
            public int totalOutcomes() {
                return it.totalOutcomes();
            }

            @Override
            public boolean resetSupported() {
                return it.resetSupported();
            }

            @Override
            public boolean asyncSupported() {
                return false;
            }

            @Override
            public void reset() {
                if (c.done == 0) {
                    it.reset();
                }
            }

            @Override
            public int batch() {
                return it.batch();
            }

            @Override
            public void setPreProcessor(DataSetPreProcessor p) {
                it.setPreProcessor(p);
            }

            @Override
            public DataSetPreProcessor getPreProcessor() {
                return it.getPreProcessor();
            }

            @Override
            public List<String> getLabels() {
                return it.getLabels();
            }
        };
    }

    static MultiDataSetIterator of(MultiDataSetIterator it, int steps, IntConsumer onStep) {
        Counter c = new Counter(steps, onStep);
        return new MultiDataSetIterator() {
            private static final long serialVersionUID = 1L;

            @Override
            public boolean hasNext() {
                return c.hasNext(it.hasNext(), it.resetSupported(), it::reset) && it.hasNext();
            }

            @Override
            public MultiDataSet next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("step budget of " + c.steps + " spent");
                }
                MultiDataSet ds = it.next();
                c.handedOut();
                return ds;
            }

            @Override
            public MultiDataSet next(int num) {
                throw new UnsupportedOperationException("next(int) on a step budget");
            }

            @Override
            public void setPreProcessor(MultiDataSetPreProcessor p) {
                it.setPreProcessor(p);
            }

            @Override
            public MultiDataSetPreProcessor getPreProcessor() {
                return it.getPreProcessor();
            }

            @Override
            public boolean resetSupported() {
                return it.resetSupported();
            }

            @Override
            public boolean asyncSupported() {
                return false;
            }

            @Override
            public void reset() {
                if (c.done == 0) {
                    it.reset();
                }
            }
        };
    }
}
