package dev.berth.builder.context;

import dev.berth.builder.BuildException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@code .dockerignore}: which paths of the build context are not sent to the build, with the syntax
 * and semantics of moby's {@code patternmatcher} and {@code ignorefile}, which docker and buildkit use.
 *
 * <p>File format: one pattern per line; a line starting with {@code #} (in the first column) is a comment;
 * blank lines are skipped; surrounding whitespace is trimmed; each pattern is cleaned like a path
 * ({@code ./a//b/} is {@code a/b}) and a leading {@code /} is dropped, so patterns are relative to the
 * context root. {@code !pattern} is an exception: it re-includes what earlier patterns excluded.
 *
 * <p>Matching: {@code *} is any run of characters but {@code /}, {@code ?} one character but {@code /},
 * {@code [...]} a class as in {@link Wildcard}, {@code \} escapes; {@code **} matches any number of path
 * elements, none included ({@code **}{@code /*.go} matches {@code a.go} and {@code x/y/a.go};
 * {@code dir/**} matches what is below {@code dir} but not {@code dir}). Patterns are tried in order and
 * the last one that matches decides. A path is also excluded when one of its parent directories matches
 * ({@code docs} excludes {@code docs/a/b.md}), and a later exception can re-include a file inside an
 * excluded directory ({@code docs} then {@code !docs/README.md}).
 */
public final class DockerIgnore {
    /** The default file name, at the root of the build context. */
    public static final String FILE_NAME = ".dockerignore";

    private static final DockerIgnore NONE = new DockerIgnore(List.of());
    /** Characters after which fsutil no longer tries to tell whether an exception reaches into a directory. */
    private static final String PATTERN_CHARS = "*[]?^\\";

    /**
     * One pattern.
     *
     * @param pattern the cleaned pattern, without the {@code !}
     * @param exception whether it was written {@code !pattern}
     * @param line its line in the file (1-based; for patterns not read from a file, the position in the list)
     */
    public record Rule(String pattern, boolean exception, int line) {
        public Rule {
            Objects.requireNonNull(pattern, "pattern");
        }

        @Override
        public String toString() {
            return exception ? "!" + pattern : pattern;
        }
    }

    private enum Kind { EXACT, PREFIX, SUFFIX, REGEX }

    private record Compiled(Rule rule, Kind kind, Optional<PathGlob> glob) {
        boolean matches(String path) {
            String p = rule.pattern();
            return switch (kind) {
                case EXACT -> path.equals(p);
                case PREFIX -> path.startsWith(p.substring(0, p.length() - 2));
                case SUFFIX -> {
                    String suffix = p.substring(2);
                    yield path.endsWith(suffix) || (suffix.startsWith("/") && path.equals(suffix.substring(1)));
                }
                case REGEX -> glob.orElseThrow().matches(path);
            };
        }
    }

    private final List<Compiled> patterns;

    private DockerIgnore(List<Compiled> patterns) {
        this.patterns = List.copyOf(patterns);
    }

    /** Excludes nothing. */
    public static DockerIgnore none() {
        return NONE;
    }

    /**
     * Reads a {@code .dockerignore}'s content (UTF-8, an optional byte-order mark). Errors name the file and
     * line: {@code .dockerignore:3: syntax error in pattern "[a"}.
     */
    public static DockerIgnore parse(String fileName, byte[] content) {
        int start = content.length >= 3 && (content[0] & 0xFF) == 0xEF && (content[1] & 0xFF) == 0xBB
                && (content[2] & 0xFF) == 0xBF ? 3 : 0;
        String text = new String(content, start, content.length - start, StandardCharsets.UTF_8);
        // Lines as Go's bufio.Scanner splits them: at \n, without a trailing \r.
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        if (!lines.isEmpty() && lines.getLast().isEmpty()) {
            lines.removeLast();
        }
        lines.replaceAll(l -> l.endsWith("\r") ? l.substring(0, l.length() - 1) : l);
        List<Compiled> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("#")) {
                continue;
            }
            int number = i + 1;
            normalise(line).ifPresent(p -> out.add(compile(p, number, fileName + ":" + number + ": ")));
        }
        return new DockerIgnore(out);
    }

    public static DockerIgnore parse(String fileName, String content) {
        return parse(fileName, content.getBytes(StandardCharsets.UTF_8));
    }

    /** From patterns as they would appear in the file's lines (comments are not recognised here). */
    public static DockerIgnore of(List<String> patterns) {
        List<Compiled> out = new ArrayList<>();
        for (int i = 0; i < patterns.size(); i++) {
            int line = i + 1;
            normalise(patterns.get(i)).ifPresent(p -> out.add(compile(p, line, ".dockerignore pattern " + line + ": ")));
        }
        return new DockerIgnore(out);
    }

    /**
     * Which ignore file applies to a build, as buildkit looks for it: {@code <Dockerfile>.dockerignore} beside
     * the Dockerfile (e.g. {@code app.Dockerfile.dockerignore}, also {@code Dockerfile.dockerignore}), which
     * takes precedence, else {@code .dockerignore} at the root of the context; empty when neither exists.
     */
    public static Optional<Path> locate(Path contextDir, Path dockerfile) {
        Path beside = dockerfile.resolveSibling(dockerfile.getFileName() + FILE_NAME);
        if (Files.isRegularFile(beside)) {
            return Optional.of(beside);
        }
        Path root = contextDir.resolve(FILE_NAME);
        return Files.isRegularFile(root) ? Optional.of(root) : Optional.empty();
    }

    /** The ignore file {@link #locate} finds, parsed; {@link #none()} when there is none. */
    public static DockerIgnore load(Path contextDir, Path dockerfile) {
        Optional<Path> file = locate(contextDir, dockerfile);
        if (file.isEmpty()) {
            return NONE;
        }
        try {
            return parse(file.get().toString(), Files.readAllBytes(file.get()));
        } catch (IOException e) {
            throw new BuildException("cannot read " + file.get() + ": " + e.getMessage(), e);
        }
    }

    public List<Rule> rules() {
        return patterns.stream().map(Compiled::rule).toList();
    }

    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    /**
     * Whether a path of the context is excluded.
     *
     * @param path relative to the context root, {@code /}-separated, as a walker of the context produces it
     *     ({@code dir/file}); the root ({@code .} or empty) is never excluded
     */
    public boolean excludes(String path) {
        String file = path;
        if (file.isEmpty() || file.equals(".")) {
            return false;
        }
        String parent = GoPath.dir(file);
        String[] parentDirs = parent.split("/");
        boolean matched = false;
        for (Compiled p : patterns) {
            if (p.rule().exception() != matched) {
                continue; // only an exception can change an exclusion, and only a pattern an inclusion
            }
            boolean match = p.matches(file);
            if (!match && !parent.equals(".")) {
                StringBuilder prefix = new StringBuilder();
                for (String dir : parentDirs) {
                    if (!prefix.isEmpty()) {
                        prefix.append('/');
                    }
                    prefix.append(dir);
                    if (p.matches(prefix.toString())) {
                        match = true;
                        break;
                    }
                }
            }
            if (match) {
                matched = !p.rule().exception();
            }
        }
        return matched;
    }

    /**
     * Whether an exception could re-include something below {@code directory}, so that a walker must
     * descend into it even though it is excluded. As buildkit's context walker decides it: with no
     * exceptions, never; when any exception holds a wildcard, always (it cannot tell); otherwise when an
     * exception's path lies below the directory.
     */
    public boolean mayReinclude(String directory) {
        List<Rule> exceptions = patterns.stream().map(Compiled::rule).filter(Rule::exception).toList();
        if (exceptions.isEmpty()) {
            return false;
        }
        boolean wildcards = exceptions.stream()
                .anyMatch(r -> withoutTrailingGlob(r.pattern()).chars().anyMatch(c -> PATTERN_CHARS.indexOf(c) >= 0));
        if (wildcards) {
            return true;
        }
        String dirSlash = directory + "/";
        return exceptions.stream().anyMatch(r -> (withoutTrailingGlob(r.pattern()) + "/").startsWith(dirSlash));
    }

    /** Whether a walker can skip {@code directory} entirely: it is excluded and nothing below it comes back. */
    public boolean canSkip(String directory) {
        return excludes(directory) && !mayReinclude(directory);
    }

    @Override
    public String toString() {
        return "DockerIgnore" + rules();
    }

    private static String withoutTrailingGlob(String p) {
        if (p.endsWith("/**")) {
            p = p.substring(0, p.length() - 3);
        }
        if (p.endsWith("/*")) {
            p = p.substring(0, p.length() - 2);
        }
        return p;
    }

    /**
     * One line as moby's {@code ignorefile.ReadAll} and {@code patternmatcher.New} normalise it: trimmed,
     * {@code !} split off and trimmed again, cleaned, a leading {@code /} dropped. Empty when blank.
     */
    private static Optional<String> normalise(String line) {
        String p = trimSpace(line);
        if (p.isEmpty()) {
            return Optional.empty();
        }
        boolean invert = p.charAt(0) == '!';
        if (invert) {
            p = trimSpace(p.substring(1));
        }
        if (!p.isEmpty()) {
            p = GoPath.clean(p);
            if (p.length() > 1 && p.charAt(0) == '/') {
                p = p.substring(1);
            }
        }
        return Optional.of(invert ? "!" + p : p);
    }

    /** @param where the error prefix, e.g. {@code .dockerignore:3: } */
    private static Compiled compile(String text, int line, String where) {
        String p = text;
        boolean exception = false;
        if (p.charAt(0) == '!') {
            if (p.length() == 1) {
                throw new BuildException(where + "illegal exclusion pattern: \"!\"");
            }
            exception = true;
            p = p.substring(1);
        }
        try {
            Wildcard.compile(p); // the syntax check patternmatcher makes with filepath.Match
        } catch (BuildException e) {
            throw new BuildException(where + e.getMessage());
        }
        Rule rule = new Rule(p, exception, line);
        int[] cps = p.codePoints().toArray();
        List<PathGlob.Token> tokens = new ArrayList<>();
        Kind kind = Kind.EXACT;
        int pos = 0;
        for (int i = 0; pos < cps.length; i++) {
            int ch = cps[pos++];
            if (ch == '*') {
                if (pos < cps.length && cps[pos] == '*') {
                    pos++;
                    if (pos < cps.length && cps[pos] == '/') {
                        pos++; // **/ is the same as **
                    }
                    if (pos == cps.length) {
                        if (kind == Kind.EXACT) {
                            kind = Kind.PREFIX;
                        } else {
                            tokens.add(new PathGlob.AnyTail());
                            kind = Kind.REGEX;
                        }
                    } else {
                        tokens.add(new PathGlob.AnyDirs());
                        kind = Kind.REGEX;
                    }
                    if (i == 0) {
                        kind = Kind.SUFFIX;
                    }
                } else {
                    tokens.add(new PathGlob.Star());
                    kind = Kind.REGEX;
                }
            } else if (ch == '?') {
                tokens.add(new PathGlob.NotSlash());
                kind = Kind.REGEX;
            } else if (ch == '\\') {
                tokens.add(new PathGlob.Literal(pos < cps.length ? cps[pos++] : '\\'));
                kind = Kind.REGEX;
            } else if (ch == '[') {
                Wildcard.CharClass cls = Wildcard.CharClass.parse(cps, pos - 1, cps.length);
                for (int r = 0; r < cls.lows().length; r++) {
                    if (cls.lows()[r] > cls.highs()[r]) {
                        // Go's regexp rejects a reversed range; patternmatcher reports that as a bad pattern.
                        throw new BuildException(where + Wildcard.BAD_PATTERN + " \"" + p + "\"");
                    }
                }
                tokens.add(new PathGlob.Class(cls));
                pos = cls.end();
                kind = Kind.REGEX;
            } else {
                tokens.add(new PathGlob.Literal(ch));
            }
        }
        return new Compiled(rule, kind, kind == Kind.REGEX ? Optional.of(new PathGlob(tokens)) : Optional.empty());
    }

    /** Go's {@code strings.TrimSpace} (Unicode white space). */
    private static String trimSpace(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isSpace(s.codePointAt(start))) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (end > start && isSpace(s.codePointBefore(end))) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    private static boolean isSpace(int cp) {
        return switch (cp) {
            case '\t', '\n', 0x0B, '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }
}
