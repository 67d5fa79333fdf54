package dev.berth.builder.dockerfile;

import dev.berth.builder.BuildException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Dockerfile bytes to {@link Node}s, following buildkit's {@code parser.Parse} rule for rule (the rules and
 * their sources are in {@code shared/reference/dockerfile-parser.md}): parser directives at the very top,
 * comments only as whole lines, line continuation with the escape character (comment lines dropped and
 * blank lines skipped with a warning inside a continuation), leading {@code --flags}, per-instruction
 * argument splitting, exec (JSON) form with the fall back to shell form, ONBUILD sub-instructions and
 * heredocs. One instance parses one file.
 */
final class Parser {
    /** Buildkit reads lines with Go's bufio.Scanner, whose buffer caps a line at 64 KiB. */
    static final int MAX_LINE_BYTES = 65535;

    /** {@code key = value}; Go's {@code \s} is {@code [\t\n\f\r ]}, narrower than Java's. */
    private static final Pattern DIRECTIVE = Pattern.compile(
            "([a-zA-Z][a-zA-Z0-9]*)[\\t\\n\\f\\r ]*=[\\t\\n\\f\\r ]*(.+?)[\\t\\n\\f\\r ]*", Pattern.DOTALL);
    private static final Set<String> DIRECTIVES = Set.of("syntax", "escape", "check");
    private static final Pattern HEREDOC = Pattern.compile("([0-9]*)<<(-?)[\\t\\n\\f\\r ]*([^<]*)", Pattern.DOTALL);
    private static final Set<String> HEREDOC_INSTRUCTIONS = Set.of("run", "copy", "add");
    private static final ShellLexer HEREDOC_LINE_LEXER = new ShellLexer('\\',
            EnumSet.of(ShellLexer.Option.RAW_QUOTES, ShellLexer.Option.RAW_ESCAPES, ShellLexer.Option.SKIP_UNSET));
    private static final ShellLexer HEREDOC_WORD_LEXER = new ShellLexer('\\', EnumSet.of(ShellLexer.Option.SKIP_UNSET));
    private static final ShellLexer HEREDOC_RAW_WORD_LEXER = new ShellLexer('\\',
            EnumSet.of(ShellLexer.Option.SKIP_UNSET, ShellLexer.Option.RAW_QUOTES));

    /** The file name under which a trigger is parsed, replaced by the child's location in errors. */
    private static final String TRIGGER = "<onbuild trigger>";

    private final String file;
    /** The lines, each with its line ending (the last one may have none). */
    private final List<String> lines;
    private int nextLine;
    /** How many lines have been consumed: the 1-based number of the last one read. */
    private int currentLine;

    private char escape = '\\';
    private boolean directivesDone;
    private final Map<String, String> directives = new LinkedHashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<ParseWarning> warnings = new ArrayList<>();

    private Parser(String file, List<String> lines) {
        this.file = file;
        this.lines = lines;
    }

    static Dockerfile parse(String file, byte[] content) {
        Parser p = new Parser(file, splitLines(file, content));
        p.run();
        return new Dockerfile(file, p.escape, p.directives, p.nodes, p.warnings);
    }

    /**
     * Parses one instruction line on its own, with the default escape character: how buildkit reads an
     * ONBUILD trigger when it fires in a child build. Errors are located at {@code line} of {@code file},
     * the child's FROM.
     */
    static Node parseTrigger(String file, String expression, int line) {
        Location at = Location.line(file, line);
        Dockerfile d;
        try {
            d = parse(TRIGGER, expression.getBytes(StandardCharsets.UTF_8));
        } catch (BuildException e) {
            String why = e.getMessage().replaceFirst("^" + Pattern.quote(TRIGGER) + ":[0-9]+: ", "");
            throw at.error("ONBUILD trigger " + GoStrings.quote(expression) + ": " + why);
        }
        if (d.nodes().size() != 1) {
            throw at.error("onbuild trigger should be a single expression");
        }
        return d.nodes().getFirst().withLines(line, line);
    }

    // ---- lines --------------------------------------------------------------------------------------

    private static List<String> splitLines(String file, byte[] content) {
        int start = 0;
        if (content.length >= 3 && (content[0] & 0xFF) == 0xEF && (content[1] & 0xFF) == 0xBB && (content[2] & 0xFF) == 0xBF) {
            start = 3; // a UTF-8 byte-order mark
        }
        List<String> out = new ArrayList<>();
        int lineStart = start;
        for (int i = start; i <= content.length; i++) {
            if (i == content.length || content[i] == '\n') {
                int end = i == content.length ? i : i + 1;
                if (end == lineStart) {
                    break;
                }
                int length = end - lineStart - (i == content.length ? 0 : 1);
                if (length > MAX_LINE_BYTES) {
                    throw Location.line(file, out.size() + 1)
                            .error("dockerfile line greater than max allowed size of " + MAX_LINE_BYTES);
                }
                out.add(decode(content, lineStart, end));
                lineStart = end;
            }
        }
        return out;
    }

    /** UTF-8, with each malformed sequence replaced by U+FFFD (Go keeps the raw bytes; text is what matters here). */
    private static String decode(byte[] content, int from, int to) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        try {
            return d.decode(ByteBuffer.wrap(content, from, to - from)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException(e); // cannot happen with REPLACE
        }
    }

    private static String trimNewline(String s) {
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == '\n' || s.charAt(end - 1) == '\r')) {
            end--;
        }
        return s.substring(0, end);
    }

    private static boolean isComment(String line) {
        return GoStrings.trimLeftSpace(line).startsWith("#");
    }

    // ---- the main loop ------------------------------------------------------------------------------

    private void run() {
        while (nextLine < lines.size()) {
            String text = processLine(lines.get(nextLine++), true);
            currentLine++;
            int startLine = currentLine;
            Continuation first = trimContinuation(text);
            if (first.complete && first.text.isEmpty()) {
                continue;
            }
            StringBuilder buf = new StringBuilder(first.text);
            boolean complete = first.complete;
            boolean emptyContinuationLine = false;
            while (!complete && nextLine < lines.size()) {
                String raw = lines.get(nextLine++);
                String next = processLine(raw, false);
                currentLine++;
                if (isComment(raw)) {
                    continue; // comments inside a continuation are dropped
                }
                if (GoStrings.trimLeftSpace(trimNewline(next)).isEmpty()) {
                    emptyContinuationLine = true;
                    continue;
                }
                Continuation c = trimContinuation(next);
                complete = c.complete;
                buf.append(c.text);
            }
            String line = buf.toString();
            if (emptyContinuationLine) {
                warnings.add(new ParseWarning(Location.line(file, currentLine),
                        "Empty continuation line found in: " + line
                                + " (empty continuation lines will become errors in a future release)"));
            }
            Node node;
            try {
                node = nodeFromLine(line);
            } catch (SyntaxError e) {
                throw new Location(file, startLine, Math.max(startLine, currentLine)).error(e.getMessage());
            }
            Node target = node.subcommand().orElse(node);
            if (HEREDOC_INSTRUCTIONS.contains(target.name()) && !target.json() && line.contains("<<")) {
                node = node.withHeredocs(readHeredocs(line, startLine));
            }
            nodes.add(node.withLines(startLine, currentLine));
        }
        if (nodes.isEmpty()) {
            throw Location.line(file, Math.max(1, currentLine)).error("file with no instructions");
        }
    }

    /**
     * Strips the line ending (and leading blanks on an instruction's first line), lets the directive
     * reader see it, and blanks out comment lines.
     */
    private String processLine(String raw, boolean stripLeft) {
        String token = trimNewline(raw);
        if (stripLeft) {
            token = GoStrings.trimLeftSpace(token);
        }
        possibleDirective(token);
        return isComment(token) ? "" : token;
    }

    /**
     * Parser directives are {@code # key=value} lines at the very top, before anything else including blank
     * lines and ordinary comments; the first line that is not one ends them for the rest of the file.
     * Keys are case-insensitive. Only {@code escape} changes how the file is read.
     */
    private void possibleDirective(String line) {
        if (directivesDone) {
            return;
        }
        if (!line.startsWith("#")) {
            directivesDone = true;
            return;
        }
        Matcher m = DIRECTIVE.matcher(GoStrings.trimLeftSpace(line.substring(1)));
        if (!m.matches()) {
            directivesDone = true;
            return;
        }
        String key = GoStrings.toLower(m.group(1));
        if (!DIRECTIVES.contains(key)) {
            directivesDone = true;
            return;
        }
        Location here = Location.line(file, currentLine + 1);
        if (directives.containsKey(key)) {
            throw here.error("only one " + key + " parser directive can be used");
        }
        String value = m.group(2);
        if (key.equals("escape")) {
            if (!value.equals("`") && !value.equals("\\")) {
                throw here.error("invalid escape token '" + value + "' does not match ` or \\");
            }
            escape = value.charAt(0);
        }
        directives.put(key, value);
    }

    private record Continuation(String text, boolean complete) {}

    /**
     * A line ending in the escape character (then optional blanks) continues on the next line, unless that
     * escape character is itself escaped; the escape and the blanks are removed and nothing is put between
     * the joined pieces.
     */
    private Continuation trimContinuation(String line) {
        int end = line.length();
        while (end > 0 && (line.charAt(end - 1) == ' ' || line.charAt(end - 1) == '\t')) {
            end--;
        }
        if (end == 0 || line.charAt(end - 1) != escape) {
            return new Continuation(line, true);
        }
        int escapeAt = end - 1;
        if (escapeAt > 0 && line.charAt(escapeAt - 1) == escape) {
            return new Continuation(line, true);
        }
        return new Continuation(line.substring(0, escapeAt), false);
    }

    // ---- one instruction ----------------------------------------------------------------------------

    /** A syntax error in the current instruction; the loop adds the location. */
    private static final class SyntaxError extends RuntimeException {
        SyntaxError(String message) {
            super(message, null, false, false);
        }
    }

    private record Args(List<String> args, boolean json, Optional<Node> subcommand) {
        static final Args NONE = new Args(List.of(), false, Optional.empty());

        static Args of(List<String> args) {
            return new Args(args, false, Optional.empty());
        }
    }

    private Node nodeFromLine(String line) {
        String trimmed = GoStrings.trimSpace(line);
        String[] parts = splitBlanks(trimmed, 2);
        String keyword = parts[0];
        List<String> flags = List.of();
        String rest = "";
        if (parts.length == 2) {
            Flags f = extractFlags(parts[1]);
            flags = f.flags;
            rest = f.rest;
        }
        rest = GoStrings.trimSpace(rest);
        Args a = switch (GoStrings.toLower(keyword)) {
            case "add", "copy", "volume" -> maybeJsonToList(rest);
            case "arg" -> Args.of(words(rest));
            case "cmd", "entrypoint", "run", "shell" -> maybeJson(rest);
            case "env" -> nameValue(rest, "ENV");
            case "label" -> nameValue(rest, "LABEL");
            case "expose", "from" -> Args.of(splitBlanksAll(rest));
            case "healthcheck" -> healthcheck(rest);
            case "maintainer", "stopsignal", "user", "workdir" -> rest.isEmpty() ? Args.NONE : Args.of(List.of(rest));
            case "onbuild" -> rest.isEmpty() ? Args.NONE : new Args(List.of(), false, Optional.of(nodeFromLine(rest)));
            // Unknown instructions parse (with one empty argument, as buildkit's parseIgnore leaves it);
            // they are rejected when the instruction is interpreted.
            default -> Args.of(List.of(""));
        };
        return new Node(keyword, flags, a.args, a.subcommand, a.json, List.of(), line, 1, 1);
    }

    private static boolean isBlank(char c) {
        return c == '\t' || c == 0x0B || c == '\f' || c == '\r' || c == ' ';
    }

    /** Splits on runs of {@code [\t\v\f\r ]} into at most {@code limit} parts. */
    private static String[] splitBlanks(String s, int limit) {
        int i = 0;
        while (i < s.length() && !isBlank(s.charAt(i))) {
            i++;
        }
        if (i == s.length() || limit < 2) {
            return new String[] {s};
        }
        int j = i;
        while (j < s.length() && isBlank(s.charAt(j))) {
            j++;
        }
        return new String[] {s.substring(0, i), s.substring(j)};
    }

    /** Splits on every run of {@code [\t\v\f\r ]} (no quote handling). */
    private static List<String> splitBlanksAll(String s) {
        if (s.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            if (isBlank(s.charAt(i))) {
                if (i > 0) {
                    out.add(s.substring(start, i));
                }
                while (i < s.length() && isBlank(s.charAt(i))) {
                    i++;
                }
                start = i;
            } else {
                i++;
            }
        }
        if (start < s.length() || out.isEmpty()) {
            out.add(s.substring(start));
        }
        return out;
    }

    private record Flags(List<String> flags, String rest) {}

    /**
     * Consumes the leading words that start with {@code --} (quote- and escape-aware; quotes are removed).
     * A bare {@code --} ends the flags and is dropped.
     */
    private Flags extractFlags(String line) {
        enum Phase { SPACES, WORD, QUOTE }
        List<String> words = new ArrayList<>();
        Phase phase = Phase.SPACES;
        StringBuilder word = new StringBuilder();
        char quote = 0;
        boolean blankOk = false;
        int len = line.length();
        for (int pos = 0; pos <= len; pos++) {
            char ch = pos < len ? line.charAt(pos) : 0;
            if (phase == Phase.SPACES) {
                if (pos == len) {
                    break;
                }
                if (GoStrings.isSpace(ch)) {
                    continue;
                }
                if (ch != '-' || pos + 1 == len || line.charAt(pos + 1) != '-') {
                    return new Flags(words, line.substring(pos));
                }
                phase = Phase.WORD;
            }
            if (pos == len) {
                String w = word.toString();
                if (!w.equals("--") && (blankOk || !w.isEmpty())) {
                    words.add(w);
                }
                break;
            }
            if (phase == Phase.WORD) {
                if (GoStrings.isSpace(ch)) {
                    String w = word.toString();
                    phase = Phase.SPACES;
                    if (w.equals("--")) {
                        return new Flags(words, line.substring(pos));
                    }
                    if (blankOk || !w.isEmpty()) {
                        words.add(w);
                    }
                    word.setLength(0);
                    blankOk = false;
                    continue;
                }
                if (ch == '\'' || ch == '"') {
                    quote = ch;
                    blankOk = true;
                    phase = Phase.QUOTE;
                    continue;
                }
                if (ch == escape) {
                    if (pos + 1 == len) {
                        continue;
                    }
                    ch = line.charAt(++pos);
                }
                word.append(ch);
                continue;
            }
            // Phase.QUOTE
            if (ch == quote) {
                phase = Phase.WORD;
                continue;
            }
            if (ch == escape) {
                if (pos + 1 == len) {
                    phase = Phase.WORD;
                    continue;
                }
                ch = line.charAt(++pos);
            }
            word.append(ch);
        }
        return new Flags(words, "");
    }

    private static Args maybeJson(String rest) {
        if (rest.isEmpty()) {
            return Args.NONE;
        }
        return switch (JsonArray.parse(rest)) {
            case JsonArray.Strings s -> new Args(s.values(), true, Optional.empty());
            case JsonArray.NotStrings n -> throw new SyntaxError(JsonArray.NOT_STRINGS_MESSAGE);
            case JsonArray.NotJson n -> Args.of(List.of(rest));
        };
    }

    private static Args maybeJsonToList(String rest) {
        return switch (JsonArray.parse(rest)) {
            case JsonArray.Strings s -> new Args(s.values(), true, Optional.empty());
            case JsonArray.NotStrings n -> throw new SyntaxError(JsonArray.NOT_STRINGS_MESSAGE);
            case JsonArray.NotJson n -> Args.of(splitBlanksAll(rest));
        };
    }

    /** HEALTHCHECK: a type word ({@code CMD}, {@code NONE}, ...) then, maybe, a command in either form. */
    private static Args healthcheck(String rest) {
        int sep = 0;
        while (sep < rest.length() && !GoStrings.isSpace(rest.charAt(sep))) {
            sep++;
        }
        if (sep == 0) {
            return Args.NONE;
        }
        int next = sep;
        while (next < rest.length() && GoStrings.isSpace(rest.charAt(next))) {
            next++;
        }
        Args cmd = maybeJson(rest.substring(next));
        List<String> args = new ArrayList<>();
        args.add(rest.substring(0, sep));
        args.addAll(cmd.args);
        return new Args(args, cmd.json, Optional.empty());
    }

    /**
     * ENV and LABEL: {@code k=v} pairs (quotes and escapes kept, removed later by expansion), or the old
     * {@code KEY rest of line} form when the first word has no {@code =}.
     */
    private Args nameValue(String rest, String instruction) {
        List<String> words = words(rest);
        if (words.isEmpty()) {
            return Args.NONE;
        }
        if (!words.getFirst().contains("=")) {
            String[] parts = splitBlanks(rest, 2);
            if (parts.length < 2) {
                throw new SyntaxError(instruction + " must have two arguments");
            }
            return Args.of(List.of(parts[0], parts[1], ""));
        }
        List<String> args = new ArrayList<>();
        for (String w : words) {
            int eq = w.indexOf('=');
            if (eq < 0) {
                throw new SyntaxError("Syntax error - can't find = in " + GoStrings.quote(w)
                        + ". Must be of the form: name=value");
            }
            args.add(w.substring(0, eq));
            args.add(w.substring(eq + 1));
            args.add("=");
        }
        return Args.of(args);
    }

    /**
     * Splits on whitespace outside quotes, keeping quotes and escape characters in the words (ENV, LABEL,
     * ARG): {@code a="b c" d\ e} gives {@code a="b c"} and {@code d\ e}.
     */
    private List<String> words(String rest) {
        enum Phase { SPACES, WORD, QUOTE }
        List<String> words = new ArrayList<>();
        Phase phase = Phase.SPACES;
        int quote = 0;
        boolean blankOk = false;
        StringBuilder word = new StringBuilder();
        int[] cps = rest.codePoints().toArray();
        int len = cps.length;
        for (int pos = 0; pos <= len; pos++) {
            int ch = pos < len ? cps[pos] : 0;
            if (phase == Phase.SPACES) {
                if (pos == len) {
                    break;
                }
                if (GoStrings.isSpace(ch)) {
                    continue;
                }
                phase = Phase.WORD;
            }
            if (pos == len) {
                if (blankOk || !word.isEmpty()) {
                    words.add(word.toString());
                }
                break;
            }
            if (phase == Phase.WORD) {
                if (GoStrings.isSpace(ch)) {
                    phase = Phase.SPACES;
                    if (blankOk || !word.isEmpty()) {
                        words.add(word.toString());
                    }
                    word.setLength(0);
                    blankOk = false;
                    continue;
                }
                if (ch == '\'' || ch == '"') {
                    quote = ch;
                    blankOk = true;
                    phase = Phase.QUOTE;
                }
                if (ch == escape) {
                    if (pos + 1 == len) {
                        continue; // an escape at the very end is dropped
                    }
                    // Outside quotes an escape keeps the next character, even a quote, in the word.
                    word.appendCodePoint(ch);
                    ch = cps[++pos];
                }
                word.appendCodePoint(ch);
                continue;
            }
            // Phase.QUOTE
            if (ch == quote) {
                phase = Phase.WORD;
            }
            if (ch == escape && quote != '\'') {
                if (pos + 1 == len) {
                    phase = Phase.WORD;
                    continue;
                }
                word.appendCodePoint(ch);
                ch = cps[++pos];
            }
            word.appendCodePoint(ch);
        }
        return words;
    }

    // ---- heredocs -----------------------------------------------------------------------------------

    /**
     * Finds the heredoc markers of an instruction line and reads their bodies from the following lines,
     * in order. The line is split as a shell would (quotes kept, variables left alone), so a quoted
     * {@code "<<EOF"} is not a marker.
     */
    private List<Heredoc> readHeredocs(String line, int startLine) {
        List<String> words;
        try {
            words = HEREDOC_LINE_LEXER.processWords(line, Variables.none());
        } catch (BuildException e) {
            words = List.of(); // an unlexable line has no heredocs; buildkit ignores the error too
        }
        List<Heredoc> docs = new ArrayList<>();
        for (String w : words) {
            Optional<Heredoc> marker;
            try {
                marker = heredocMarker(w);
            } catch (BuildException e) {
                throw new Location(file, startLine, Math.max(startLine, currentLine)).error(e.getMessage());
            }
            marker.ifPresent(docs::add);
        }
        List<Heredoc> read = new ArrayList<>(docs.size());
        for (Heredoc h : docs) {
            StringBuilder content = new StringBuilder();
            boolean terminated = false;
            while (nextLine < lines.size()) {
                String raw = lines.get(nextLine++);
                currentLine++;
                String candidate = trimNewline(raw);
                if (h.chomp()) {
                    int t = 0;
                    while (t < candidate.length() && candidate.charAt(t) == '\t') {
                        t++;
                    }
                    candidate = candidate.substring(t);
                }
                if (candidate.equals(h.name())) {
                    terminated = true;
                    break;
                }
                content.append(raw);
            }
            if (!terminated) {
                throw new Location(file, startLine, Math.max(startLine, currentLine)).error("unterminated heredoc");
            }
            read.add(h.withContent(content.toString()));
        }
        return read;
    }

    /**
     * Whether one word of a line is a heredoc marker {@code [n]<<[-]WORD}, and if so its terminator. The
     * body is expanded later only if no part of WORD was quoted.
     */
    static Optional<Heredoc> heredocMarker(String word) {
        Matcher m = HEREDOC.matcher(word);
        if (!m.matches()) {
            return Optional.empty();
        }
        String rest = m.group(3);
        if (rest.isEmpty()) {
            return Optional.empty();
        }
        int fd = 0;
        if (!m.group(1).isEmpty()) {
            try {
                fd = Integer.parseInt(m.group(1));
            } catch (NumberFormatException e) {
                fd = Integer.MAX_VALUE;
            }
        }
        List<String> words = HEREDOC_WORD_LEXER.processWords(rest, Variables.none());
        if (words.size() != 1) {
            return Optional.empty();
        }
        List<String> raw = HEREDOC_RAW_WORD_LEXER.processWords(rest, Variables.none());
        if (raw.size() != 1) {
            throw new BuildException("internal lexing of heredoc produced inconsistent results: " + rest);
        }
        boolean expand = quotes(words.getFirst()) == quotes(raw.getFirst());
        return Optional.of(new Heredoc(words.getFirst(), fd, expand, m.group(2).equals("-"), ""));
    }

    private static long quotes(String s) {
        return s.chars().filter(c -> c == '\'' || c == '"').count();
    }
}
