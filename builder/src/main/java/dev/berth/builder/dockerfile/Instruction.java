package dev.berth.builder.dockerfile;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One Dockerfile instruction with its meaning: flags validated, arguments split and checked. Each carries
 * its {@link #location()} and its {@link #text()} as written (continuations joined), which is what image
 * history ({@code created_by}) and error messages show.
 *
 * <p>Values are as written in the file: variables are expanded at build time, against the stage's
 * environment, by {@link Expander#expand} for the instructions that support it (the {@link Expandable}
 * ones: ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR). RUN, CMD, ENTRYPOINT,
 * SHELL, HEALTHCHECK and MAINTAINER are never expanded by the builder (a shell does it at run time, or
 * nothing does); ARG defaults are expanded when the ARG is declared ({@link StageScope#declare}); ONBUILD
 * keeps its text for the image config and is parsed when it fires ({@link Onbuild#trigger}).
 */
public sealed interface Instruction {
    Location location();

    /** The instruction as written, continuations joined and surrounding blanks trimmed; no heredoc bodies. */
    String text();

    /** The instruction's name in upper case ({@code COPY}). */
    default String keyword() {
        return switch (this) {
            case From f -> "FROM";
            case Run r -> "RUN";
            case Cmd c -> "CMD";
            case Entrypoint e -> "ENTRYPOINT";
            case Shell s -> "SHELL";
            case Copy c -> "COPY";
            case Add a -> "ADD";
            case Env e -> "ENV";
            case Arg a -> "ARG";
            case Label l -> "LABEL";
            case Workdir w -> "WORKDIR";
            case User u -> "USER";
            case Expose e -> "EXPOSE";
            case Volume v -> "VOLUME";
            case StopSignal s -> "STOPSIGNAL";
            case Healthcheck h -> "HEALTHCHECK";
            case Onbuild o -> "ONBUILD";
            case Maintainer m -> "MAINTAINER";
        };
    }

    /** An instruction whose words are expanded with the stage's variables before it runs. */
    sealed interface Expandable extends Instruction
            permits From, Copy, Add, Env, Label, Workdir, User, Expose, Volume, StopSignal {
        /** This instruction with its words expanded; returns the same record type. */
        Expandable expand(WordExpander expander);
    }

    /**
     * {@code FROM [--platform=P] image [AS name]}: starts a stage.
     *
     * @param image an image reference or the name of an earlier stage (or {@code scratch})
     * @param stageName the stage's name, lower-cased
     * @param platform the {@code --platform} value
     */
    record From(Location location, String text, String image, Optional<String> stageName, Optional<String> platform)
            implements Expandable {
        public From {
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(stageName, "stageName");
            Objects.requireNonNull(platform, "platform");
        }

        /** Expands image and platform; both must stay non-empty. Use the global build args as the variables. */
        @Override
        public From expand(WordExpander e) {
            String base = e.word(image);
            if (base.isEmpty()) {
                throw location.error("base name (" + image + ") should not be blank");
            }
            Optional<String> p = platform.map(e::word);
            if (p.isPresent() && p.get().isEmpty()) {
                throw location.error("empty platform value from expression " + platform.get());
            }
            return new From(location, text, base, stageName, p);
        }
    }

    /**
     * {@code RUN [--mount=...] [--network=...] [--security=...] command}.
     *
     * @param mounts the {@code --mount} values as written (CSV, not interpreted yet)
     * @param network {@code default}, {@code none} or {@code host} when given
     * @param security {@code sandbox} or {@code insecure} when given
     * @param devices the {@code --device} values as written
     */
    record Run(Location location, String text, CommandLine command, List<Heredoc> heredocs, List<String> mounts,
               Optional<String> network, Optional<String> security, List<String> devices) implements Instruction {
        public Run {
            Objects.requireNonNull(command, "command");
            heredocs = List.copyOf(heredocs);
            mounts = List.copyOf(mounts);
            Objects.requireNonNull(network, "network");
            Objects.requireNonNull(security, "security");
            devices = List.copyOf(devices);
        }
    }

    /** {@code CMD}: the default command (shell form with an empty string for a bare {@code CMD}). */
    record Cmd(Location location, String text, CommandLine command) implements Instruction {
        public Cmd {
            Objects.requireNonNull(command, "command");
        }
    }

    /** {@code ENTRYPOINT}; {@code ENTRYPOINT []} is an empty exec form, which clears the entrypoint. */
    record Entrypoint(Location location, String text, CommandLine command) implements Instruction {
        public Entrypoint {
            Objects.requireNonNull(command, "command");
        }
    }

    /** {@code SHELL ["executable", "args"]}: always JSON, never empty. */
    record Shell(Location location, String text, List<String> shell) implements Instruction {
        public Shell {
            shell = List.copyOf(shell);
        }
    }

    /**
     * {@code COPY [--from=] [--chown=] [--chmod=] [--link] [--exclude=]... [--parents] src... dest}.
     *
     * @param from a stage name, a stage index or an image reference; never expanded
     */
    record Copy(Location location, String text, List<CopySource> sources, String destination, Optional<String> from,
                Optional<String> chown, Optional<String> chmod, boolean link, List<String> excludes, boolean parents)
            implements Expandable {
        public Copy {
            sources = List.copyOf(sources);
            Objects.requireNonNull(destination, "destination");
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(chown, "chown");
            Objects.requireNonNull(chmod, "chmod");
            excludes = List.copyOf(excludes);
        }

        /** The path sources, in order. */
        public List<String> paths() {
            return pathsOf(sources);
        }

        @Override
        public Copy expand(WordExpander e) {
            return new Copy(location, text, expandSources(sources, e), e.word(destination), from,
                    chown.map(e::word), chmod.map(e::word), link, excludes, parents);
        }
    }

    /**
     * {@code ADD [--chown=] [--chmod=] [--link] [--exclude=]... [--checksum=] [--keep-git-dir] [--unpack]
     * src... dest}; sources may also be URLs and git references.
     *
     * @param keepGitDir present when {@code --keep-git-dir} was given
     * @param unpack present when {@code --unpack} was given (otherwise local archives are unpacked, URLs not)
     */
    record Add(Location location, String text, List<CopySource> sources, String destination, Optional<String> chown,
               Optional<String> chmod, boolean link, List<String> excludes, Optional<String> checksum,
               Optional<Boolean> keepGitDir, Optional<Boolean> unpack) implements Expandable {
        public Add {
            sources = List.copyOf(sources);
            Objects.requireNonNull(destination, "destination");
            Objects.requireNonNull(chown, "chown");
            Objects.requireNonNull(chmod, "chmod");
            excludes = List.copyOf(excludes);
            Objects.requireNonNull(checksum, "checksum");
            Objects.requireNonNull(keepGitDir, "keepGitDir");
            Objects.requireNonNull(unpack, "unpack");
        }

        public List<String> paths() {
            return pathsOf(sources);
        }

        @Override
        public Add expand(WordExpander e) {
            return new Add(location, text, expandSources(sources, e), e.word(destination), chown.map(e::word),
                    chmod.map(e::word), link, excludes, checksum.map(e::word), keepGitDir, unpack);
        }
    }

    /** {@code ENV k=v ...} or the old {@code ENV k v}; keys and values are expanded (quotes removed then). */
    record Env(Location location, String text, List<KeyValue> pairs) implements Expandable {
        public Env {
            pairs = List.copyOf(pairs);
        }

        @Override
        public Env expand(WordExpander e) {
            return new Env(location, text, expandPairs(pairs, e));
        }
    }

    /** {@code ARG name[=default] ...}. */
    record Arg(Location location, String text, List<ArgDeclaration> args) implements Instruction {
        public Arg {
            args = List.copyOf(args);
        }
    }

    /** {@code LABEL k=v ...}. */
    record Label(Location location, String text, List<KeyValue> pairs) implements Expandable {
        public Label {
            pairs = List.copyOf(pairs);
        }

        @Override
        public Label expand(WordExpander e) {
            return new Label(location, text, expandPairs(pairs, e));
        }
    }

    /** {@code WORKDIR path}; a relative path is relative to the previous WORKDIR. */
    record Workdir(Location location, String text, String path) implements Expandable {
        public Workdir {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public Workdir expand(WordExpander e) {
            return new Workdir(location, text, e.word(path));
        }
    }

    /** {@code USER user[:group]}. */
    record User(Location location, String text, String user) implements Expandable {
        public User {
            Objects.requireNonNull(user, "user");
        }

        @Override
        public User expand(WordExpander e) {
            return new User(location, text, e.word(user));
        }
    }

    /** {@code EXPOSE port[/proto] ...}; expansion may split a value into several ports. */
    record Expose(Location location, String text, List<String> ports) implements Expandable {
        public Expose {
            ports = List.copyOf(ports);
        }

        @Override
        public Expose expand(WordExpander e) {
            List<String> out = new ArrayList<>();
            ports.forEach(p -> out.addAll(e.words(p)));
            return new Expose(location, text, out);
        }
    }

    /** {@code VOLUME ["/a"]} or {@code VOLUME /a /b}. */
    record Volume(Location location, String text, List<String> paths) implements Expandable {
        public Volume {
            paths = List.copyOf(paths);
        }

        @Override
        public Volume expand(WordExpander e) {
            List<String> out = new ArrayList<>(paths.size());
            for (String p : paths) {
                String v = e.word(p);
                if (v.isEmpty()) {
                    throw location.error("VOLUME specified can not be an empty string");
                }
                out.add(v);
            }
            return new Volume(location, text, out);
        }
    }

    /** {@code STOPSIGNAL signal}: a name ({@code SIGTERM}, {@code TERM}) or a number. */
    record StopSignal(Location location, String text, String signal) implements Expandable {
        public StopSignal {
            Objects.requireNonNull(signal, "signal");
        }

        /** Expands and validates the signal as docker's {@code signal.ParseSignal} does. */
        @Override
        public StopSignal expand(WordExpander e) {
            String s = e.word(signal);
            if (!Signals.isValid(s)) {
                throw location.error("Invalid signal: " + s);
            }
            return new StopSignal(location, text, s);
        }
    }

    /**
     * {@code HEALTHCHECK NONE} (no {@link #command()}) or {@code HEALTHCHECK [--interval=] [--timeout=]
     * [--start-period=] [--start-interval=] [--retries=] CMD command}. A duration given as zero is absent,
     * as in docker (zero means "inherit the default").
     */
    record Healthcheck(Location location, String text, Optional<CommandLine> command, Optional<Duration> interval,
                       Optional<Duration> timeout, Optional<Duration> startPeriod, Optional<Duration> startInterval,
                       OptionalInt retries) implements Instruction {
        public Healthcheck {
            Objects.requireNonNull(command, "command");
            Objects.requireNonNull(interval, "interval");
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(startPeriod, "startPeriod");
            Objects.requireNonNull(startInterval, "startInterval");
            Objects.requireNonNull(retries, "retries");
        }

        /** The image config's {@code Healthcheck.Test}: {@code [NONE]}, {@code [CMD, ...]} or {@code [CMD-SHELL, cmd]}. */
        public List<String> test() {
            return command.map(c -> switch (c) {
                case CommandLine.Exec x -> {
                    List<String> out = new ArrayList<>();
                    out.add("CMD");
                    out.addAll(x.args());
                    yield List.copyOf(out);
                }
                case CommandLine.ShellForm s -> List.of("CMD-SHELL", s.command());
            }).orElse(List.of("NONE"));
        }
    }

    /**
     * {@code ONBUILD instruction}.
     *
     * @param expression the trigger as stored in an image config's {@code OnBuild} (the text after ONBUILD,
     *     heredoc bodies appended)
     */
    record Onbuild(Location location, String text, String expression) implements Instruction {
        public Onbuild {
            Objects.requireNonNull(expression, "expression");
        }

        /**
         * The trigger as an instruction, for a child build. It is located at {@code at}, the child's FROM line,
         * as buildkit reports errors of triggers there.
         */
        public Instruction trigger(Location at) {
            return Instructions.parseTrigger(expression, at);
        }
    }

    /** {@code MAINTAINER name} (deprecated; becomes the image's author). */
    record Maintainer(Location location, String text, String name) implements Instruction {
        public Maintainer {
            Objects.requireNonNull(name, "name");
        }
    }

    private static List<String> pathsOf(List<CopySource> sources) {
        return sources.stream()
                .filter(s -> s instanceof CopySource.PathSource)
                .map(s -> ((CopySource.PathSource) s).path())
                .toList();
    }

    private static List<CopySource> expandSources(List<CopySource> sources, WordExpander e) {
        List<CopySource> out = new ArrayList<>(sources.size());
        for (CopySource s : sources) {
            out.add(switch (s) {
                case CopySource.PathSource p -> new CopySource.PathSource(e.word(p.path()));
                case CopySource.HeredocSource h -> h.expand()
                        ? new CopySource.HeredocSource(h.name(), e.heredoc(h.content()), true)
                        : h;
            });
        }
        return out;
    }

    private static List<KeyValue> expandPairs(List<KeyValue> pairs, WordExpander e) {
        return pairs.stream().map(kv -> new KeyValue(e.word(kv.key()), e.word(kv.value()))).toList();
    }
}
