package io.asyncpipeline.transport;

/** Bytes that are not a well-formed {@link Message}; the message names the first field that is wrong. */
public final class MalformedMessageException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public MalformedMessageException(String problem) {
        super("malformed pipeline message: " + problem);
    }

    public MalformedMessageException(String problem, Throwable cause) {
        super("malformed pipeline message: " + problem, cause);
    }
}
