package dev.berth.builder.dockerfile;

import dev.berth.builder.BuildException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Dockerfile variable expansion and word splitting, as buildkit's {@code shell.Lex} does it: {@code $V},
 * {@code ${V}}, the modifiers {@code :- - :+ + :? ? # ## % %% / //}, single and double quotes, and the
 * file's escape character. It is deliberately not a shell: no command substitution, no globbing, no
 * arithmetic; {@code $1}, {@code $@} and the other positional and special parameters are always unset.
 *
 * <p>Quoting rules: outside quotes the escape character escapes any character (and is dropped at the end of
 * the input); inside {@code "..."} it escapes only {@code "}, {@code $} and itself; {@code '...'} is fully
 * literal. Quotes are removed unless {@link Option#RAW_QUOTES} is set.
 *
 * <p>{@link #process} returns both readings of the input: the expanded string (what {@code ENV}, {@code COPY}
 * and most instructions use) and the words it splits into after expansion, on unquoted whitespace (what
 * {@code EXPOSE} uses), plus the names of the variables that were looked up, which the builder needs for
 * the cache key and to warn about unused build args. Instances are immutable and thread-safe.
 */
public final class ShellLexer {
    /** Variations buildkit uses internally; ordinary expansion uses none of them. */
    public enum Option {
        /** Keep quote characters in the output (quotes still group words). */
        RAW_QUOTES,
        /** Keep escape characters in the output (the escaped character is still taken literally). */
        RAW_ESCAPES,
        /** Treat quotes as ordinary characters: used to expand heredoc bodies for COPY and ADD. */
        SKIP_PROCESS_QUOTES,
        /** Leave references to unset variables as written ({@code $X}, {@code ${X:-y}}). */
        SKIP_UNSET
    }

    /**
     * The outcome of one expansion.
     *
     * @param value the expanded text (ProcessWord)
     * @param words the expanded text split into words on unquoted whitespace (ProcessWords)
     * @param referenced variables that were looked up and set
     * @param undefined variables that were looked up and not set
     */
    public record Result(String value, List<String> words, Set<String> referenced, Set<String> undefined) {
        public Result {
            words = List.copyOf(words);
            referenced = Collections.unmodifiableSet(new LinkedHashSet<>(referenced));
            undefined = Collections.unmodifiableSet(new LinkedHashSet<>(undefined));
        }
    }

    private static final int EOF = -1;

    private final char escape;
    private final Set<Option> options;

    public ShellLexer(char escape) {
        this(escape, Set.of());
    }

    public ShellLexer(char escape, Set<Option> options) {
        if (escape != '\\' && escape != '`') {
            throw new IllegalArgumentException("escape must be \\ or `, not " + escape);
        }
        this.escape = escape;
        this.options = options.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(options));
    }

    public char escape() {
        return escape;
    }

    public Set<Option> options() {
        return options;
    }

    /** Expands {@code word}; throws {@link BuildException} ({@code failed to process "...": why}) on bad syntax. */
    public Result process(String word, Variables env) {
        Run run = new Run(word, env);
        try {
            Stop top = run.stopOn(EOF, options.contains(Option.RAW_ESCAPES));
            return new Result(top.text, top.words, run.referenced, run.undefined);
        } catch (LexError e) {
            // a word too long for one line of an error is cut (buildkit quotes it whole)
            String shown = word.length() <= 200 ? GoStrings.quote(word)
                    : GoStrings.quote(word.substring(0, word.offsetByCodePoints(0, 60))) + "… (" + word.length() + " characters)";
            throw new BuildException("failed to process " + shown + ": " + e.getMessage());
        }
    }

    /** The expanded text of {@code word} (buildkit's {@code ProcessWord}). */
    public String processWord(String word, Variables env) {
        return process(word, env).value();
    }

    /** The words of {@code word} after expansion (buildkit's {@code ProcessWords}). */
    public List<String> processWords(String word, Variables env) {
        return process(word, env).words();
    }

    @Override
    public String toString() {
        return "ShellLexer[escape=" + escape + (options.isEmpty() ? "" : ", " + options) + "]";
    }

    /** A syntax error inside one expansion; {@link #process} turns it into the user-facing message. */
    private static final class LexError extends RuntimeException {
        LexError(String message) {
            super(message, null, false, false);
        }
    }

    private record Stop(String text, List<String> words) {}

    /** Word splitting that runs alongside expansion: unquoted whitespace separates words. */
    private static final class Words {
        private final StringBuilder buf = new StringBuilder();
        private final List<String> words = new ArrayList<>();
        private boolean inWord;

        void addChar(int ch) {
            if (GoStrings.isSpace(ch)) {
                if (inWord && !buf.isEmpty()) {
                    words.add(buf.toString());
                    buf.setLength(0);
                    inWord = false;
                }
            } else {
                addRawChar(ch);
            }
        }

        void addRawChar(int ch) {
            buf.appendCodePoint(ch);
            inWord = true;
        }

        /** Text from a variable: its whitespace splits words, as an unquoted expansion does in sh. */
        void addString(String s) {
            s.codePoints().forEach(this::addChar);
        }

        /** Text from quotes: kept whole. */
        void addRaw(String s) {
            buf.append(s);
            inWord = true;
        }

        List<String> finish() {
            if (!buf.isEmpty()) {
                words.add(buf.toString());
                buf.setLength(0);
                inWord = false;
            }
            return words;
        }
    }

    /**
     * How deep {@code ${...}} may nest inside one another: each level is a few frames of this lexer's
     * recursion, so without a bound a hostile word overflows the stack; no real Dockerfile comes near it.
     */
    static final int MAX_NESTING = 200;

    /** The state of one expansion: a cursor over the input's code points and what was looked up. */
    private final class Run {
        private final int[] cps;
        private int pos;
        private int depth;
        private final Variables env;
        final Set<String> referenced = new LinkedHashSet<>();
        final Set<String> undefined = new LinkedHashSet<>();

        Run(String input, Variables env) {
            this.cps = input.codePoints().toArray();
            this.env = env;
            // Go's text/scanner, which buildkit reads the word with, skips a byte-order mark at the start.
            this.pos = cps.length > 0 && cps[0] == 0xFEFF ? 1 : 0;
        }

        int peek() {
            return pos < cps.length ? cps[pos] : EOF;
        }

        int next() {
            return pos < cps.length ? cps[pos++] : EOF;
        }

        Optional<String> lookup(String name) {
            Optional<String> v = env.get(name);
            (v.isPresent() ? referenced : undefined).add(name);
            return v;
        }

        /** Reads up to (and consumes) {@code stop}, or to the end of the input when {@code stop} is EOF. */
        Stop stopOn(int stop, boolean rawEscapes) {
            StringBuilder result = new StringBuilder();
            Words words = new Words();
            boolean quotes = !options.contains(Option.SKIP_PROCESS_QUOTES);
            while (peek() != EOF) {
                int ch = peek();
                if (stop != EOF && ch == stop) {
                    next();
                    return new Stop(result.toString(), words.finish());
                }
                if (ch == '$') {
                    String value = dollar();
                    result.append(value);
                    words.addString(value);
                    continue;
                }
                if (ch == '<') {
                    String value = possibleHeredoc();
                    result.append(value);
                    words.addRaw(value);
                    continue;
                }
                if (quotes && (ch == '\'' || ch == '"')) {
                    String value = ch == '\'' ? singleQuote() : doubleQuote(rawEscapes);
                    result.append(value);
                    words.addRaw(value);
                    continue;
                }
                ch = next();
                if (ch == escape) {
                    if (rawEscapes) {
                        words.addRawChar(ch);
                        result.appendCodePoint(ch);
                    }
                    ch = next();
                    if (ch == EOF) {
                        break; // an escape at the very end is dropped
                    }
                    words.addRawChar(ch);
                } else {
                    words.addChar(ch);
                }
                result.appendCodePoint(ch);
            }
            if (stop != EOF) {
                throw new LexError("unexpected end of statement while looking for matching " + Character.toString(stop));
            }
            return new Stop(result.toString(), words.finish());
        }

        String singleQuote() {
            boolean raw = options.contains(Option.RAW_QUOTES);
            StringBuilder r = new StringBuilder();
            int ch = next();
            if (raw) {
                r.appendCodePoint(ch);
            }
            while (true) {
                ch = next();
                if (ch == EOF) {
                    throw new LexError("unexpected end of statement while looking for matching single-quote");
                }
                if (ch == '\'') {
                    if (raw) {
                        r.appendCodePoint(ch);
                    }
                    return r.toString();
                }
                r.appendCodePoint(ch);
            }
        }

        String doubleQuote(boolean rawEscapes) {
            boolean raw = options.contains(Option.RAW_QUOTES);
            StringBuilder r = new StringBuilder();
            int ch = next();
            if (raw) {
                r.appendCodePoint(ch);
            }
            while (true) {
                int p = peek();
                if (p == EOF) {
                    throw new LexError("unexpected end of statement while looking for matching double-quote");
                } else if (p == '"') {
                    ch = next();
                    if (raw) {
                        r.appendCodePoint(ch);
                    }
                    return r.toString();
                } else if (p == '$') {
                    r.append(dollar());
                } else {
                    ch = next();
                    if (ch == escape) {
                        if (rawEscapes) {
                            r.appendCodePoint(ch);
                        }
                        int after = peek();
                        if (after == EOF) {
                            continue; // reported as an unterminated quote on the next round
                        }
                        // Inside double quotes only ", $ and the escape character itself can be escaped.
                        if (after == '"' || after == '$' || after == escape) {
                            ch = next();
                        }
                    }
                    r.appendCodePoint(ch);
                }
            }
        }

        String possibleHeredoc() {
            next();
            if (peek() != '<') {
                return "<";
            }
            next();
            StringBuilder space = new StringBuilder("<<");
            while (peek() == '\t' || peek() == '\r' || peek() == ' ') {
                space.appendCodePoint(next());
            }
            return space.toString();
        }

        String dollar() {
            boolean skipUnset = options.contains(Option.SKIP_UNSET);
            next();
            if (peek() != '{') {
                String name = name();
                if (name.isEmpty()) {
                    return "$";
                }
                Optional<String> value = lookup(name);
                if (value.isEmpty() && skipUnset) {
                    return "$" + name;
                }
                return value.orElse("");
            }
            next();
            if (++depth > MAX_NESTING) {
                throw new LexError("${...} nested more than " + MAX_NESTING + " levels deep");
            }
            try {
                return braced(skipUnset);
            } finally {
                depth--;
            }
        }

        /** What follows {@code ${}. */
        private String braced(boolean skipUnset) {
            int first = peek();
            if (first == EOF) {
                throw new LexError("syntax error: missing '}'");
            }
            if (first == '{' || first == '}' || first == ':') {
                throw new LexError("syntax error: bad substitution");
            }
            String name = name();
            int ch = next();
            if (ch == EOF) {
                throw new LexError("syntax error: missing '}'");
            }
            String modifier = Character.toString(ch);
            switch (ch) {
                case '}' -> {
                    Optional<String> value = lookup(name);
                    if (value.isEmpty() && skipUnset) {
                        return "${" + name + "}";
                    }
                    return value.orElse("");
                }
                case ':', '+', '-', '?', '#', '%' -> {
                    boolean nullIsUnset = false;
                    if (ch == ':') {
                        nullIsUnset = true;
                        ch = next();
                        modifier += ch == EOF ? "" : Character.toString(ch);
                    }
                    boolean patternMode = ch == '#' || ch == '%';
                    if (nullIsUnset && patternMode) {
                        throw new LexError("unsupported modifier (" + modifier + ") in substitution");
                    }
                    String word = until('}', patternMode, "syntax error: missing '}'");
                    Optional<String> found = lookup(name);
                    if (found.isEmpty() && skipUnset) {
                        return "${" + name + modifier + word + "}";
                    }
                    boolean set = found.isPresent();
                    String value = found.orElse("");
                    boolean absent = !set || (nullIsUnset && value.isEmpty());
                    return switch (ch) {
                        case '-' -> absent ? word : value;
                        case '+' -> absent ? "" : word;
                        case '?' -> {
                            if (!set) {
                                throw new LexError(name + ": " + (word.isEmpty() ? "is not allowed to be unset" : word));
                            }
                            if (nullIsUnset && value.isEmpty()) {
                                throw new LexError(name + ": " + (word.isEmpty() ? "is not allowed to be empty" : word));
                            }
                            yield value;
                        }
                        case '#', '%' -> {
                            boolean longest = !word.isEmpty() && word.charAt(0) == ch;
                            String pattern = longest ? word.substring(1) : word;
                            yield ch == '%' ? trimSuffix(pattern, value, longest) : trimPrefix(pattern, value, longest);
                        }
                        default -> throw new LexError("unsupported modifier (" + modifier + ") in substitution");
                    };
                }
                case '/' -> {
                    boolean all = peek() == '/';
                    if (all) {
                        next();
                    }
                    String pattern = until('/', true, "syntax error: missing '/' in ${}");
                    String replacement = until('}', true, "syntax error: missing '}'");
                    Optional<String> found = lookup(name);
                    if (found.isEmpty() && skipUnset) {
                        return "${" + name + "/" + pattern + "/" + replacement + "}";
                    }
                    String value = found.orElse("");
                    Pattern re = shellPattern(pattern, true, false);
                    if (all) {
                        return goReplaceAll(re, value, replacement);
                    }
                    Matcher m = re.matcher(value);
                    return m.find() ? value.substring(0, m.start()) + replacement + value.substring(m.end()) : value;
                }
                default -> throw new LexError("unsupported modifier (" + modifier + ") in substitution");
            }
        }

        /** The text of a nested word up to {@code stop}; running out of input is reported as {@code missing}. */
        private String until(int stop, boolean rawEscapes, String missing) {
            try {
                return stopOn(stop, rawEscapes).text;
            } catch (LexError e) {
                if (peek() == EOF) {
                    throw new LexError(missing);
                }
                throw e;
            }
        }

        /** A variable name: letters, digits and {@code _}; or all digits (positional); or one special character. */
        String name() {
            StringBuilder name = new StringBuilder();
            while (peek() != EOF) {
                int ch = peek();
                if (name.isEmpty() && Character.isDigit(ch)) {
                    while (peek() != EOF && Character.isDigit(peek())) {
                        name.appendCodePoint(next());
                    }
                    return name.toString();
                }
                if (name.isEmpty() && isSpecialParameter(ch)) {
                    next();
                    return Character.toString(ch);
                }
                if (!Character.isLetter(ch) && !Character.isDigit(ch) && ch != '_') {
                    break;
                }
                name.appendCodePoint(next());
            }
            return name.toString();
        }
    }

    private static boolean isSpecialParameter(int ch) {
        return switch (ch) {
            case '@', '*', '#', '?', '-', '$', '!', '0' -> true;
            default -> false;
        };
    }

    /**
     * A {@code ${V#pattern}}-style shell pattern as a regex: {@code *} any string (shortest unless
     * {@code longest}), {@code ?} one character, {@code \} escapes {@code * ? \} (and is dropped before
     * {@code }} and {@code /}, which had to be escaped to appear in the pattern). No bracket expressions.
     */
    static Pattern shellPattern(String pattern, boolean longest, boolean anchored) {
        StringBuilder out = new StringBuilder(pattern.length() + 8);
        if (anchored) {
            out.append('^');
        }
        int[] t = pattern.codePoints().toArray();
        for (int i = 0; i < t.length; i++) {
            int c = t[i];
            if (c == '*') {
                // A run of stars is one star: java.util.regex backtracks through ".*.*.*..." in time
                // exponential in the run's length (a 70-star pattern hung a build); the matches are the same.
                if (i == 0 || t[i - 1] != '*' || i >= 2 && t[i - 2] == '\\') {
                    out.append(longest ? ".*" : ".*?");
                }
            } else if (c == '?') {
                out.append('.');
            } else if (c == '\\') {
                if (i + 1 < t.length && (t[i + 1] == '}' || t[i + 1] == '/')) {
                    continue;
                }
                i++;
                if (i >= t.length || (t[i] != '*' && t[i] != '?' && t[i] != '\\')) {
                    String what = i >= t.length ? "\\" : "\\" + Character.toString(t[i]);
                    throw new LexError("invalid pattern (" + pattern + ") in substitution: invalid escape '" + what + "'");
                }
                out.append('\\').appendCodePoint(t[i]);
            } else {
                appendLiteral(out, c);
            }
        }
        // UNIX_LINES: "." matches anything but \n, as in Go's regexp.
        return Pattern.compile(out.toString(), Pattern.UNIX_LINES);
    }

    static void appendLiteral(StringBuilder regex, int cp) {
        if (cp < 0x80 && Character.isLetterOrDigit(cp)) {
            regex.appendCodePoint(cp);
        } else {
            regex.append("\\x{").append(Integer.toHexString(cp)).append('}');
        }
    }

    private static String trimPrefix(String pattern, String value, boolean longest) {
        Matcher m = shellPattern(pattern, longest, true).matcher(value);
        return m.find() ? value.substring(m.end()) : value;
    }

    /**
     * Suffix removal as prefix removal on reversed text: a regex cannot find the shortest match that ends at
     * the end of the input, but it can find the shortest one at the start of the reversed input.
     */
    private static String trimSuffix(String pattern, String value, boolean longest) {
        return reverse(trimPrefix(reversePattern(pattern), reverse(value), longest));
    }

    private static String reverse(String s) {
        int[] cps = s.codePoints().toArray();
        StringBuilder b = new StringBuilder(s.length());
        for (int i = cps.length - 1; i >= 0; i--) {
            b.appendCodePoint(cps[i]);
        }
        return b.toString();
    }

    /** Reverses a pattern keeping each escape in front of the character it escapes ({@code a\*c -> c\*a}). */
    static String reversePattern(String pattern) {
        int[] p = pattern.codePoints().toArray();
        int[] out = new int[p.length];
        int last = p.length - 1;
        for (int i = 0; i <= last; ) {
            int outIdx = last - i;
            if (p[i] == '\\' && i != last) {
                out[outIdx - 1] = p[i];
                out[outIdx] = p[i + 1];
                i += 2;
            } else {
                out[outIdx] = p[i];
                i++;
            }
        }
        return new String(out, 0, out.length);
    }

    /**
     * Go's {@code Regexp.ReplaceAllString}: an empty match right after a previous match is not replaced,
     * and the replacement is a template where {@code $0} (or {@code ${0}}) is the match, {@code $$} a dollar,
     * and any other {@code $name} empty (the pattern has no groups).
     */
    static String goReplaceAll(Pattern re, String src, String template) {
        Matcher m = re.matcher(src);
        StringBuilder out = new StringBuilder();
        int lastMatchEnd = 0;
        int searchPos = 0;
        while (searchPos <= src.length() && m.find(searchPos)) {
            int start = m.start();
            int end = m.end();
            out.append(src, lastMatchEnd, start);
            if (end > lastMatchEnd || start == 0) {
                expandTemplate(out, template, src.substring(start, end));
            }
            lastMatchEnd = end;
            int width = searchPos < src.length() ? Character.charCount(src.codePointAt(searchPos)) : 0;
            if (searchPos + width > end) {
                searchPos += width;
            } else if (searchPos + 1 > end) {
                searchPos++;
            } else {
                searchPos = end;
            }
        }
        out.append(src, Math.min(lastMatchEnd, src.length()), src.length());
        return out.toString();
    }

    private static void expandTemplate(StringBuilder out, String template, String match) {
        String rest = template;
        while (true) {
            int dollar = rest.indexOf('$');
            if (dollar < 0) {
                break;
            }
            out.append(rest, 0, dollar);
            rest = rest.substring(dollar + 1);
            if (rest.startsWith("$")) {
                out.append('$');
                rest = rest.substring(1);
                continue;
            }
            boolean brace = rest.startsWith("{");
            String body = brace ? rest.substring(1) : rest;
            int i = 0;
            while (i < body.length()) {
                int cp = body.codePointAt(i);
                if (!Character.isLetter(cp) && !Character.isDigit(cp) && cp != '_') {
                    break;
                }
                i += Character.charCount(cp);
            }
            if (i == 0 || (brace && (i >= body.length() || body.charAt(i) != '}'))) {
                out.append('$'); // malformed reference: a literal dollar
                continue;
            }
            String name = body.substring(0, i);
            rest = body.substring(brace ? i + 1 : i);
            if (name.equals("0")) {
                out.append(match);
            }
        }
        out.append(rest);
    }
}
