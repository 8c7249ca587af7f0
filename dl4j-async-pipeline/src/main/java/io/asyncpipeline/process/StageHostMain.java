package io.asyncpipeline.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The main class of a stage process:
 * {@code java -cp <classpath> io.asyncpipeline.process.StageHostMain [--bind ADDRESS] [--port N] [--token-file FILE]}.
 * It listens (default {@code 127.0.0.1}, a free port) and prints {@code listening on ADDRESS:PORT}; every call must
 * carry the access token from {@code --token-file} or the {@code ASYNC_PIPELINE_TOKEN} environment variable, and it
 * refuses to start without one. {@code --tls-cert}, {@code --tls-key}, {@code --tls-trust} (PEM files) serve over TLS,
 * and {@code --tls-mutual} also requires client certificates. {@code --exit-with-parent}: exit when standard input closes (the launcher holds it).
 * Exit codes: 0 after a normal shutdown, 2 for a usage error.
 */
public final class StageHostMain {

    private StageHostMain() {
    }

    public static void main(String[] args) throws Exception {
        String bind = "127.0.0.1";
        int port = 0;
        String token = System.getenv(LocalLauncher.TOKEN_ENV);
        boolean exitWithParent = false;
        String cert = null;
        String key = null;
        String trust = null;
        boolean mutual = false;
        Tls tls = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--bind" -> bind = value(args, ++i, "--bind");
                    case "--port" -> port = Integer.parseInt(value(args, ++i, "--port"));
                    case "--token-file" -> token = Files.readString(Path.of(value(args, ++i, "--token-file")),
                            StandardCharsets.UTF_8).strip();
                    case "--exit-with-parent" -> exitWithParent = true;
                    case "--tls-cert" -> cert = value(args, ++i, "--tls-cert");
                    case "--tls-key" -> key = value(args, ++i, "--tls-key");
                    case "--tls-trust" -> trust = value(args, ++i, "--tls-trust");
                    case "--tls-mutual" -> mutual = true;
                    case "--help", "-h" -> {
                        System.out.println(usage());
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port must be 0..65535, got " + port);
            }
            if (cert != null || key != null || trust != null || mutual) {
                if (cert == null || key == null || trust == null) {
                    throw new IllegalArgumentException("TLS needs --tls-cert, --tls-key and --tls-trust together");
                }
                tls = new Tls(new java.io.File(cert), new java.io.File(key), new java.io.File(trust), mutual);
            }
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("no access token: set " + LocalLauncher.TOKEN_ENV
                        + " or give --token-file (the coordinator uses the same token)");
            }
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("stage host: " + e.getMessage() + "\n" + usage());
            System.exit(2);
            return;
        }
        StageHost host = StageHost.start(bind, port, token, tls);
        System.out.println("stage host listening on " + bind + ":" + host.port());
        System.out.flush();
        if (exitWithParent) {
            Thread watch = new Thread(() -> {
                try (InputStream in = System.in) {
                    while (in.read() >= 0) {
                        // the launcher writes nothing; end of input means it is gone
                    }
                } catch (IOException ignored) {
                    // treated as the end
                }
                // exit with the shutdown hooks (the host's close, a JFR dump), but never wait on them for long
                Thread halt = new Thread(() -> {
                    try {
                        Thread.sleep(5_000);
                    } catch (InterruptedException ignored) {
                        // exiting anyway
                    }
                    Runtime.getRuntime().halt(0);
                }, "parent-watch-halt");
                halt.setDaemon(true);
                halt.start();
                System.exit(0);
            }, "parent-watch");
            watch.setDaemon(true);
            watch.start();
        }
        Runtime.getRuntime().addShutdownHook(new Thread(host::close));
        host.awaitTermination();
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static String usage() {
        return "usage: java -cp <classpath> " + StageHostMain.class.getName()
                + " [--bind ADDRESS (127.0.0.1)] [--port N (0: a free port)] [--token-file FILE] [--exit-with-parent]\n"
                + "  [--tls-cert CHAIN.pem --tls-key KEY.pem (PKCS#8) --tls-trust CA.pem [--tls-mutual]]\n"
                + "the access token comes from --token-file or the " + LocalLauncher.TOKEN_ENV + " environment variable";
    }
}
