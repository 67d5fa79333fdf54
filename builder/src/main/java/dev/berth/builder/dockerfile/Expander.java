package dev.berth.builder.dockerfile;

import dev.berth.builder.BuildException;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Expands instruction words against one environment and records which variables were read. Expansion
 * happens at build time, once per instruction, against the environment the stage has just before that
 * instruction: so {@code ENV a=1 b=$a} gives {@code b} the previous {@code a}, as in docker.
 *
 * <p>Which environment: for FROM the global build args (ARGs before the first FROM, see {@link BuildArgs});
 * for every other instruction the stage's environment ({@link StageScope#environment()}).
 */
public final class Expander implements WordExpander {
    /** buildkit expands heredoc bodies with a backslash lexer that leaves quotes alone, whatever the file's escape. */
    private static final ShellLexer HEREDOC_LEXER = new ShellLexer('\\', EnumSet.of(ShellLexer.Option.SKIP_PROCESS_QUOTES));

    private final ShellLexer lexer;
    private final Variables env;
    private final Optional<Location> at;
    private final Set<String> referenced = new LinkedHashSet<>();
    private final Set<String> undefined = new LinkedHashSet<>();

    public Expander(ShellLexer lexer, Variables env) {
        this(lexer, env, Optional.empty());
    }

    private Expander(ShellLexer lexer, Variables env, Optional<Location> at) {
        this.lexer = Objects.requireNonNull(lexer, "lexer");
        this.env = Objects.requireNonNull(env, "env");
        this.at = at;
    }

    /**
     * Expands an instruction's words; errors are {@code FILE:LINE: failed to process "...": why}.
     *
     * @param lexer the Dockerfile's lexer ({@link Dockerfile#lexer()}), for its escape character
     */
    public static <I extends Instruction.Expandable> Expanded<I> expand(I instruction, ShellLexer lexer, Variables env) {
        Expander e = new Expander(lexer, env, Optional.of(instruction.location()));
        Instruction.Expandable out = instruction.expand(e);
        @SuppressWarnings("unchecked") // every Expandable returns its own type; checked here
        I typed = (I) instruction.getClass().cast(out);
        return new Expanded<>(typed, e.referenced, e.undefined);
    }

    @Override
    public String word(String word) {
        return run(() -> lexer.process(word, env)).value();
    }

    @Override
    public List<String> words(String word) {
        return run(() -> lexer.process(word, env)).words();
    }

    @Override
    public String heredoc(String content) {
        return run(() -> HEREDOC_LEXER.process(content, env)).value();
    }

    /** The variables read so far that were set. */
    public Set<String> referenced() {
        return Set.copyOf(referenced);
    }

    /** The variables read so far that were not set. */
    public Set<String> undefined() {
        return Set.copyOf(undefined);
    }

    private ShellLexer.Result run(Supplier<ShellLexer.Result> expansion) {
        ShellLexer.Result r;
        try {
            r = expansion.get();
        } catch (BuildException e) {
            throw at.map(l -> l.error(e.getMessage())).orElse(e);
        }
        referenced.addAll(r.referenced());
        undefined.addAll(r.undefined());
        return r;
    }
}
