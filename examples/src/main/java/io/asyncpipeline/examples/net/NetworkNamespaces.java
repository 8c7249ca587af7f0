package io.asyncpipeline.examples.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Stand-ins for hosts on this machine: one Linux network namespace per "host", each joined to this (the root)
 * namespace by a veth pair, with this namespace routing between them, and each link shaped with a token-bucket
 * filter ({@code tc tbf}) on both of its ends. Host k is {@code 10.232.k.2}, its link's root end {@code 10.232.k.1}; a
 * message from host 0 to host 1 crosses host 0's link and host 1's link, each at the chosen rate. Traffic stays on
 * the veth pairs made here. Needs root, {@code ip} and {@code tc} (iproute2). {@link #close()} removes every
 * namespace (and with it every veth pair) and restores IP forwarding as it was; so does a shutdown hook when the
 * JVM is stopped before that (Ctrl-C, SIGTERM).
 */
public final class NetworkNamespaces implements AutoCloseable {

    /** Names are short: a Linux interface name has at most 15 characters. */
    private static final String PREFIX = "apl";
    private static final Path FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");

    private final int hosts;
    private final String forwardBefore;
    /** Removes the namespaces if the JVM is stopped (Ctrl-C, SIGTERM) before {@link #close()} runs. */
    private final Thread onExit = new Thread(this::close, "network-namespaces-cleanup");
    private boolean closed;

    private NetworkNamespaces(int hosts, String forwardBefore) {
        this.hosts = hosts;
        this.forwardBefore = forwardBefore;
    }

    /** Why this machine cannot make the namespaces, or null when it can. */
    public static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name")) && !isRoot()) {
            return "network namespaces and tc need root (run as root, e.g. with sudo)";
        }
        for (String tool : new String[] {"ip", "tc"}) {
            if (!onPath(tool)) {
                return "'" + tool + "' is not installed (Debian: apt-get install iproute2)";
            }
        }
        return null;
    }

    /** Makes {@code hosts} namespaces with their links, unshaped; removes leftovers of an earlier run first. */
    public static NetworkNamespaces create(int hosts) throws IOException, InterruptedException {
        if (hosts < 1 || hosts > 200) {
            throw new IllegalArgumentException("hosts must be 1..200, got " + hosts);
        }
        String reason = unavailableReason();
        if (reason != null) {
            throw new IllegalStateException(reason);
        }
        for (int k = 0; k < hosts; k++) {
            runQuietly("ip", "netns", "del", namespace(k));
            runQuietly("ip", "link", "del", rootEnd(k));
        }
        NetworkNamespaces n = new NetworkNamespaces(hosts, Files.readString(FORWARD).strip());
        Runtime.getRuntime().addShutdownHook(n.onExit);
        try {
            for (int k = 0; k < hosts; k++) {
                String ns = namespace(k);
                run("ip", "netns", "add", ns);
                run("ip", "link", "add", hostEnd(k), "type", "veth", "peer", "name", rootEnd(k));
                run("ip", "link", "set", hostEnd(k), "netns", ns);
                run("ip", "addr", "add", "10.232." + k + ".1/24", "dev", rootEnd(k));
                run("ip", "link", "set", rootEnd(k), "up");
                run("ip", "netns", "exec", ns, "ip", "addr", "add", "10.232." + k + ".2/24", "dev", hostEnd(k));
                run("ip", "netns", "exec", ns, "ip", "link", "set", hostEnd(k), "up");
                run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
                run("ip", "netns", "exec", ns, "ip", "route", "add", "default", "via", "10.232." + k + ".1");
            }
            Files.writeString(FORWARD, "1");
            return n;
        } catch (IOException | InterruptedException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    /** Shapes every link, both directions, to {@code mbitPerSecond} (token bucket; replaces an earlier shaping). */
    public void shape(double mbitPerSecond) throws IOException, InterruptedException {
        if (!(mbitPerSecond > 0)) {
            throw new IllegalArgumentException("rate must be positive, got " + mbitPerSecond);
        }
        long bytesPerSecond = (long) (mbitPerSecond * 1e6 / 8);
        // the bucket holds 10 ms of traffic (at least 32 KiB): enough for the kernel's timer at high rates, small
        // enough that a burst does not hide the rate at low ones
        long burst = Math.max(32 * 1024, bytesPerSecond / 100);
        String rate = Math.round(mbitPerSecond * 1000) + "kbit";
        for (int k = 0; k < hosts; k++) {
            run("tc", "qdisc", "replace", "dev", rootEnd(k), "root", "tbf", "rate", rate, "burst", burst + "b",
                    "latency", "200ms");
            run("ip", "netns", "exec", namespace(k), "tc", "qdisc", "replace", "dev", hostEnd(k), "root", "tbf",
                    "rate", rate, "burst", burst + "b", "latency", "200ms");
        }
    }

    /** Host k's address. */
    public String address(int k) {
        check(k);
        return "10.232." + k + ".2";
    }

    /** {@code command} run inside host k's namespace. */
    public List<String> inside(int k, List<String> command) {
        check(k);
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", namespace(k)));
        c.addAll(command);
        return c;
    }

    /** Bytes host k has sent on its link so far (its end of the veth pair). */
    public long sentBy(int k) throws IOException, InterruptedException {
        check(k);
        return Long.parseLong(output("ip", "netns", "exec", namespace(k), "cat",
                "/sys/class/net/" + hostEnd(k) + "/statistics/tx_bytes").strip());
    }

    /** Bytes sent to host k on its link so far (the root end of its veth pair). */
    public long sentTo(int k) throws IOException {
        check(k);
        return Long.parseLong(Files.readString(Path.of("/sys/class/net/" + rootEnd(k) + "/statistics/tx_bytes")).strip());
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (Thread.currentThread() != onExit) {
            try {
                Runtime.getRuntime().removeShutdownHook(onExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran) anyway; closing twice is harmless
            }
        }
        for (int k = 0; k < hosts; k++) {
            runQuietly("ip", "netns", "del", namespace(k));
            runQuietly("ip", "link", "del", rootEnd(k));
        }
        try {
            Files.writeString(FORWARD, forwardBefore);
        } catch (IOException e) {
            System.err.println("could not restore " + FORWARD + " to " + forwardBefore + ": " + e);
        }
    }

    private void check(int k) {
        if (k < 0 || k >= hosts) {
            throw new IndexOutOfBoundsException("host " + k + " of " + hosts);
        }
    }

    static String namespace(int k) {
        return PREFIX + "-ns" + k;
    }

    static String hostEnd(int k) {
        return PREFIX + "h" + k;
    }

    static String rootEnd(int k) {
        return PREFIX + "r" + k;
    }

    private static boolean isRoot() {
        try {
            return output("id", "-u").strip().equals("0");
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/sbin", tool));
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + ": no answer in 30 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + out.strip());
        }
    }

    private static String output(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + out.strip());
        }
        return out;
    }

    private static void runQuietly(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
