package io.asyncpipeline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * A separate Maven project ({@code src/it/consumer}) whose only dependency is the README's "Maven dependency"
 * snippet builds against the installed artifact and trains through the public API.
 *
 * <p>Two child Maven builds, each with the outer build's Maven, local repository and offline mode, and a
 * timeout: (1) install the parent POM and the library (main, sources and javadoc jars) from a copy of this
 * repository, so the outer build's {@code target} directories are never written; (2) {@code package exec:exec}
 * the consumer, whose {@code Main} prints a {@code consumer-result} line and exits 1 if training did not happen.
 * On a machine without network access run the outer build with {@code -o} so that the children are offline too;
 * on a clean CI machine the outer build is online and the children fetch the plugins that {@code mvn test}
 * alone never needs (jar, install, source, javadoc, exec). Like any {@code mvn install}, step (1) replaces the
 * project's SNAPSHOT artifacts in that local repository; builds running at the same time against the same
 * repository see them (and may replace them in turn).
 */
class ConsumerProjectTest {

    static final Duration CHILD_TIMEOUT = Duration.ofMinutes(5);
    static final String GROUP_PATH = "io/asyncpipeline";
    static final String ARTIFACT = "dl4j-async-pipeline";

    /** From Main: 150 examples in micro-batches of 10, 8 epochs. */
    static final int CONSUMER_ITERATIONS = 150 / 10 * 8;

    @Test
    void consumerPomDeclaresExactlyTheReadmeSnippet() throws IOException {
        String snippet = readmeSnippet();
        String dependencies = between(Files.readString(consumerDir().resolve("pom.xml")), "<dependencies>", "</dependencies>")
                .replaceAll("(?s)<!--.*?-->", "");
        assertEquals(1, count(dependencies, "<dependency>"), "the consumer declares one dependency: " + dependencies);
        assertEquals(squash(snippet), squash(dependencies),
                "src/it/consumer/pom.xml must declare exactly the README's \"Maven dependency\" snippet");
        assertEquals(projectVersion(), between(snippet, "<version>", "</version>").trim(),
                "the README's snippet names the project's version");
    }

    @Test
    void aProjectWithOnlyTheReadmeSnippetBuildsAndTrains() throws Exception {
        Path work = Path.of(System.getProperty("basedir", "."), "target", "consumer-it").toAbsolutePath();
        deleteTree(work);
        Path source = work.resolve("source");
        copyTree(sourceRoot(), source);

        // 1. the artifacts a user downloads: parent POM, library jar, -sources.jar, -javadoc.jar
        String install = runMaven(source, work.resolve("install.log"),
                "-f", source.resolve("pom.xml").toString(), "-pl", ARTIFACT, "-am",
                "-Dmaven.test.skip=true", "install");
        Path installed = localRepository().resolve(GROUP_PATH).resolve(ARTIFACT).resolve(projectVersion());
        String base = ARTIFACT + "-" + projectVersion();
        assertJarHas(installed.resolve(base + ".jar"), install,
                "io/asyncpipeline/AsyncPipelineWrapper.class", "META-INF/LICENSE", "META-INF/NOTICE");
        assertJarHas(installed.resolve(base + "-sources.jar"), install, "io/asyncpipeline/AsyncPipelineWrapper.java");
        assertJarHas(installed.resolve(base + "-javadoc.jar"), install, "io/asyncpipeline/AsyncPipelineWrapper.html");
        Path parentPom = localRepository().resolve(GROUP_PATH).resolve(ARTIFACT + "-parent").resolve(projectVersion())
                .resolve(ARTIFACT + "-parent-" + projectVersion() + ".pom");
        assertTrue(Files.readString(parentPom).contains("<name>Apache-2.0</name>"), "licence in " + parentPom);

        // 2. the consumer, built and run against those
        Path consumer = work.resolve("consumer");
        copyTree(consumerDir(), consumer);
        String output = runMaven(consumer, work.resolve("consumer.log"),
                "-f", consumer.resolve("pom.xml").toString(), "package", "exec:exec");

        Map<String, String> result = consumerResult(output);
        String context = "consumer-result " + result + "\n--- consumer build output (tail) ---\n" + tail(output);
        assertEquals(CONSUMER_ITERATIONS, Integer.parseInt(result.get("iterations")), context);
        assertEquals(CONSUMER_ITERATIONS, Integer.parseInt(result.get("stage0Updates")),
                "stage 0 updates once per micro-batch; " + context);
        double before = Double.parseDouble(result.get("lossBefore"));
        double after = Double.parseDouble(result.get("lossAfter"));
        assertTrue(after < 0.5 * before, "the loss at least halves; " + context);
        assertTrue(Double.parseDouble(result.get("paramChange")) > 0, "the parameters changed; " + context);
        assertTrue(Double.parseDouble(result.get("accuracy")) >= 0.9, "separable clusters are learnt; " + context);
        assertTrue(Path.of(URI.create(result.get("library"))).startsWith(installed),
                "the consumer ran the installed jar, not a reactor's classes; " + context);
    }

    // ---- the README and the consumer project ----

    static String readmeSnippet() throws IOException {
        String readme = Files.readString(sourceRoot().resolve("README.md"));
        int section = readme.indexOf("\n## Maven dependency");
        assertTrue(section >= 0, "README.md has a \"## Maven dependency\" section");
        int open = readme.indexOf("```xml", section);
        assertTrue(open >= 0, "the \"Maven dependency\" section has an xml block");
        int start = readme.indexOf('\n', open) + 1;
        return readme.substring(start, readme.indexOf("```", start));
    }

    static Map<String, String> consumerResult(String output) {
        Matcher line = Pattern.compile("(?m)^consumer-result (.*)$").matcher(output);
        if (!line.find()) {
            fail("the consumer printed no consumer-result line\n--- consumer build output (tail) ---\n" + tail(output));
        }
        Map<String, String> values = new HashMap<>();
        for (String pair : line.group(1).trim().split("\\s+")) {
            int eq = pair.indexOf('=');
            values.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        for (String key : List.of("iterations", "stage0Updates", "lossBefore", "lossAfter", "paramChange", "accuracy",
                "library")) {
            assertNotNull(values.get(key), key + " in " + line.group());
        }
        return values;
    }

    static void assertJarHas(Path jar, String buildOutput, String... entries) throws IOException {
        assertTrue(Files.isRegularFile(jar), jar + " was installed\n--- install output (tail) ---\n" + tail(buildOutput));
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (String entry : entries) {
                assertNotNull(zip.getEntry(entry), jar.getFileName() + " contains " + entry);
            }
        }
    }

    // ---- child Maven builds ----

    /** Runs Maven in {@code dir}; fails with the output's tail on a non-zero exit or a timeout. Returns the output. */
    static String runMaven(Path dir, Path log, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(mavenExecutable(), "-B", "-ntp"));
        if (Boolean.parseBoolean(System.getProperty("it.maven.offline"))) {
            command.add("-o");
        }
        String repo = System.getProperty("it.maven.repo.local");
        if (isSet(repo)) {
            command.add("-Dmaven.repo.local=" + repo);
        }
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("JAVA_HOME", Path.of(System.getProperty("java.home")).toString());
        builder.environment().put("OMP_NUM_THREADS", "1");
        Process process = builder.start();
        if (!process.waitFor(CHILD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            List<ProcessHandle> tree = process.descendants().toList();
            process.destroyForcibly();
            tree.forEach(ProcessHandle::destroyForcibly);
            process.waitFor(30, TimeUnit.SECONDS);
            fail("`" + String.join(" ", command) + "` did not finish within " + CHILD_TIMEOUT + " (killed)\n"
                    + "--- output (tail) ---\n" + tail(Files.readString(log)));
        }
        String output = Files.readString(log);
        if (process.exitValue() != 0) {
            fail("`" + String.join(" ", command) + "` in " + dir + " failed with exit code " + process.exitValue()
                    + "\n--- output (tail, full log " + log + ") ---\n" + tail(output));
        }
        return output;
    }

    /** The outer build's Maven ({@code maven.home}), else MAVEN_HOME, else {@code mvn} on the PATH. */
    static String mavenExecutable() {
        String name = System.getProperty("os.name").toLowerCase().startsWith("windows") ? "mvn.cmd" : "mvn";
        for (String home : new String[] {System.getProperty("it.maven.home"), System.getenv("MAVEN_HOME")}) {
            if (isSet(home) && Files.isExecutable(Path.of(home, "bin", name))) {
                return Path.of(home, "bin", name).toString();
            }
        }
        return name;
    }

    static Path localRepository() {
        String repo = System.getProperty("it.maven.repo.local");
        return isSet(repo) ? Path.of(repo) : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    static String projectVersion() {
        String version = System.getProperty("it.project.version");
        assertTrue(isSet(version), "it.project.version is set (by the surefire configuration in integration-tests/pom.xml)");
        return version;
    }

    static Path sourceRoot() {
        String root = System.getProperty("it.source.root");
        Path path = isSet(root) ? Path.of(root) : Path.of(System.getProperty("basedir", "."), "..");
        path = path.toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(path.resolve(ARTIFACT).resolve("pom.xml")), "repository root " + path);
        return path;
    }

    static Path consumerDir() {
        return sourceRoot().resolve("integration-tests/src/it/consumer");
    }

    /** Unset system properties reach the JVM as the empty string or as the unresolved "${...}". */
    static boolean isSet(String value) {
        return value != null && !value.isBlank() && !value.startsWith("${");
    }

    // ---- files and text ----

    static final Set<String> NOT_COPIED = Set.of("target", ".git", ".idea");

    /** Copies a source tree without build output, git data or IDE files. */
    static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(from) && NOT_COPIED.contains(dir.getFileName().toString())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!NOT_COPIED.contains(file.getFileName().toString())) {
                    Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static void deleteTree(Path root) throws IOException {
        if (Files.exists(root)) {
            try (Stream<Path> paths = Files.walk(root)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    static String between(String text, String open, String close) {
        int start = text.indexOf(open);
        int end = text.indexOf(close, start + open.length());
        assertTrue(start >= 0 && end > start, open + " ... " + close + " in\n" + text);
        return text.substring(start + open.length(), end);
    }

    static int count(String text, String part) {
        return text.split(Pattern.quote(part), -1).length - 1;
    }

    static String squash(String xml) {
        return xml.replaceAll("\\s+", "");
    }

    static String tail(String output) {
        String[] lines = output.split("\n");
        int from = Math.max(0, lines.length - 60);
        return String.join("\n", Arrays.copyOfRange(lines, from, lines.length));
    }
}
