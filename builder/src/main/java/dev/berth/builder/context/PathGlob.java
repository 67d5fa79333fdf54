package dev.berth.builder.context;

import java.util.BitSet;
import java.util.List;

/**
 * A {@code .dockerignore} pattern with wildcards, matched by simulating its automaton: every position in
 * the pattern the path could have reached is kept as a set and advanced one character at a time, so a
 * match costs the path's length times the pattern's, whatever runs of {@code **} and {@code *} it holds.
 * moby compiles a pattern to a Go regexp, which is linear in the same way; {@code java.util.regex}
 * backtracks, exponentially on such patterns against deep paths.
 *
 * <p>Its meaning is that regexp's: {@code *} is {@code [^/]*}, {@code ?} is {@code [^/]}, a class as
 * written, {@code **} followed by more is {@code (?:.*&#47;)?} and at the end {@code .*} ({@code .} being
 * anything but a newline, as in Go).
 */
final class PathGlob {
    /** One element of a pattern. */
    sealed interface Token {}

    /** A character as it is. */
    record Literal(int cp) implements Token {}

    /** {@code ?}: one character but {@code /}. */
    record NotSlash() implements Token {}

    /** {@code [...]}. */
    record Class(Wildcard.CharClass cls) implements Token {}

    /** {@code *}: a run of characters without {@code /}. */
    record Star() implements Token {}

    /** {@code **} before more of the pattern: nothing, or anything ending in {@code /}. */
    record AnyDirs() implements Token {}

    /** {@code **} at the end: anything. */
    record AnyTail() implements Token {}

    private final Token[] tokens;

    PathGlob(List<Token> tokens) {
        this.tokens = tokens.toArray(new Token[0]);
    }

    boolean matches(String path) {
        int n = tokens.length;
        // states 0..n: before token i (n: the end); n+1+i: inside the ".*" of an AnyDirs at i
        BitSet cur = new BitSet(2 * n + 2);
        cur.set(0);
        closure(cur);
        BitSet next = new BitSet(2 * n + 2);
        for (int at = 0; at < path.length() && !cur.isEmpty(); ) {
            int c = path.codePointAt(at);
            at += Character.charCount(c);
            next.clear();
            for (int s = cur.nextSetBit(0); s >= 0; s = cur.nextSetBit(s + 1)) {
                if (s > n) { // inside AnyDirs i
                    int i = s - n - 1;
                    if (c != '\n') {
                        next.set(s);
                    }
                    if (c == '/') {
                        next.set(i + 1);
                    }
                    continue;
                }
                if (s == n) {
                    continue;
                }
                switch (tokens[s]) {
                    case Literal l -> {
                        if (l.cp() == c) {
                            next.set(s + 1);
                        }
                    }
                    case NotSlash q -> {
                        if (c != '/') {
                            next.set(s + 1);
                        }
                    }
                    case Class k -> {
                        if (k.cls().matches(c)) {
                            next.set(s + 1);
                        }
                    }
                    case Star st -> {
                        if (c != '/') {
                            next.set(s);
                        }
                    }
                    case AnyDirs d -> {
                        if (c != '\n') {
                            next.set(n + 1 + s);
                        }
                        if (c == '/') {
                            next.set(s + 1);
                        }
                    }
                    case AnyTail t -> {
                        if (c != '\n') {
                            next.set(s);
                        }
                    }
                }
            }
            BitSet swap = cur;
            cur = next;
            next = swap;
            closure(cur);
        }
        return cur.get(n);
    }

    /** Adds what the states reach without a character: past a {@code *} or {@code **}, which may be empty. */
    private void closure(BitSet states) {
        for (int s = states.nextSetBit(0); s >= 0 && s < tokens.length; s = states.nextSetBit(s + 1)) {
            if (tokens[s] instanceof Star || tokens[s] instanceof AnyDirs || tokens[s] instanceof AnyTail) {
                states.set(s + 1);
            }
        }
    }
}
