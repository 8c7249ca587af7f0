package io.asyncpipeline.model;

import io.asyncpipeline.runtime.PipelineModel;
import io.asyncpipeline.stage.StageComputation;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;

/**
 * A checkpoint as one file per stage plus a manifest, in a directory. Stage k's file holds its parameters and its
 * optimizer state; the manifest ({@value #MANIFEST}) names the files of one generation with their SHA-256, and holds
 * the cut and the iteration and epoch counters.
 *
 * <p><b>Atomic.</b> A save writes the new generation's stage files under new names (each through a temporary file and
 * a rename), then replaces the manifest in one rename, then deletes the older generation's files. A crash at any
 * point leaves a manifest whose files are all there and whole: the old checkpoint or the new one.
 *
 * <p><b>Checked before anything changes.</b> A restore reads and checks everything first (the manifest, the cut, every
 * file's checksum, every array's length) and only then writes into the stages, so a damaged or foreign checkpoint
 * fails with an exception naming the problem and leaves the model as it was.
 */
public final class StageCheckpoint {

    /** The manifest's file name inside the checkpoint directory. */
    public static final String MANIFEST = "manifest.json";
    static final int FORMAT = 1;
    private static final int MAGIC = 0x41504c53;                 // "APLS"
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private StageCheckpoint() {
    }

    /** Writes the stages' state and the model's counters into {@code dir} (created if missing). */
    public static void save(PipelineModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        long generation = 1 + currentGeneration(dir);
        List<StageComputation> stages = model.stages();
        List<Map<String, Object>> files = new ArrayList<>();
        for (int k = 0; k < stages.size(); k++) {
            String name = "stage-" + k + "-g" + generation + ".bin";
            List<INDArray> arrays = arrays(stages.get(k));
            AtomicFile.write(dir.resolve(name).toFile(), f -> writeStage(f.toPath(), arrays));
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("file", name);
            entry.put("sha256", sha256(dir.resolve(name)));
            entry.put("lengths", arrays.stream().mapToLong(INDArray::length).toArray());
            entry.put("dataTypes", arrays.stream().map(a -> a.dataType().name()).toList());
            files.add(entry);
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", FORMAT);
        manifest.put("generation", generation);
        manifest.put("unit", model.unit());
        manifest.put("partition", model.partition());
        manifest.put("cutAfter", model.cutAfter());
        manifest.put("iteration", model.iterationCount());
        manifest.put("epoch", model.epochCount());
        manifest.put("stages", files);
        AtomicFile.write(dir.resolve(MANIFEST).toFile(), f -> JSON.writeValue(f, manifest));
        deleteOtherGenerations(dir, generation);
    }

    /**
     * Puts the state of the checkpoint in {@code dir} into the stages and the user's model (parameters, optimizer
     * state, counters), after checking all of it.
     *
     * @throws IllegalArgumentException when the checkpoint is missing, damaged, or from another cut of the model
     */
    public static void restore(PipelineModel model, Path dir) throws IOException {
        JsonNode m = readManifest(dir);
        int format = m.path("format").asInt(-1);
        if (format != FORMAT) {
            throw new IllegalArgumentException(where(dir) + " has format " + format + ", this version reads " + FORMAT);
        }
        String unit = m.path("unit").asText();
        int[] partition = JSON.convertValue(m.path("partition"), int[].class);
        if (!model.unit().equals(unit) || !Arrays.equals(model.partition(), partition)) {
            throw new IllegalArgumentException(where(dir) + " was cut into " + Arrays.toString(partition) + " " + unit
                    + ", this pipeline into " + Arrays.toString(model.partition()) + " " + model.unit());
        }
        List<String> cutAfter = Arrays.asList(JSON.convertValue(m.path("cutAfter"), String[].class));
        if (!model.cutAfter().equals(cutAfter)) {
            throw new IllegalArgumentException(where(dir) + " was cut after " + cutAfter + ", this pipeline after "
                    + model.cutAfter());
        }
        List<StageComputation> stages = model.stages();
        JsonNode files = m.path("stages");
        if (files.size() != stages.size()) {
            throw new IllegalArgumentException(where(dir) + " lists " + files.size() + " stage files for "
                    + stages.size() + " stages");
        }
        List<List<INDArray>> loaded = new ArrayList<>();
        for (int k = 0; k < stages.size(); k++) {
            JsonNode f = files.get(k);
            Path file = dir.resolve(f.path("file").asText());
            if (!file.normalize().getParent().equals(dir.normalize()) || f.path("file").asText().isEmpty()) {
                throw new IllegalArgumentException(where(dir) + " names stage " + k + "'s file as '"
                        + f.path("file").asText() + "', not a file of the directory");
            }
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("stage " + k + "'s checkpoint file " + file + " is missing");
            }
            String sum = sha256(file);
            if (!sum.equals(f.path("sha256").asText())) {
                throw new IllegalArgumentException("stage " + k + "'s checkpoint file " + file
                        + " is damaged: its SHA-256 is " + sum + ", the manifest says " + f.path("sha256").asText());
            }
            List<INDArray> arrays = readStage(file, k);
            List<INDArray> expected = arrays(stages.get(k));
            if (arrays.size() != expected.size()) {
                throw new IllegalArgumentException("stage " + k + "'s checkpoint holds " + arrays.size()
                        + " arrays, the stage has " + expected.size() + " (parameters and optimizer state)");
            }
            for (int i = 0; i < arrays.size(); i++) {
                if (arrays.get(i).dataType() != expected.get(i).dataType()) {
                    throw new IllegalArgumentException("stage " + k + "'s checkpoint array " + i + " ("
                            + (i == 0 ? "parameters" : "optimizer state") + ") is " + arrays.get(i).dataType()
                            + ", the stage's is " + expected.get(i).dataType());
                }
                if (arrays.get(i).length() != expected.get(i).length()) {
                    throw new IllegalArgumentException("stage " + k + "'s checkpoint array " + i + " ("
                            + (i == 0 ? "parameters" : "optimizer state") + ") has " + arrays.get(i).length()
                            + " values, the stage " + expected.get(i).length());
                }
            }
            loaded.add(arrays);
        }
        int iteration = m.path("iteration").asInt();
        int epoch = m.path("epoch").asInt();
        for (int k = 0; k < stages.size(); k++) {
            StageComputation stage = stages.get(k);
            List<INDArray> arrays = loaded.get(k);
            stage.restoreParams(arrays.get(0));
            List<INDArray> state = stage.optimizerState();
            for (int i = 0; i < state.size(); i++) {
                state.get(i).assign(arrays.get(1 + i).reshape(state.get(i).shape()));
            }
        }
        model.pushOptimizerState();
        model.setCounters(iteration, epoch);
    }

    /** The parameters, then the optimizer state arrays, of one stage. */
    private static List<INDArray> arrays(StageComputation stage) {
        List<INDArray> out = new ArrayList<>();
        out.add(stage.params());
        out.addAll(stage.optimizerState());
        return out;
    }

    private static void writeStage(Path file, List<INDArray> arrays) throws IOException {
        try (OutputStream os = Files.newOutputStream(file);
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os))) {
            out.writeInt(MAGIC);
            out.writeInt(FORMAT);
            out.writeInt(arrays.size());
            for (INDArray a : arrays) {
                Nd4j.write(a, out);
            }
        }
    }

    private static List<INDArray> readStage(Path file, int k) throws IOException {
        try (InputStream is = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new BufferedInputStream(is))) {
            if (in.readInt() != MAGIC || in.readInt() != FORMAT) {
                throw new IllegalArgumentException("stage " + k + "'s checkpoint file " + file
                        + " is not a stage checkpoint of this format");
            }
            int n = in.readInt();
            if (n < 1 || n > 1 << 16) {
                throw new IllegalArgumentException("stage " + k + "'s checkpoint file " + file + " claims " + n
                        + " arrays");
            }
            List<INDArray> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                out.add(Nd4j.read(in));
            }
            return out;
        }
    }

    private static JsonNode readManifest(Path dir) throws IOException {
        Path file = dir.resolve(MANIFEST);
        try {
            return JSON.readTree(file.toFile());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new IllegalArgumentException("no checkpoint in " + dir + ": " + MANIFEST + " is missing");
        } catch (IOException e) {
            throw new IllegalArgumentException(where(dir) + " is not readable JSON: " + e.getMessage(), e);
        }
    }

    private static long currentGeneration(Path dir) throws IOException {
        if (!Files.isRegularFile(dir.resolve(MANIFEST))) {
            return 0;
        }
        try {
            return JSON.readTree(dir.resolve(MANIFEST).toFile()).path("generation").asLong(0);
        } catch (IOException e) {
            return 0;                               // a damaged manifest: the new generation replaces it
        }
    }

    private static void deleteOtherGenerations(Path dir, long generation) throws IOException {
        String keep = "-g" + generation + ".bin";
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "stage-*-g*.bin")) {
            for (Path f : files) {
                if (!f.getFileName().toString().endsWith(keep)) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String where(Path dir) {
        return "the checkpoint manifest " + dir.resolve(MANIFEST);
    }
}
