package io.asyncpipeline.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A CSV table: a header and rows of the same width, written as RFC 4180 text (UTF-8, lines ending in LF). A field
 * holding a comma, a double quote, a line break or leading/trailing blanks is quoted, with inner quotes doubled;
 * {@code null} and NaN are empty fields; numbers are written with {@link Double#toString}/{@link Long#toString},
 * independent of the locale.
 */
final class Csv {

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    Csv(String... header) {
        if (header.length == 0) {
            throw new IllegalArgumentException("a CSV needs at least one column");
        }
        this.header = List.of(header);
    }

    /** Appends a row; it must have one value per column. */
    Csv row(Object... values) {
        if (values.length != header.size()) {
            throw new IllegalArgumentException("expected " + header.size() + " values " + header + ", got "
                    + values.length);
        }
        List<String> r = new ArrayList<>(values.length);
        for (Object v : values) {
            r.add(field(v));
        }
        rows.add(r);
        return this;
    }

    int rows() {
        return rows.size();
    }

    String text() {
        StringBuilder sb = new StringBuilder();
        line(sb, header);
        for (List<String> r : rows) {
            line(sb, r);
        }
        return sb.toString();
    }

    /** Writes the table to {@code file}, replacing it in one move (a reader never sees half a file). */
    void write(Path file) throws IOException {
        ResultFiles.replace(file, out -> out.write(text().getBytes(StandardCharsets.UTF_8)));
    }

    private static void line(StringBuilder sb, List<String> fields) {
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(quote(fields.get(i)));
        }
        sb.append('\n');
    }

    /** The text of one value, before quoting. */
    static String field(Object v) {
        if (v == null) {
            return "";
        }
        if (v instanceof Double d) {
            return d.isNaN() ? "" : Double.toString(d);
        }
        if (v instanceof Float f) {
            return f.isNaN() ? "" : Float.toString(f);
        }
        return v.toString();
    }

    /** {@code s} as a CSV field: quoted when it holds a comma, quote, CR, LF, or blanks at either end. */
    static String quote(String s) {
        boolean needs = s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0
                || (!s.isEmpty() && (Character.isWhitespace(s.charAt(0))
                        || Character.isWhitespace(s.charAt(s.length() - 1))));
        return needs ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }
}
