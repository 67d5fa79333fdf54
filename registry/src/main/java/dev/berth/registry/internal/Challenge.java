package dev.berth.registry.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One challenge of a {@code WWW-Authenticate} header (RFC 9110 section 11.6.1): a scheme and its
 * parameters, e.g. {@code Bearer realm="https://auth.docker.io/token",service="registry.docker.io"}.
 * Scheme and parameter names are case-insensitive and kept in lowercase.
 */
public record Challenge(String scheme, Map<String, String> params) {

    public Challenge {
        scheme = scheme.toLowerCase(Locale.ROOT);
        params = Map.copyOf(params);
    }

    public boolean isBearer() {
        return scheme.equals("bearer");
    }

    public boolean isBasic() {
        return scheme.equals("basic");
    }

    public Optional<String> param(String name) {
        return Optional.ofNullable(params.get(name.toLowerCase(Locale.ROOT)));
    }

    /**
     * Every challenge in the given header values. A value may hold several challenges separated by commas,
     * which also separate parameters: a token followed by {@code =} is a parameter, any other token starts
     * the next challenge. Malformed parts are skipped rather than failing the whole header.
     */
    public static List<Challenge> parse(List<String> headerValues) {
        List<Challenge> out = new ArrayList<>();
        for (String v : headerValues) {
            parseOne(v, out);
        }
        return out;
    }

    /** The challenge berth prefers among several: Bearer, then Basic. */
    public static Optional<Challenge> preferred(List<Challenge> challenges) {
        return challenges.stream().filter(Challenge::isBearer).findFirst()
                .or(() -> challenges.stream().filter(Challenge::isBasic).findFirst());
    }

    private static void parseOne(String s, List<Challenge> out) {
        Cursor c = new Cursor(s);
        c.skip(" \t,");
        while (!c.end()) {
            String scheme = c.token();
            if (scheme.isEmpty()) {
                c.pos++;
                c.skip(" \t,");
                continue;
            }
            Map<String, String> params = new LinkedHashMap<>();
            while (true) {
                int save = c.pos;
                c.skip(" \t,");
                String name = c.token();
                c.skip(" \t");
                if (name.isEmpty() || c.peek() != '=') {
                    c.pos = save; // not a parameter: the next challenge starts here
                    break;
                }
                c.pos++;
                c.skip(" \t");
                String value = c.peek() == '"' ? c.quoted() : c.token68();
                params.put(name.toLowerCase(Locale.ROOT), value);
            }
            out.add(new Challenge(scheme, params));
            c.skip(" \t,");
        }
    }

    private static final class Cursor {
        final String s;
        int pos;

        Cursor(String s) {
            this.s = s;
        }

        boolean end() {
            return pos >= s.length();
        }

        char peek() {
            return end() ? '\0' : s.charAt(pos);
        }

        void skip(String chars) {
            while (!end() && chars.indexOf(s.charAt(pos)) >= 0) {
                pos++;
            }
        }

        /** An RFC 9110 token: visible characters except separators. */
        String token() {
            int start = pos;
            while (!end() && isTokenChar(s.charAt(pos))) {
                pos++;
            }
            return s.substring(start, pos);
        }

        /** A token or token68 value (letters, digits and {@code -._~+/=}), up to a comma or space. */
        String token68() {
            int start = pos;
            while (!end() && s.charAt(pos) != ',' && s.charAt(pos) != ' ' && s.charAt(pos) != '\t') {
                pos++;
            }
            return s.substring(start, pos);
        }

        String quoted() {
            StringBuilder b = new StringBuilder();
            pos++;
            while (!end()) {
                char ch = s.charAt(pos++);
                if (ch == '\\' && !end()) {
                    b.append(s.charAt(pos++));
                } else if (ch == '"') {
                    return b.toString();
                } else {
                    b.append(ch);
                }
            }
            return b.toString();
        }

        private static boolean isTokenChar(char ch) {
            return ch > 32 && ch < 127 && "()<>@,;:\\\"/[]?={} \t".indexOf(ch) < 0;
        }
    }
}
