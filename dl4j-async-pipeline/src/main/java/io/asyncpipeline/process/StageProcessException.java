package io.asyncpipeline.process;

/**
 * What failed in a stage process, as that process reported it: the exception's class, its message, and its stack
 * trace there (kept in {@link #remoteStackTrace()} and printed with this exception).
 */
public final class StageProcessException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String remoteClass;
    private final String remoteStackTrace;

    StageProcessException(String remoteClass, String message, String remoteStackTrace) {
        super(remoteClass + ": " + message);
        this.remoteClass = remoteClass;
        this.remoteStackTrace = remoteStackTrace;
    }

    /** The class name of the exception thrown in the stage process. */
    public String remoteClass() {
        return remoteClass;
    }

    /** Its stack trace in the stage process. */
    public String remoteStackTrace() {
        return remoteStackTrace;
    }

    @Override
    public void printStackTrace(java.io.PrintStream s) {
        super.printStackTrace(s);
        s.println("In the stage process: " + remoteStackTrace);
    }

    @Override
    public void printStackTrace(java.io.PrintWriter s) {
        super.printStackTrace(s);
        s.println("In the stage process: " + remoteStackTrace);
    }
}
