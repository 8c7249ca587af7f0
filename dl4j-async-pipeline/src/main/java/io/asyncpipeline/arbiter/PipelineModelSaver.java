package io.asyncpipeline.arbiter;

import org.deeplearning4j.arbiter.optimize.api.OptimizationResult;
import org.deeplearning4j.arbiter.optimize.api.saving.ResultReference;
import org.deeplearning4j.arbiter.optimize.api.saving.ResultSaver;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.autodiff.samediff.SameDiff;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * An Arbiter {@link ResultSaver} for {@link PipelineTaskCreator} searches, which Arbiter's {@code FileModelSaver}
 * cannot save (it expects DL4J candidates and models, not {@link PipelineCandidate}s or SameDiff). Each completed
 * candidate gets a directory {@code <dir>/<index>/} with {@code candidate.json} ({@link PipelineCandidate#toJson()}),
 * {@code score.txt}, and the trained model: {@code model.zip} ({@code ModelSerializer}, with the updater state) for a
 * MultiLayerNetwork or ComputationGraph, {@code model.sd} ({@code SameDiff.save}, with the updater state) for SameDiff.
 * The reference keeps the Arbiter result in memory and reads the model back from disk when asked.
 */
public final class PipelineModelSaver implements ResultSaver {

    private final Path directory;

    public PipelineModelSaver(Path directory) {
        this.directory = Objects.requireNonNull(directory, "directory");
    }

    @Override
    public ResultReference saveModel(OptimizationResult result, Object model) throws IOException {
        Path dir = directory.resolve(Integer.toString(result.getIndex()));
        Files.createDirectories(dir);
        Object value = result.getCandidate().getValue();
        if (value instanceof PipelineCandidate c) {
            Files.writeString(dir.resolve("candidate.json"), c.toJson(), StandardCharsets.UTF_8);
        }
        Files.writeString(dir.resolve("score.txt"), String.valueOf(result.getScore()), StandardCharsets.UTF_8);
        Path file;
        if (model instanceof MultiLayerNetwork || model instanceof ComputationGraph) {
            file = dir.resolve("model.zip");
            ModelSerializer.writeModel((org.deeplearning4j.nn.api.Model) model, file.toFile(), true);
        } else if (model instanceof SameDiff sd) {
            file = dir.resolve("model.sd");
            sd.save(file.toFile(), true);
        } else {
            throw new IOException("PipelineModelSaver saves MultiLayerNetwork, ComputationGraph or SameDiff models, got "
                    + (model == null ? "null" : model.getClass().getName()));
        }
        return new Reference(result, file);
    }

    @Override
    public List<Class<?>> getSupportedCandidateTypes() {
        return List.of(Object.class);
    }

    @Override
    public List<Class<?>> getSupportedModelTypes() {
        return List.of(MultiLayerNetwork.class, ComputationGraph.class, SameDiff.class);
    }

    /** The result in memory, the model on disk. */
    private record Reference(OptimizationResult result, Path model) implements ResultReference {
        @Override
        public OptimizationResult getResult() {
            return result;
        }

        @Override
        public Object getResultModel() throws IOException {
            File f = model.toFile();
            if (f.getName().endsWith(".sd")) {
                return SameDiff.load(f, true);
            }
            try {
                return ModelSerializer.restoreMultiLayerNetwork(f, true);
            } catch (Exception notAMultiLayerNetwork) {
                return ModelSerializer.restoreComputationGraph(f, true);
            }
        }
    }
}
