package io.asyncpipeline.examples.data;

/** A data set's files are not installed; the message says how to install them. */
public final class MissingDatasetException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public MissingDatasetException(String message) {
        super(message);
    }
}
