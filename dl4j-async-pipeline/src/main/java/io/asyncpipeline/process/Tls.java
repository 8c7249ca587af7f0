package io.asyncpipeline.process;

import java.io.File;

/**
 * TLS for every connection between the processes of a pipeline, with PEM files the user provides: each stage
 * process serves with {@code certificateChain} and {@code privateKey} (PKCS#8), every client (the coordinator, and a
 * stage process calling its neighbour) trusts the authorities in {@code trustedCertificates}, and with
 * {@code mutual} every server also requires a client certificate signed by them, which the clients present from the
 * same files. Clients check the server's name: the certificate must name the host as it appears in the address
 * (e.g. {@code IP:127.0.0.1}).
 */
public record Tls(File certificateChain, File privateKey, File trustedCertificates, boolean mutual) {

    public Tls {
        for (File f : new File[] {certificateChain, privateKey, trustedCertificates}) {
            if (f == null) {
                throw new IllegalArgumentException("TLS needs a certificate chain, a private key and trusted certificates");
            }
            if (!f.isFile()) {
                throw new IllegalArgumentException("TLS file " + f + " does not exist or is not a file");
            }
        }
    }
}
