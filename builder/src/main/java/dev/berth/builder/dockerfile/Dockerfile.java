package dev.berth.builder.dockerfile;

import dev.berth.builder.BuildException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A parsed Dockerfile: its parser directives, its instructions as {@link Node}s with line numbers, and
 * the warnings the parser had. {@link #instructions()} gives the typed instructions and {@link #stages()}
 * the build stages.
 *
 * <p>Parsing follows buildkit (the {@code docker build} frontend) so that a Dockerfile means the same to
 * berth as to docker; its conformance data is run by the tests. Every error is a {@link BuildException}
 * whose message starts with {@code NAME:LINE: }, NAME being the file name as given here.
 */
public final class Dockerfile {
    public static final String DEFAULT_NAME = "Dockerfile";

    private final String name;
    private final char escape;
    private final Map<String, String> directives;
    private final List<Node> nodes;
    private final List<ParseWarning> warnings;

    Dockerfile(String name, char escape, Map<String, String> directives, List<Node> nodes, List<ParseWarning> warnings) {
        this.name = name;
        this.escape = escape;
        this.directives = Collections.unmodifiableMap(new LinkedHashMap<>(directives));
        this.nodes = List.copyOf(nodes);
        this.warnings = List.copyOf(warnings);
    }

    /**
     * Parses Dockerfile bytes (UTF-8, an optional byte-order mark, LF or CRLF line endings).
     *
     * @param name how errors name the file, e.g. {@code Dockerfile} or {@code sub/Dockerfile.dev}
     */
    public static Dockerfile parse(String name, byte[] content) {
        return Parser.parse(name, content);
    }

    public static Dockerfile parse(String name, String content) {
        return parse(name, content.getBytes(StandardCharsets.UTF_8));
    }

    /** Reads and parses a file; errors name it as {@code path.toString()}. */
    public static Dockerfile read(Path path) {
        try {
            return parse(path.toString(), Files.readAllBytes(path));
        } catch (NoSuchFileException e) {
            throw new BuildException("cannot read " + path + ": no such file");
        } catch (IOException e) {
            throw new BuildException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    public String name() {
        return name;
    }

    /** The escape character: {@code \} unless an {@code # escape=`} directive chose the backtick. */
    public char escape() {
        return escape;
    }

    /** The parser directives found at the top, lower-case key to value ({@code syntax}, {@code escape}, {@code check}). */
    public Map<String, String> directives() {
        return directives;
    }

    /** The {@code # syntax=} directive: buildkit would switch frontends on it; berth only reports it. */
    public Optional<String> syntax() {
        return Optional.ofNullable(directives.get("syntax"));
    }

    /** The {@code # check=} directive (lint configuration), as written. */
    public Optional<String> check() {
        return Optional.ofNullable(directives.get("check"));
    }

    public List<Node> nodes() {
        return nodes;
    }

    public List<ParseWarning> warnings() {
        return warnings;
    }

    /**
     * The instructions with their meaning, in file order. Throws {@link BuildException} at the first invalid
     * one ({@code Dockerfile:3: unknown instruction: COPPY (did you mean COPY?)}).
     */
    public List<Instruction> instructions() {
        return nodes.stream().map(n -> Instructions.parse(n, name)).toList();
    }

    /**
     * The build stages: global ARGs, then one stage per FROM. Throws {@link BuildException} on an invalid
     * instruction, an instruction other than ARG before the first FROM, a Dockerfile without FROM, or a
     * stage name used twice.
     */
    public Stages stages() {
        return Stages.of(this);
    }

    /**
     * An ONBUILD trigger as stored in an image config ({@code OnBuild}), parsed when a child build uses the
     * image: read as one instruction with the default escape character and located at the child's FROM.
     */
    public static Instruction parseTrigger(String expression, Location at) {
        return Instructions.parseTrigger(expression, at);
    }

    /** A lexer that uses this file's escape character. */
    public ShellLexer lexer() {
        return new ShellLexer(escape);
    }

    /**
     * buildkit's AST dump: one {@code (instruction [flags] "arg"...)} line per instruction, no final newline.
     * The conformance data is written in this format.
     */
    public String dump() {
        return GoStrings.trimSpace(nodes.stream().map(n -> "(" + n.dump() + ")").collect(Collectors.joining("\n")));
    }

    @Override
    public String toString() {
        return "Dockerfile[" + name + ", " + nodes.size() + " instructions]";
    }
}
