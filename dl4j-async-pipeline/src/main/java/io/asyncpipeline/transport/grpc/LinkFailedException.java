package io.asyncpipeline.transport.grpc;

/** A stream between two stages failed or closed early; names the link (run, cut, direction) and what happened. */
public final class LinkFailedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    LinkFailedException(String link, String what) {
        super("link " + link + ": " + what);
    }
}
