package dev.berth.builder.context;

import dev.berth.builder.BuildException;
import java.util.Objects;

/**
 * A shell file name pattern with Go's {@code filepath.Match} syntax and semantics, as COPY and ADD use for
 * source wildcards (buildkit matches each path element with {@code filepath.Match}):
 * <ul>
 *   <li>{@code *} any sequence of characters except {@code /}; {@code ?} one character except {@code /};
 *   <li>{@code [abc]}, {@code [a-z]}, {@code [^a-z]}: a character class, never empty; only {@code ^} negates
 *       (a leading {@code !} is an ordinary character in Go, unlike in sh);
 *   <li>{@code \c} the character c, inside and outside classes.
 * </ul>
 * A malformed pattern ({@code [}, {@code [a}, {@code [-a]}, {@code a\}) is rejected when compiled with
 * Go's error, {@value #BAD_PATTERN}: Go checks the whole pattern even when a match fails early.
 * Characters are compared as Unicode code points.
 */
public final class Wildcard {
    /** Go's {@code filepath.ErrBadPattern}. */
    public static final String BAD_PATTERN = "syntax error in pattern";

    private static final int SEPARATOR = '/';
    private static final int NO_MATCH = -1;
    private static final int[] EMPTY = new int[0];

    private final String pattern;
    private final int[] p;

    private Wildcard(String pattern) {
        this.pattern = pattern;
        this.p = pattern.codePoints().toArray();
    }

    /** Compiles a pattern; throws {@link BuildException} ({@code syntax error in pattern "[a"}) if malformed. */
    public static Wildcard compile(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        Wildcard w = new Wildcard(pattern);
        try {
            w.match(EMPTY); // Go's Match validates every chunk of the pattern, whatever the name
        } catch (BadPattern e) {
            throw new BuildException(BAD_PATTERN + " " + quote(pattern));
        }
        return w;
    }

    /** Go's {@code filepath.Match(pattern, name)}. */
    public static boolean match(String pattern, String name) {
        return compile(pattern).matches(name);
    }

    /** Whether a path has any of the characters that make it a pattern ({@code * ? [ \}), as Go's Glob decides. */
    public static boolean hasMeta(String path) {
        return path.indexOf('*') >= 0 || path.indexOf('?') >= 0 || path.indexOf('[') >= 0 || path.indexOf('\\') >= 0;
    }

    /** Whether the whole of {@code name} matches. */
    public boolean matches(String name) {
        return match(name.codePoints().toArray());
    }

    public String pattern() {
        return pattern;
    }

    @Override
    public String toString() {
        return pattern;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Wildcard w && w.pattern.equals(pattern);
    }

    @Override
    public int hashCode() {
        return pattern.hashCode();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** A malformed pattern; {@link #compile} reports it. */
    static final class BadPattern extends RuntimeException {
        BadPattern() {
            super(null, null, false, false);
        }
    }

    /** Go's algorithm: the pattern is a sequence of chunks, each a run of non-star terms after optional stars. */
    private boolean match(int[] name) {
        int pi = 0;
        int ni = 0;
        pattern:
        while (pi < p.length) {
            boolean star = false;
            while (pi < p.length && p[pi] == '*') {
                pi++;
                star = true;
            }
            int chunkStart = pi;
            int chunkEnd = chunkEnd(pi);
            pi = chunkEnd;
            if (star && chunkStart == chunkEnd) {
                // Trailing * matches the rest of the name unless it has a /.
                for (int i = ni; i < name.length; i++) {
                    if (name[i] == SEPARATOR) {
                        return false;
                    }
                }
                return true;
            }
            int t = matchChunk(chunkStart, chunkEnd, name, ni);
            if (t != NO_MATCH && (t == name.length || pi < p.length)) {
                ni = t;
                continue;
            }
            if (star) {
                // A star takes one more character (never a /) at a time.
                for (int i = ni; i < name.length && name[i] != SEPARATOR; i++) {
                    t = matchChunk(chunkStart, chunkEnd, name, i + 1);
                    if (t != NO_MATCH) {
                        if (pi == p.length && t < name.length) {
                            continue; // the last chunk must reach the end of the name
                        }
                        ni = t;
                        continue pattern;
                    }
                }
            }
            // No match; the rest of the pattern must still be well-formed.
            while (pi < p.length) {
                while (pi < p.length && p[pi] == '*') {
                    pi++;
                }
                int end = chunkEnd(pi);
                matchChunk(pi, end, EMPTY, 0);
                pi = end;
            }
            return false;
        }
        return ni == name.length;
    }

    /** Where the chunk starting at {@code from} ends: at the next star outside brackets. */
    private int chunkEnd(int from) {
        boolean inRange = false;
        int i = from;
        for (; i < p.length; i++) {
            int c = p[i];
            if (c == '\\') {
                if (i + 1 < p.length) {
                    i++;
                }
            } else if (c == '[') {
                inRange = true;
            } else if (c == ']') {
                inRange = false;
            } else if (c == '*' && !inRange) {
                break;
            }
        }
        return i;
    }

    /**
     * Matches the chunk {@code p[cs..ce)} at the start of {@code s[si..]}: the index after the match, or
     * {@link #NO_MATCH}. Keeps parsing after a mismatch so that a malformed chunk is always reported.
     */
    private int matchChunk(int cs, int ce, int[] s, int si) {
        boolean failed = false;
        int pc = cs;
        while (pc < ce) {
            if (!failed && si == s.length) {
                failed = true;
            }
            int c = p[pc];
            if (c == '[') {
                int r = 0;
                if (!failed) {
                    r = s[si++];
                }
                CharClass cls = CharClass.parse(p, pc, ce);
                pc = cls.end();
                if (!cls.matches(r)) {
                    failed = true;
                }
            } else if (c == '?') {
                if (!failed) {
                    if (s[si] == SEPARATOR) {
                        failed = true;
                    }
                    si++;
                }
                pc++;
            } else {
                if (c == '\\') {
                    pc++;
                    if (pc == ce) {
                        throw new BadPattern();
                    }
                }
                if (!failed) {
                    if (p[pc] != s[si]) {
                        failed = true;
                    }
                    si++;
                }
                pc++;
            }
        }
        return failed ? NO_MATCH : si;
    }

    /**
     * A bracket expression {@code [^lo-hi...]} as Go's {@code filepath.Match} reads it: an optional
     * {@code ^}, then at least one range, each end possibly escaped; neither end may be an unescaped
     * {@code -} or {@code ]}, and the pattern must not end inside.
     *
     * @param end the index just after the closing {@code ]}
     */
    record CharClass(boolean negated, int[] lows, int[] highs, int end) {
        /** Parses the class whose {@code [} is at {@code open}; {@code limit} is where the chunk ends. */
        static CharClass parse(int[] p, int open, int limit) {
            int pc = open + 1;
            boolean negated = pc < limit && p[pc] == '^';
            if (negated) {
                pc++;
            }
            java.util.List<int[]> ranges = new java.util.ArrayList<>();
            while (true) {
                if (pc < limit && p[pc] == ']' && !ranges.isEmpty()) {
                    pc++;
                    break;
                }
                int[] lo = escaped(p, pc, limit);
                int[] hi = lo;
                pc = lo[1];
                if (p[pc] == '-') {
                    hi = escaped(p, pc + 1, limit);
                    pc = hi[1];
                }
                ranges.add(new int[] {lo[0], hi[0]});
            }
            return new CharClass(negated, ranges.stream().mapToInt(r -> r[0]).toArray(),
                    ranges.stream().mapToInt(r -> r[1]).toArray(), pc);
        }

        /** One class character: {char, index after it}. */
        private static int[] escaped(int[] p, int pc, int limit) {
            if (pc >= limit || p[pc] == '-' || p[pc] == ']') {
                throw new BadPattern();
            }
            if (p[pc] == '\\') {
                pc++;
                if (pc >= limit) {
                    throw new BadPattern();
                }
            }
            int c = p[pc++];
            if (pc >= limit) {
                throw new BadPattern(); // the class is not closed
            }
            return new int[] {c, pc};
        }

        boolean matches(int c) {
            boolean in = false;
            for (int i = 0; i < lows.length; i++) {
                if (lows[i] <= c && c <= highs[i]) {
                    in = true;
                    break;
                }
            }
            return in != negated;
        }
    }
}
