package dev.berth.builder;

import dev.berth.builder.dockerfile.Expander;
import dev.berth.builder.dockerfile.Instruction;
import dev.berth.builder.dockerfile.KeyValue;
import dev.berth.builder.dockerfile.ShellLexer;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.ImageConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The instructions that change only the image config and the stage's variables (ARG, ENV, LABEL, USER,
 * EXPOSE, VOLUME, STOPSIGNAL, SHELL, CMD, ENTRYPOINT, HEALTHCHECK, ONBUILD, MAINTAINER), as docker sets
 * them. They cost nothing, so they need no cache; each adds an {@code empty_layer} history entry.
 */
final class ConfigSteps {
    static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-c");

    private final BuildRun run;
    private final ShellLexer lexer;
    private final Set<String> declaredArgs;

    /** @param declaredArgs collects the names every ARG declares (for the "not consumed" warning) */
    ConfigSteps(BuildRun run, ShellLexer lexer, Set<String> declaredArgs) {
        this.run = run;
        this.lexer = lexer;
        this.declaredArgs = declaredArgs;
    }

    /** Applies {@code i} when it is one of these instructions; false when it is not. */
    boolean apply(StageState s, Instruction i) {
        ContainerConfig.Builder c = s.config.containerConfig().toBuilder();
        switch (i) {
            case Instruction.Arg a -> {
                s.scope = s.scope.declare(a);
                a.args().forEach(d -> declaredArgs.add(d.name()));
                // As buildkit: the history shows each ARG with the value it took (so secrets belong in
                // secret mounts, not build args).
                run.layers().history(s, "ARG " + String.join(" ", a.args().stream().map(d -> d.name()
                        + s.scope.declaredArgs().getOrDefault(d.name(), Optional.empty()).map(v -> "=" + v).orElse(""))
                        .toList()));
            }
            case Instruction.Env e -> {
                Instruction.Env x = Expander.expand(e, lexer, s.scope.environment()).instruction();
                s.scope = s.scope.setEnv(x.pairs());
                s.config = withEnv(s.config, s);
                run.layers().history(s, "ENV " + join(x.pairs()));
            }
            case Instruction.Label l -> {
                Instruction.Label x = Expander.expand(l, lexer, s.scope.environment()).instruction();
                x.pairs().forEach(kv -> c.labels.put(kv.key(), kv.value()));
                s.set(c);
                run.layers().history(s, "LABEL " + join(x.pairs()));
            }
            case Instruction.Maintainer m -> {
                // Docker keeps MAINTAINER as the image's author; berth also sets the OCI label that replaces it.
                c.labels.put("org.opencontainers.image.authors", m.name());
                s.set(c);
                s.config = s.config.withAuthor(Optional.of(m.name()));
                run.layers().history(s, "MAINTAINER " + m.name());
            }
            case Instruction.User u -> {
                Instruction.User x = Expander.expand(u, lexer, s.scope.environment()).instruction();
                c.user = Optional.of(x.user());
                s.set(c);
                run.layers().history(s, "USER " + x.user());
            }
            case Instruction.Expose e -> {
                Instruction.Expose x = Expander.expand(e, lexer, s.scope.environment()).instruction();
                List<String> ports = Ports.parse(x.ports(), x.location());
                ports.forEach(p -> c.exposedPorts.put(p, Map.of()));
                s.set(c);
                run.layers().history(s, "EXPOSE " + String.join(" ", ports));
            }
            case Instruction.Volume v -> {
                Instruction.Volume x = Expander.expand(v, lexer, s.scope.environment()).instruction();
                x.paths().forEach(p -> c.volumes.put(p, Map.of()));
                s.set(c);
                run.layers().history(s, "VOLUME " + x.paths());
            }
            case Instruction.StopSignal sig -> {
                Instruction.StopSignal x = Expander.expand(sig, lexer, s.scope.environment()).instruction();
                c.stopSignal = Optional.of(x.signal());
                s.set(c);
                run.layers().history(s, "STOPSIGNAL " + x.signal());
            }
            case Instruction.Shell sh -> {
                c.shell = sh.shell();
                s.set(c);
                run.layers().history(s, "SHELL " + sh.shell());
            }
            case Instruction.Cmd cmd -> {
                List<String> argv = cmd.command().argv(shell(s));
                c.cmd = Optional.of(argv);
                s.cmdSet = true;
                s.set(c);
                run.layers().history(s, "CMD " + quoted(argv));
            }
            case Instruction.Entrypoint ep -> {
                List<String> argv = ep.command().argv(shell(s));
                c.entrypoint = Optional.of(argv);
                if (!s.cmdSet) {
                    c.cmd = Optional.empty(); // an ENTRYPOINT resets a CMD this stage did not set
                }
                s.set(c);
                run.layers().history(s, "ENTRYPOINT " + quoted(argv));
            }
            case Instruction.Healthcheck h -> {
                c.healthcheck = Optional.of(new ContainerConfig.HealthCheck(h.test(),
                        h.interval().map(Duration::toNanos), h.timeout().map(Duration::toNanos),
                        h.startPeriod().map(Duration::toNanos), h.startInterval().map(Duration::toNanos),
                        h.retries().isPresent() ? Optional.of(h.retries().getAsInt()) : Optional.empty()));
                s.set(c);
                run.layers().history(s, "HEALTHCHECK " + h.test());
            }
            case Instruction.Onbuild o -> {
                c.onBuild.add(o.expression());
                s.set(c);
                run.layers().history(s, "ONBUILD " + o.expression());
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** The config with the stage's image environment (the base image's Env and the ENVs, no ARGs). */
    static ImageConfig withEnv(ImageConfig config, StageState s) {
        ContainerConfig.Builder b = config.containerConfig().toBuilder();
        b.env = new ArrayList<>(s.scope.imageEnvironment().toList());
        return config.withContainerConfig(b.build());
    }

    /** The stage's SHELL, or docker's default {@code /bin/sh -c}. */
    static List<String> shell(StageState s) {
        List<String> sh = s.config.containerConfig().shell();
        return sh.isEmpty() ? DEFAULT_SHELL : sh;
    }

    private static String join(List<KeyValue> pairs) {
        return String.join(" ", pairs.stream().map(KeyValue::toString).toList());
    }

    /** A command as buildkit's history shows it (Go's {@code %q} of a list): {@code ["/bin/sh" "-c" "echo hi"]}. */
    static String quoted(List<String> argv) {
        StringBuilder b = new StringBuilder("[");
        for (String a : argv) {
            if (b.length() > 1) {
                b.append(' ');
            }
            b.append('"');
            for (char ch : a.toCharArray()) {
                switch (ch) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\t' -> b.append("\\t");
                    default -> b.append(ch);
                }
            }
            b.append('"');
        }
        return b.append(']').toString();
    }
}
