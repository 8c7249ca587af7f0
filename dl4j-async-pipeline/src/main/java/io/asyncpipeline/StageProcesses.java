package io.asyncpipeline;

import io.asyncpipeline.process.Launch;
import io.asyncpipeline.process.Tls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a pipeline's stages in separate processes instead of threads of this JVM; give it to
 * {@link PipelineBuilder#processes(StageProcesses)}.
 *
 * <pre>{@code
 * new AsyncPipelineWrapper.Builder(net)
 *         .stages(2)
 *         .processes(StageProcesses.local(2)                         // two stage JVMs on this host
 *                 .jvmOptions("-Xmx2g")
 *                 .environment(1, Map.of("CUDA_VISIBLE_DEVICES", "1")))
 *         .build();
 * }</pre>
 *
 * This JVM stays the coordinator: it owns the data iterator and the model. At every {@code fit} it sends the model to
 * each process with DL4J's own serialisation ({@code ModelSerializer}, {@code sd.save}), each process builds the same
 * stages and runs its share, neighbouring stages exchange activations and gradients over gRPC, and after every epoch
 * each process sends its stages' parameters and optimizer state back, so the model holds the trained state when
 * {@code fit} returns, as in-process. Every call between the processes carries a shared access token. A process
 * that dies stops the fit within seconds with a {@link PipelineException} naming the stage and its address.
 */
public final class StageProcesses {

    /** Default of {@link #connectTimeout(Duration)}. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(30);

    /** Default of {@link #startTimeout(Duration)}. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(120);

    private final boolean local;
    private final int count;
    private final List<String> addresses;
    private final List<String> jvmOptions = new ArrayList<>();
    private final Map<Integer, Map<String, String>> environment = new HashMap<>();
    private String classpath;
    private String token;
    private Duration startTimeout = DEFAULT_START_TIMEOUT;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Tls tls;
    private boolean firstHere;

    private StageProcesses(boolean local, int count, List<String> addresses) {
        this.local = local;
        this.count = count;
        this.addresses = addresses;
    }

    /**
     * {@code processes} stage JVMs started on this host when the wrapper is built, listening on loopback only, and
     * stopped when it is closed (or when this JVM exits, however it exits). Each runs a contiguous share of the
     * stages.
     */
    public static StageProcesses local(int processes) {
        if (processes < 1) {
            throw new IllegalArgumentException("local(processes) needs at least 1 process, got " + processes);
        }
        return new StageProcesses(true, processes, List.of());
    }

    /**
     * Stage processes started by hand ({@code io.asyncpipeline.process.StageHostMain}), in stage order, as
     * {@code host:port,host:port,...}; give the {@link #token(String)} they were started with.
     */
    public static StageProcesses peers(String addresses) {
        if (addresses == null || addresses.isBlank()) {
            throw new IllegalArgumentException("peers(...) needs host:port,host:port,...");
        }
        List<String> list = Arrays.stream(addresses.split(",")).map(String::strip).toList();
        for (String a : list) {
            int colon = a.lastIndexOf(':');
            if (colon <= 0 || !a.substring(colon + 1).matches("\\d{1,5}")) {
                throw new IllegalArgumentException("peers(...): '" + a + "' is not host:port");
            }
        }
        return new StageProcesses(false, list.size(), list);
    }

    /**
     * A fresh random access token (24 bytes from {@code SecureRandom}, in hex), for stage processes started by hand or
     * by a cluster manager: give it to the hosts ({@code --token-file}) and to {@link #token(String)}.
     */
    public static String randomToken() {
        return io.asyncpipeline.process.StageHost.randomToken();
    }

    /** Options for each stage JVM, e.g. {@code -Xmx2g} (local processes). */
    public StageProcesses jvmOptions(String... options) {
        for (String o : options) {
            if (o == null || o.isBlank()) {
                throw new IllegalArgumentException("jvmOptions: empty option");
            }
        }
        jvmOptions.addAll(List.of(options));
        return this;
    }

    /** Environment variables for local process {@code process} (0-based), e.g. one CUDA_VISIBLE_DEVICES each. */
    public StageProcesses environment(int process, Map<String, String> variables) {
        if (!local) {
            throw new IllegalArgumentException("environment(...) is for local processes; peers have their own");
        }
        if (process < 0 || process >= count) {
            throw new IllegalArgumentException("environment(" + process + ", ...): processes are 0.." + (count - 1));
        }
        environment.computeIfAbsent(process, p -> new HashMap<>()).putAll(variables);
        return this;
    }

    /** The stage JVMs' classpath. Default: this JVM's ({@code java.class.path}). */
    public StageProcesses classpath(String classpath) {
        this.classpath = classpath;
        return this;
    }

    /**
     * The shared access token. Required for {@link #peers(String)}; local processes get a random one by default.
     */
    public StageProcesses token(String token) {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("token: empty");
        }
        this.token = token;
        return this;
    }

    /** How long local processes may take to start listening. Default: {@link #DEFAULT_START_TIMEOUT}. */
    public StageProcesses startTimeout(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("startTimeout must be positive");
        }
        this.startTimeout = timeout;
        return this;
    }

    /**
     * How long the coordinator keeps trying to reach each stage process when the wrapper is built (gRPC reconnects with
     * backoff meanwhile) before it fails naming the address. Default: {@link #DEFAULT_CONNECT_TIMEOUT}.
     */
    public StageProcesses connectTimeout(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive");
        }
        this.connectTimeout = timeout;
        return this;
    }

    /**
     * TLS on every connection between the processes, with PEM files: the stage processes serve with
     * {@code certificateChain} and {@code privateKey} (PKCS#8), and every client trusts the authorities in
     * {@code trustedCertificates}. The certificate must name each host as its address does (e.g. {@code IP:127.0.0.1}).
     * Stage processes started by hand get the same files with {@code --tls-cert}, {@code --tls-key},
     * {@code --tls-trust}. Default: plain text (the access token still guards every call).
     */
    public StageProcesses tls(java.io.File certificateChain, java.io.File privateKey, java.io.File trustedCertificates) {
        this.tls = new Tls(certificateChain, privateKey, trustedCertificates, tls != null && tls.mutual());
        return this;
    }

    /**
     * With {@link #tls}: every stage process also requires a client certificate signed by the trusted authorities,
     * which the coordinator and the stage processes present from the same files ({@code --tls-mutual} by hand).
     */
    public StageProcesses mutualTls(boolean required) {
        if (tls == null) {
            throw new IllegalArgumentException("mutualTls needs tls(...) first");
        }
        this.tls = new Tls(tls.certificateChain(), tls.privateKey(), tls.trustedCertificates(), required);
        return this;
    }

    /**
     * Local processes only: process 0 (the first stages) runs inside this JVM, as a stage host on loopback that the
     * pipeline reaches over gRPC like the others, so {@code local(P)} starts P − 1 JVMs. On a host with fewer cores than
     * processes + 1, this saves a JVM's share of the cores (its JIT, collector and memory pacer), and stage 0 runs
     * where the data is read. The stage host stops when the wrapper closes. Default: false.
     *
     * @throws IllegalStateException for {@link #peers(String)}
     */
    public StageProcesses firstStagesHere(boolean here) {
        if (!local) {
            throw new IllegalStateException("firstStagesHere applies to local(n) processes, not to peers");
        }
        this.firstHere = here;
        return this;
    }

    /** Number of processes. */
    public int count() {
        return count;
    }

    Launch launch() {
        if (firstHere && environment.containsKey(0)) {
            throw new IllegalArgumentException("environment(0, ...) cannot apply: with firstStagesHere(true) process 0"
                    + " is this JVM");
        }
        return new Launch(local, count, addresses, jvmOptions, environment, classpath, token, startTimeout, connectTimeout,
                tls, firstHere);
    }

    @Override
    public String toString() {
        return local ? count + " local stage processes" + (firstHere ? " (the first in this JVM)" : "")
                : "stage processes at " + String.join(",", addresses);
    }
}
