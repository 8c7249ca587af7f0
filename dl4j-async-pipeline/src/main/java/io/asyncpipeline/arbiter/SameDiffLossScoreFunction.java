package io.asyncpipeline.arbiter;

import org.deeplearning4j.arbiter.optimize.api.data.DataProvider;
import org.deeplearning4j.arbiter.optimize.api.data.DataSource;
import org.deeplearning4j.arbiter.optimize.api.score.ScoreFunction;
import org.deeplearning4j.arbiter.scoring.util.ScoreUtil;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * An Arbiter {@link ScoreFunction} for SameDiff models: the loss on the data source's test data (its
 * {@code testData()}, a DataSetIterator or MultiDataSetIterator), averaged over examples; lower is better. The
 * placeholders are fed as the model's {@link TrainingConfig} maps them, and the loss is the sum of its loss
 * variables, as in training.
 */
public final class SameDiffLossScoreFunction implements ScoreFunction {

    private static final long serialVersionUID = 1L;

    @Override
    public double score(Object model, DataProvider dataProvider, Map<String, Object> dataParameters) {
        return meanLoss(sameDiff(model), dataProvider.testData(dataParameters));
    }

    @Override
    public double score(Object model, Class<? extends DataSource> dataSource, Properties dataSourceProperties) {
        return meanLoss(sameDiff(model), PipelineTaskCreator.dataSource(dataSource, dataSourceProperties).testData());
    }

    @Override
    public boolean minimize() {
        return true;
    }

    @Override
    public List<Class<?>> getSupportedModelTypes() {
        return List.of(SameDiff.class);
    }

    @Override
    public List<Class<?>> getSupportedDataTypes() {
        return List.of(DataSetIterator.class, MultiDataSetIterator.class);
    }

    private static SameDiff sameDiff(Object model) {
        if (model instanceof SameDiff sd) {
            return sd;
        }
        throw new IllegalArgumentException("SameDiffLossScoreFunction scores SameDiff models, got "
                + (model == null ? "null" : model.getClass().getName()));
    }

    /**
     * The model's loss over {@code testData} (a DataSetIterator, MultiDataSetIterator or anything Arbiter's
     * {@code ScoreUtil} turns into one), averaged over examples.
     *
     * @throws IllegalArgumentException for empty test data or a model without a TrainingConfig
     */
    public static double meanLoss(SameDiff sd, Object testData) {
        TrainingConfig tc = sd.getTrainingConfig();
        if (tc == null) {
            throw new IllegalArgumentException("the SameDiff model has no TrainingConfig: its placeholder mapping and"
                    + " loss variables come from there (sd.setTrainingConfig)");
        }
        List<String> losses = tc.getLossVariables() != null && !tc.getLossVariables().isEmpty()
                ? tc.getLossVariables() : sd.getLossVariables();
        if (losses == null || losses.isEmpty()) {
            throw new IllegalArgumentException("the SameDiff model has no loss variable");
        }
        MultiDataSetIterator it = ScoreUtil.getMultiIterator(testData);
        if (it.resetSupported()) {
            it.reset();
        }
        double sum = 0;
        long examples = 0;
        while (it.hasNext()) {
            MultiDataSet ds = it.next();
            Map<String, INDArray> ph = new HashMap<>();
            put(ph, tc.getDataSetFeatureMapping(), ds.getFeatures(), "feature");
            put(ph, tc.getDataSetLabelMapping(), ds.getLabels(), "label");
            Map<String, INDArray> out = sd.output(ph, losses.toArray(new String[0]));
            long n = ds.getFeatures(0).size(0);
            double loss = 0;
            for (String l : losses) {
                loss += out.get(l).sumNumber().doubleValue();
            }
            sum += loss * n;
            examples += n;
        }
        if (examples == 0) {
            throw new IllegalArgumentException("the test data is empty");
        }
        return sum / examples;
    }

    private static void put(Map<String, INDArray> ph, List<String> names, INDArray[] arrays, String what) {
        if (names == null) {
            return;
        }
        if (arrays == null || arrays.length < names.size()) {
            throw new IllegalArgumentException("the TrainingConfig maps " + names.size() + " " + what + " arrays "
                    + names + ", the test data has " + (arrays == null ? 0 : arrays.length));
        }
        for (int i = 0; i < names.size(); i++) {
            ph.put(names.get(i), arrays[i]);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SameDiffLossScoreFunction;
    }

    @Override
    public int hashCode() {
        return SameDiffLossScoreFunction.class.hashCode();
    }

    @Override
    public String toString() {
        return "SameDiffLossScoreFunction()";
    }
}
