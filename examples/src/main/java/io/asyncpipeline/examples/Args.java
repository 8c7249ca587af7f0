package io.asyncpipeline.examples;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code --name value} / {@code --name=value} options with defaults; unknown names, missing values and bad
 * numbers throw {@link IllegalArgumentException} naming the option. {@code -h}/{@code --help} throws one
 * whose message is {@code "help"}.
 */
final class Args {

    private final Map<String, String> values;

    private Args(Map<String, String> values) {
        this.values = values;
    }

    /** Parses {@code args} against {@code defaults} (option name without dashes → default value). */
    static Args parse(String[] args, Map<String, String> defaults) {
        Map<String, String> v = new LinkedHashMap<>(defaults);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                throw new IllegalArgumentException("help");
            }
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'");
            }
            String key = a.substring(2);
            String value;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("option --" + key + " needs a value");
            }
            if (!v.containsKey(key)) {
                throw new IllegalArgumentException("unknown option --" + key + "; options: " + defaults.keySet());
            }
            v.put(key, value);
        }
        return new Args(v);
    }

    /**
     * Runs a main's option parsing; on {@code --help} prints {@code usage} and exits 0, on a bad option prints
     * the error and {@code usage} and exits 1.
     */
    static <T> T orExit(java.util.function.Supplier<T> parse, String usage) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            boolean help = "help".equals(e.getMessage());
            if (!help) {
                System.err.println("error: " + e.getMessage());
            }
            System.err.println("usage: " + usage);
            System.exit(help ? 0 : 1);
            throw e;                                    // not reached
        }
    }

    String string(String name) {
        return values.get(name);
    }

    int positiveInt(String name) {
        int n;
        try {
            n = Integer.parseInt(values.get(name));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs an integer, got '" + values.get(name) + "'");
        }
        if (n <= 0) {
            throw new IllegalArgumentException("--" + name + " must be > 0, got " + n);
        }
        return n;
    }

    long longValue(String name) {
        try {
            return Long.parseLong(values.get(name));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs an integer, got '" + values.get(name) + "'");
        }
    }

    double positiveDouble(String name) {
        double d;
        try {
            d = Double.parseDouble(values.get(name));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs a number, got '" + values.get(name) + "'");
        }
        if (!(d > 0) || Double.isInfinite(d)) {
            throw new IllegalArgumentException("--" + name + " must be a finite number > 0, got " + d);
        }
        return d;
    }
}
