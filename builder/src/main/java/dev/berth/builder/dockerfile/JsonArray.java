package dev.berth.builder.dockerfile;

import java.util.ArrayList;
import java.util.List;

/**
 * The exec-form reader: is the rest of an instruction a JSON array of strings? Three answers matter to
 * the Dockerfile syntax, and they follow Go's {@code encoding/json}: anything that is not valid JSON (single
 * quotes, a missing bracket, trailing text, a raw tab inside a string) is {@link NotJson} and the line is
 * taken in shell form instead; a valid array holding anything but strings is {@link NotStrings}, an error;
 * otherwise the strings.
 */
final class JsonArray {
    private JsonArray() {}

    sealed interface Result permits NotJson, NotStrings, Strings {}

    record NotJson() implements Result {}

    record NotStrings() implements Result {}

    record Strings(List<String> values) implements Result {}

    static final String NOT_STRINGS_MESSAGE = "when using JSON array syntax, arrays must be comprised of strings only";

    static Result parse(String rest) {
        String s = GoStrings.trimLeftSpace(rest);
        if (!s.startsWith("[")) {
            return new NotJson();
        }
        Reader r = new Reader(s);
        try {
            r.ws();
            List<Object> array = r.array();
            r.ws();
            if (!r.atEnd()) {
                return new NotJson();
            }
            List<String> strings = new ArrayList<>(array.size());
            for (Object o : array) {
                if (!(o instanceof String str)) {
                    return new NotStrings();
                }
                strings.add(str);
            }
            return new Strings(List.copyOf(strings));
        } catch (Syntax e) {
            return new NotJson();
        }
    }

    private static final class Syntax extends RuntimeException {
        Syntax() {
            super(null, null, false, false);
        }
    }

    /** A strict RFC 8259 reader; values other than strings are parsed only to be recognised. */
    private static final class Reader {
        private static final Object OTHER = new Object();
        private final String s;
        private int pos;

        Reader(String s) {
            this.s = s;
        }

        boolean atEnd() {
            return pos == s.length();
        }

        void ws() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        char peek() {
            if (pos >= s.length()) {
                throw new Syntax();
            }
            return s.charAt(pos);
        }

        void expect(char c) {
            if (peek() != c) {
                throw new Syntax();
            }
            pos++;
        }

        Object value() {
            char c = peek();
            return switch (c) {
                case '[' -> array();
                case '{' -> object();
                case '"' -> string();
                case 't' -> literal("true");
                case 'f' -> literal("false");
                case 'n' -> literal("null");
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        number();
                        yield OTHER;
                    }
                    throw new Syntax();
                }
            };
        }

        List<Object> array() {
            expect('[');
            List<Object> out = new ArrayList<>();
            ws();
            if (peek() == ']') {
                pos++;
                return out;
            }
            while (true) {
                ws();
                out.add(value());
                ws();
                char c = peek();
                pos++;
                if (c == ']') {
                    return out;
                }
                if (c != ',') {
                    throw new Syntax();
                }
            }
        }

        Object object() {
            expect('{');
            ws();
            if (peek() == '}') {
                pos++;
                return OTHER;
            }
            while (true) {
                ws();
                string();
                ws();
                expect(':');
                ws();
                value();
                ws();
                char c = peek();
                pos++;
                if (c == '}') {
                    return OTHER;
                }
                if (c != ',') {
                    throw new Syntax();
                }
            }
        }

        Object literal(String word) {
            if (!s.startsWith(word, pos)) {
                throw new Syntax();
            }
            pos += word.length();
            return OTHER;
        }

        void number() {
            if (peek() == '-') {
                pos++;
            }
            if (peek() == '0') {
                pos++;
            } else {
                digits();
            }
            if (pos < s.length() && s.charAt(pos) == '.') {
                pos++;
                digits();
            }
            if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                pos++;
                if (peek() == '+' || peek() == '-') {
                    pos++;
                }
                digits();
            }
        }

        void digits() {
            int start = pos;
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                pos++;
            }
            if (pos == start) {
                throw new Syntax();
            }
        }

        String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (true) {
                char c = peek();
                pos++;
                if (c == '"') {
                    return out.toString();
                }
                if (c < 0x20) {
                    throw new Syntax();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char e = peek();
                pos++;
                switch (e) {
                    case '"', '\\', '/' -> out.append(e);
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        int unit = hex4();
                        if (Character.isHighSurrogate((char) unit) && s.startsWith("\\u", pos)) {
                            int save = pos;
                            pos += 2;
                            int low = hex4();
                            if (Character.isLowSurrogate((char) low)) {
                                out.appendCodePoint(Character.toCodePoint((char) unit, (char) low));
                                continue;
                            }
                            pos = save; // not a pair: the next escape is read on its own
                        }
                        // A lone surrogate is not a character: Go's decoder substitutes U+FFFD.
                        out.append(Character.isSurrogate((char) unit) ? '\uFFFD' : (char) unit);
                    }
                    default -> throw new Syntax();
                }
            }
        }

        int hex4() {
            if (pos + 4 > s.length()) {
                throw new Syntax();
            }
            int v = 0;
            for (int i = 0; i < 4; i++) {
                int d = Character.digit(s.charAt(pos + i), 16);
                if (d < 0 || s.charAt(pos + i) > 'f') {
                    throw new Syntax();
                }
                v = v * 16 + d;
            }
            pos += 4;
            return v;
        }
    }
}
