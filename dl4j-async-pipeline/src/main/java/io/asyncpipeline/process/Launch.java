package io.asyncpipeline.process;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Where the stage processes come from: started here ({@code local}, {@code count} JVMs on this host), or already
 * running at {@code addresses}. The user-facing form is {@code io.asyncpipeline.StageProcesses}.
 *
 * @param environment extra environment variables per process index (local only)
 * @param classpath   the stage JVMs' classpath; null for this JVM's
 * @param token       the shared access token; null for local processes makes a random one
 * @param connectTimeout how long the coordinator keeps trying to reach each process before it gives up
 * @param tls         TLS for every connection, or null for plain text
 * @param firstHere   (local only) process 0 is a stage host inside this JVM, so {@code count - 1} JVMs are started
 */
public record Launch(boolean local, int count, List<String> addresses, List<String> jvmOptions,
                     Map<Integer, Map<String, String>> environment, String classpath, String token,
                     Duration startTimeout, Duration connectTimeout, Tls tls, boolean firstHere) {

    public Launch {
        addresses = List.copyOf(addresses);
        jvmOptions = List.copyOf(jvmOptions);
        environment = Map.copyOf(environment);
    }

    /** The JVMs to start when process 0 runs here: processes 1.. as 0.., their environments renumbered. */
    Launch startedJvms(String sharedToken) {
        Map<Integer, Map<String, String>> env = new java.util.HashMap<>();
        environment.forEach((k, v) -> {
            if (k > 0) {
                env.put(k - 1, v);
            }
        });
        return new Launch(true, count - 1, addresses, jvmOptions, env, classpath, sharedToken, startTimeout,
                connectTimeout, tls, false);
    }
}
