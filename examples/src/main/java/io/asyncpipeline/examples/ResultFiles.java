package io.asyncpipeline.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * What {@code --out DIR} shares across the examples: the directory, the configuration sidecar (JSON, written with the
 * Jackson ND4J ships shaded) and whole-file replacement, so that files rewritten during a long run are never seen
 * half-written.
 */
final class ResultFiles {

    private ResultFiles() {
    }

    /** Writes the content of a file. */
    interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** {@code dir}, created with its parents if missing; a usage error naming {@code --out} if that fails. */
    static Path directory(CommandSpec spec, Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException | SecurityException e) {
            throw Cli.invalid(spec, "--out: cannot create the directory " + dir + ": " + e);
        }
    }

    /** Writes {@code file} through a temporary file in the same directory, then moves it into place. */
    static void replace(Path file, Content content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        // not Files.createTempFile: its owner-only permissions would stay with the moved file
        Path tmp = dir.resolve("." + file.getFileName() + "." + ProcessHandle.current().pid() + "-"
                + Thread.currentThread().getId() + ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                content.writeTo(out);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * The configuration of a run: the command's name, its arguments as given, every option's value (help and version
     * flags left out; keyed by the long name without dashes), {@code resolved} (values the command derived, such as
     * defaults that depend on other options; may be empty), and the environment: Java version and VM, cores, maximum
     * heap, {@code OMP_NUM_THREADS} and {@code MALLOC_ARENA_MAX} (null when unset), the examples' version and the time
     * of writing. Nothing is read from git.
     */
    static Map<String, Object> configuration(CommandSpec spec, Map<String, ?> resolved) {
        Map<String, Object> options = new LinkedHashMap<>();
        for (OptionSpec o : spec.options()) {
            if (o.usageHelp() || o.versionHelp()) {
                continue;
            }
            options.put(o.longestName().replaceFirst("^-+", ""), json(o.getValue()));
        }
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("javaVersion", System.getProperty("java.version"));
        env.put("javaVm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        env.put("javaVendor", System.getProperty("java.vendor"));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        env.put("cores", Runtime.getRuntime().availableProcessors());
        env.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
        env.put("OMP_NUM_THREADS", System.getenv("OMP_NUM_THREADS"));
        env.put("MALLOC_ARENA_MAX", System.getenv("MALLOC_ARENA_MAX"));
        env.put("examplesVersion", examplesVersion());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", spec.name());
        m.put("arguments", spec.commandLine() != null && spec.commandLine().getParseResult() != null
                ? spec.commandLine().getParseResult().originalArgs() : List.of());
        m.put("options", options);
        Map<String, Object> r = new LinkedHashMap<>();
        resolved.forEach((k, v) -> r.put(k, json(v)));
        m.put("resolved", r);
        m.put("environment", env);
        m.put("written", Instant.now().toString());
        return m;
    }

    /** Writes {@link #configuration} as indented JSON to {@code file}. */
    static void writeConfiguration(Path file, CommandSpec spec, Map<String, ?> resolved) {
        try {
            byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsBytes(configuration(spec, resolved));
            replace(file, out -> out.write(json));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** A value JSON shows plainly: numbers, booleans, strings and null as they are, lists and maps of those, else text. */
    static Object json(Object v) {
        if (v == null || v instanceof Number || v instanceof Boolean || v instanceof String) {
            return v;
        }
        if (v instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>();
            for (Object e : c) {
                out.add(json(e));
            }
            return out;
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, e) -> out.put(String.valueOf(k), json(e)));
            return out;
        }
        if (v instanceof Enum<?> e) {
            return e.name();
        }
        return v.toString();
    }

    private static String examplesVersion() {
        Properties p = new Properties();
        try (InputStream in = Cli.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return null;
        }
        return p.getProperty("version");
    }
}
