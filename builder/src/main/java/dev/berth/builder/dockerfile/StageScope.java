package dev.berth.builder.dockerfile;

import dev.berth.builder.BuildException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The variables of one stage as its instructions run: the base image's {@code Env}, then each ENV and ARG
 * in order. Immutable: {@link #declare} and {@link #setEnv} return the scope after the instruction.
 *
 * <p>Two views: {@link #environment()} is what expansion and RUN see (ENV and ARG values, the later
 * setting of a name winning); {@link #imageEnvironment()} is only the base image's env and the ENVs, which
 * is what the image config keeps. ARG values never reach the image config.
 *
 * <p>A stage built FROM another stage of the same Dockerfile continues with that stage's final scope: it
 * inherits its ENVs and its ARGs.
 */
public final class StageScope {
    /** The PATH docker gives a Linux image whose config sets none (scratch included). */
    public static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** buildkit's ARGs that configure SBOM scanning and are kept out of the environment. */
    private static final Set<String> NON_ENV_ARGS = Set.of("BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE");

    private final Environment globals;
    private final BuildArgs buildArgs;
    private final ShellLexer lexer;
    private final Environment imageEnv;
    private final Environment env;
    private final Map<String, Optional<String>> declared;

    private StageScope(Environment globals, BuildArgs buildArgs, ShellLexer lexer, Environment imageEnv, Environment env,
                       Map<String, Optional<String>> declared) {
        this.globals = globals;
        this.buildArgs = buildArgs;
        this.lexer = lexer;
        this.imageEnv = imageEnv;
        this.env = env;
        this.declared = Collections.unmodifiableMap(declared);
    }

    /**
     * The scope at the start of a stage built on an image (or scratch). PATH is set to
     * {@link #DEFAULT_PATH} when the image's env has none, as docker does for Linux images.
     *
     * @param globals the global args ({@link Stages#globals})
     * @param imageEnv the base image's {@code Env} (empty for scratch)
     * @param lexer the Dockerfile's lexer, for ARG defaults
     */
    public static StageScope start(Environment globals, BuildArgs buildArgs, Environment imageEnv, ShellLexer lexer) {
        Objects.requireNonNull(globals, "globals");
        Objects.requireNonNull(buildArgs, "buildArgs");
        Objects.requireNonNull(imageEnv, "imageEnv");
        Objects.requireNonNull(lexer, "lexer");
        Environment base = imageEnv.contains("PATH") ? imageEnv : imageEnv.with("PATH", DEFAULT_PATH);
        return new StageScope(globals, buildArgs, lexer, base, base, new LinkedHashMap<>());
    }

    /** What expansion (and RUN) see now. */
    public Environment environment() {
        return env;
    }

    /** The image config's {@code Env} now: the base image's and this stage's ENVs, no ARGs. */
    public Environment imageEnvironment() {
        return imageEnv;
    }

    /**
     * The ARGs declared so far, in order, with their values; a declared ARG without a value (no default,
     * no build arg, no global) is present and empty. Used for RUN's history and cache key.
     */
    public Map<String, Optional<String>> declaredArgs() {
        return declared;
    }

    /**
     * The environment of a RUN: {@link #environment()} plus the proxy build args it does not already set
     * (which are deliberately left out of history and cache keys).
     */
    public Environment runEnvironment() {
        Environment out = env;
        for (Map.Entry<String, String> p : buildArgs.proxies().asMap().entrySet()) {
            if (!out.contains(p.getKey())) {
                out = out.with(p.getKey(), p.getValue());
            }
        }
        return out;
    }

    /**
     * The scope after an ARG instruction. For each name: a build arg wins; else the default, expanded
     * against the variables so far; else, for a name without a default, the global arg of that name;
     * else the ARG is declared but unset. Errors in a default are located at the ARG.
     */
    public StageScope declare(Instruction.Arg arg) {
        Environment e = env;
        LinkedHashMap<String, Optional<String>> d = new LinkedHashMap<>(declared);
        for (ArgDeclaration decl : arg.args()) {
            String name = decl.name();
            Optional<String> value;
            Optional<String> given = buildArgs.get(name);
            if (given.isPresent()) {
                value = given;
            } else if (decl.defaultValue().isPresent()) {
                try {
                    value = Optional.of(lexer.processWord(decl.defaultValue().get(), e));
                } catch (BuildException ex) {
                    throw arg.location().error(ex.getMessage());
                }
            } else {
                value = globals.get(name);
            }
            if (value.isPresent() && !NON_ENV_ARGS.contains(name)) {
                e = e.with(name, value.get());
            }
            d.remove(name);
            d.put(name, value);
        }
        return new StageScope(globals, buildArgs, lexer, imageEnv, e, d);
    }

    /**
     * The scope after an ENV instruction whose pairs were expanded (with {@link #environment()} as it was
     * before the instruction: {@code ENV a=1 b=$a} sees the old {@code a}).
     */
    public StageScope setEnv(List<KeyValue> expandedPairs) {
        // one copy for all the pairs: an ENV of 10,000 pairs is not 10,000 copies of a growing map
        return new StageScope(globals, buildArgs, lexer, imageEnv.with(expandedPairs), env.with(expandedPairs),
                new LinkedHashMap<>(declared));
    }
}
