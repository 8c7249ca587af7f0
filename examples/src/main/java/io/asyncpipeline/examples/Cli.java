package io.asyncpipeline.examples;

import io.asyncpipeline.examples.data.MissingDatasetException;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Runs an example main's picocli command and returns its exit code, the same for every main:
 *
 * <ul>
 *   <li>{@value #OK}: success, and {@code --help} / {@code --version};</li>
 *   <li>1: any other failure, with its stack trace (picocli's default);</li>
 *   <li>{@value #USAGE}: a usage error, that is an unknown option, a value that does not convert, or a value the
 *       command rejects (it throws {@link CommandLine.ParameterException}, see {@link #invalid}); the message and the
 *       usage go to standard error;</li>
 *   <li>{@value #MISSING_DATA}: a data set is not installed ({@link MissingDatasetException}); its message, which
 *       says how to install the data, goes to standard error without a stack trace.</li>
 * </ul>
 *
 * <pre>public static void main(String[] args) { System.exit(Cli.execute(new MyMain(), args)); }</pre>
 */
public final class Cli {

    public static final int OK = CommandLine.ExitCode.OK;
    public static final int USAGE = CommandLine.ExitCode.USAGE;
    public static final int MISSING_DATA = 3;

    private Cli() {
    }

    /** Parses {@code args} into {@code command}, runs it and returns the exit code. */
    public static int execute(Object command, String... args) {
        return commandLine(command).execute(args);
    }

    /** The command line {@link #execute} runs, for callers that set its output streams (tests). */
    static CommandLine commandLine(Object command) {
        CommandLine cl = new CommandLine(command);
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put(" " + OK, "success");
        codes.put(" 1", "any other failure (with a stack trace)");
        codes.put(" " + USAGE, "usage error: unknown option or bad value");
        codes.put(" " + MISSING_DATA, "a data set is not installed (the message says how to install it)");
        cl.getCommandSpec().usageMessage().exitCodeListHeading("Exit codes:%n").exitCodeList(codes);
        cl.getCommandSpec().versionProvider(new Version());
        // the message, picocli's suggestions for a mistyped option, and always the usage
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            java.io.PrintWriter err = c.getErr();
            err.println(ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
            c.usage(err, c.getColorScheme());
            err.flush();
            return c.getCommandSpec().exitCodeOnInvalidInput();
        });
        cl.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            if (e instanceof MissingDatasetException) {
                cmd.getErr().println("error: " + e.getMessage());
                cmd.getErr().flush();
                return MISSING_DATA;
            }
            throw e;
        });
        return cl;
    }

    /** {@code --version}: the examples' Maven version, from the {@code version.properties} resource Maven filters. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Cli.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"dl4j-async-pipeline examples " + p.getProperty("version", "(version unknown)")};
        }
    }

    /** A usage error (exit code {@value #USAGE}) of the command {@code spec} describes. */
    static CommandLine.ParameterException invalid(CommandSpec spec, String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** {@code value} if it is at least 1, else a usage error naming {@code option}. */
    static int positive(CommandSpec spec, String option, int value) {
        if (value < 1) {
            throw invalid(spec, option + " must be at least 1, got " + value);
        }
        return value;
    }

    /** {@code value} if it is finite and above 0, else a usage error naming {@code option}. */
    static double positive(CommandSpec spec, String option, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw invalid(spec, option + " must be a finite number above 0, got " + value);
        }
        return value;
    }
}
