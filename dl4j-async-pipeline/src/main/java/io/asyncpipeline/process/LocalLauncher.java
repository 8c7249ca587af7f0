package io.asyncpipeline.process;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts stage JVMs on this host ({@link StageHostMain}, each on a free loopback port), with a classpath, JVM options
 * and a per-process environment, and stops and reaps all of them on {@link #close()}, on a failed start, and when
 * this JVM exits. A stage JVM also exits by itself when this JVM dies in any way (it watches its standard input,
 * which this JVM holds open), so no stage process outlives its coordinator.
 */
final class LocalLauncher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalLauncher.class);
    static final String TOKEN_ENV = "ASYNC_PIPELINE_TOKEN";
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+)");

    private final List<Process> processes = new ArrayList<>();
    private final List<String> addresses = new ArrayList<>();
    private final String token;
    private final Thread reaper = new Thread(this::killAll, "stage-process-reaper");

    private LocalLauncher(String token) {
        this.token = token;
    }

    /** Starts {@code launch.count()} stage JVMs and waits until each listens. */
    static LocalLauncher start(Launch launch) {
        String token = launch.token() != null ? launch.token() : randomToken();
        LocalLauncher l = new LocalLauncher(token);
        Runtime.getRuntime().addShutdownHook(l.reaper);
        try {
            List<CompletableFuture<String>> ports = new ArrayList<>();
            for (int i = 0; i < launch.count(); i++) {
                ports.add(l.startOne(i, launch, token));
            }
            long deadline = System.nanoTime() + launch.startTimeout().toNanos();
            for (int i = 0; i < ports.size(); i++) {
                long left = Math.max(1, deadline - System.nanoTime());
                try {
                    l.addresses.add(ports.get(i).get(left, TimeUnit.NANOSECONDS));
                } catch (TimeoutException e) {
                    throw new IllegalStateException("stage process " + i + " did not start listening within "
                            + launch.startTimeout().toSeconds() + " s", e);
                } catch (ExecutionException e) {
                    throw new IllegalStateException("stage process " + i + " did not start: " + e.getCause().getMessage(),
                            e.getCause());
                }
            }
            LOG.info("started {} stage processes at {}", launch.count(), l.addresses);
            return l;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            l.close();
            throw new IllegalStateException("interrupted while starting the stage processes", e);
        } catch (RuntimeException e) {
            l.close();
            throw e;
        }
    }

    private CompletableFuture<String> startOne(int index, Launch launch, String token) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.addAll(launch.jvmOptions());
        cmd.add("-cp");
        cmd.add(launch.classpath() != null ? launch.classpath() : System.getProperty("java.class.path"));
        cmd.add(StageHostMain.class.getName());
        cmd.add("--bind");
        cmd.add("127.0.0.1");
        cmd.add("--port");
        cmd.add("0");
        cmd.add("--exit-with-parent");
        if (launch.tls() != null) {
            cmd.add("--tls-cert");
            cmd.add(launch.tls().certificateChain().getAbsolutePath());
            cmd.add("--tls-key");
            cmd.add(launch.tls().privateKey().getAbsolutePath());
            cmd.add("--tls-trust");
            cmd.add(launch.tls().trustedCertificates().getAbsolutePath());
            if (launch.tls().mutual()) {
                cmd.add("--tls-mutual");
            }
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        Map<String, String> env = pb.environment();
        env.put(TOKEN_ENV, token);
        env.putAll(launch.environment().getOrDefault(index, Map.of()));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start stage process " + index + " (" + cmd.get(0) + ")", e);
        }
        synchronized (processes) {
            processes.add(p);
        }
        CompletableFuture<String> port = new CompletableFuture<>();
        Thread pump = new Thread(() -> pump(index, p, port), "stage-process-" + index + "-output");
        pump.setDaemon(true);
        pump.start();
        return port;
    }

    /** Reads a stage JVM's standard output: its address line, then everything it prints, passed on to our log. */
    private static void pump(int index, Process p, CompletableFuture<String> port) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                Matcher m = LISTENING.matcher(line);
                if (!port.isDone() && m.find()) {
                    port.complete(m.group(1) + ":" + m.group(2));
                }
                LOG.info("[stage process {}] {}", index, line);
            }
        } catch (IOException e) {
            // the process ended
        }
        if (!port.isDone()) {
            int code = -1;
            try {
                code = p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            port.completeExceptionally(new IllegalStateException("it exited with code " + code
                    + " before listening (its error output is above)"));
        }
    }

    List<String> addresses() {
        return List.copyOf(addresses);
    }

    String token() {
        return token;
    }

    /** The OS process ids of the stage JVMs (for tests). */
    List<Long> pids() {
        synchronized (processes) {
            return processes.stream().map(Process::pid).toList();
        }
    }

    /** Closes every stage JVM's standard input, then asks, then forces; waits until each has exited. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException alreadyExiting) {
            // the hook runs anyway
        }
        killAll();
    }

    private void killAll() {
        List<Process> all;
        synchronized (processes) {
            all = new ArrayList<>(processes);
        }
        for (Process p : all) {
            try {
                p.getOutputStream().close();
            } catch (IOException ignored) {
                // already gone
            }
        }
        waitAll(all, 3_000);
        all.forEach(Process::destroy);
        waitAll(all, 3_000);
        all.forEach(Process::destroyForcibly);
        waitAll(all, 10_000);
    }

    private static void waitAll(List<Process> all, long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (Process p : all) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) {
                    p.waitFor(left, TimeUnit.NANOSECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static String javaBinary() {
        return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    }

    static String randomToken() {
        return StageHost.randomToken();
    }
}
