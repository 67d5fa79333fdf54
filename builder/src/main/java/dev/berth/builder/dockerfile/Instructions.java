package dev.berth.builder.dockerfile;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * {@link Node} to {@link Instruction}: argument counts, flags and values checked as buildkit's
 * {@code instructions.ParseInstruction} does, with the same messages, each prefixed by the location.
 */
final class Instructions {
    private Instructions() {}

    static final List<String> NAMES = List.of("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM",
            "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR");

    private static final Pattern STAGE_NAME = Pattern.compile("[a-z][a-z0-9-_.]*");
    private static final Pattern ONBUILD_PREFIX = Pattern.compile("^[\\t\\n\\f\\r ]*ONBUILD[\\t\\n\\f\\r ]*",
            Pattern.CASE_INSENSITIVE);

    /** A problem with one instruction; {@link #parse} adds the location. */
    private static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    static Instruction parse(Node node, String file) {
        Location loc = new Location(file, node.startLine(), Math.max(node.startLine(), node.endLine()));
        try {
            return parse(node, loc);
        } catch (Invalid | Flags.Invalid e) {
            throw loc.error(e.getMessage());
        } catch (GoDuration.Invalid e) {
            throw loc.error(e.getMessage());
        }
    }

    static Instruction parseTrigger(String expression, Location at) {
        Node node = Parser.parseTrigger(at.file(), expression, at.startLine());
        return parse(node, at.file());
    }

    private static Instruction parse(Node n, Location loc) {
        String text = GoStrings.trimSpace(n.original());
        List<String> args = n.args();
        return switch (n.name()) {
            case "from" -> from(n, loc, text);
            case "run" -> {
                Flags f = new Flags().defineStrings("mount").defineString("network").defineString("security")
                        .defineStrings("device").parse(n.flags());
                Optional<String> network = f.string("network");
                if (network.isPresent() && !List.of("default", "none", "host").contains(network.get())) {
                    throw new Invalid("invalid network mode " + GoStrings.quote(network.get()));
                }
                Optional<String> security = f.string("security");
                if (security.isPresent() && !List.of("sandbox", "insecure").contains(security.get())) {
                    throw new Invalid("security " + GoStrings.quote(security.get()) + " is not valid");
                }
                yield new Instruction.Run(loc, text, command(n), n.heredocs(), f.strings("mount"), network, security,
                        f.strings("device"));
            }
            case "cmd" -> {
                new Flags().parse(n.flags());
                yield new Instruction.Cmd(loc, text, command(n));
            }
            case "entrypoint" -> {
                new Flags().parse(n.flags());
                yield new Instruction.Entrypoint(loc, text, command(n));
            }
            case "shell" -> {
                new Flags().parse(n.flags());
                if (args.isEmpty()) {
                    throw atLeastOne("SHELL");
                }
                if (!n.json()) {
                    throw new Invalid("SHELL requires the arguments to be in JSON form");
                }
                yield new Instruction.Shell(loc, text, args);
            }
            case "copy" -> copy(n, loc, text);
            case "add" -> add(n, loc, text);
            case "env" -> {
                new Flags().parse(n.flags());
                yield new Instruction.Env(loc, text, pairs(args, "ENV"));
            }
            case "label" -> {
                new Flags().parse(n.flags());
                yield new Instruction.Label(loc, text, pairs(args, "LABEL"));
            }
            case "arg" -> {
                if (args.isEmpty()) {
                    throw atLeastOne("ARG");
                }
                new Flags().parse(n.flags());
                List<ArgDeclaration> decls = new ArrayList<>();
                for (String a : args) {
                    int eq = a.indexOf('=');
                    if (eq == 0) {
                        throw new Invalid("ARG names can not be blank");
                    }
                    decls.add(eq < 0 ? new ArgDeclaration(a, Optional.empty())
                            : new ArgDeclaration(a.substring(0, eq), Optional.of(a.substring(eq + 1))));
                }
                yield new Instruction.Arg(loc, text, decls);
            }
            case "workdir" -> new Instruction.Workdir(loc, text, exactlyOne(n, "WORKDIR"));
            case "user" -> new Instruction.User(loc, text, exactlyOne(n, "USER"));
            case "stopsignal" -> new Instruction.StopSignal(loc, text, exactlyOne(n, "STOPSIGNAL"));
            case "maintainer" -> new Instruction.Maintainer(loc, text, exactlyOne(n, "MAINTAINER"));
            case "expose" -> {
                if (args.isEmpty()) {
                    throw atLeastOne("EXPOSE");
                }
                new Flags().parse(n.flags());
                yield new Instruction.Expose(loc, text, args.stream().sorted().toList());
            }
            case "volume" -> {
                if (args.isEmpty()) {
                    throw atLeastOne("VOLUME");
                }
                new Flags().parse(n.flags());
                List<String> paths = new ArrayList<>();
                for (String v : args) {
                    String p = GoStrings.trimSpace(v);
                    if (p.isEmpty()) {
                        throw new Invalid("VOLUME specified can not be an empty string");
                    }
                    paths.add(p);
                }
                yield new Instruction.Volume(loc, text, paths);
            }
            case "healthcheck" -> healthcheck(n, loc, text);
            case "onbuild" -> onbuild(n, loc, text);
            default -> {
                String hint = Suggest.closest(n.keyword(), NAMES, false).map(s -> " (did you mean " + s + "?)").orElse("");
                throw new Invalid("unknown instruction: " + n.keyword() + hint);
            }
        };
    }

    private static Instruction.From from(Node n, Location loc, String text) {
        List<String> args = n.args();
        Optional<String> stage = Optional.empty();
        if (args.size() == 3 && GoStrings.toLower(args.get(1)).equals("as")) {
            String name = GoStrings.toLower(args.get(2));
            if (!STAGE_NAME.matcher(name).matches()) {
                throw new Invalid("invalid name for build stage: " + GoStrings.quote(args.get(2))
                        + ", name can't start with a number or contain symbols");
            }
            stage = Optional.of(name);
        } else if (args.size() != 1) {
            throw new Invalid("FROM requires either one or three arguments");
        }
        Flags f = new Flags().defineString("platform").parse(n.flags());
        return new Instruction.From(loc, text, args.getFirst(), stage, f.string("platform"));
    }

    /** Exec form when the arguments were a JSON array, else the shell form of the whole rest of the line. */
    private static CommandLine command(Node n) {
        return n.json() ? new CommandLine.Exec(n.args()) : new CommandLine.ShellForm(String.join(" ", n.args()));
    }

    private static Instruction.Copy copy(Node n, Location loc, String text) {
        if (n.args().size() < 2) {
            throw noDestination("COPY");
        }
        Flags f = new Flags().defineString("chown").defineString("from").defineString("chmod").defineBool("link")
                .defineStrings("exclude").defineBool("parents").parse(n.flags());
        List<CopySource> sources = sources(n, "COPY");
        return new Instruction.Copy(loc, text, sources, n.args().getLast(), f.string("from"), f.string("chown"),
                f.string("chmod"), f.isTrue("link"), f.strings("exclude"), f.isTrue("parents"));
    }

    private static Instruction.Add add(Node n, Location loc, String text) {
        if (n.args().size() < 2) {
            throw noDestination("ADD");
        }
        Flags f = new Flags().defineString("chown").defineString("chmod").defineBool("link").defineBool("keep-git-dir")
                .defineString("checksum").defineBool("unpack").defineStrings("exclude").parse(n.flags());
        List<CopySource> sources = sources(n, "ADD");
        return new Instruction.Add(loc, text, sources, n.args().getLast(), f.string("chown"), f.string("chmod"),
                f.isTrue("link"), f.strings("exclude"), f.string("checksum"), f.boolIfGiven("keep-git-dir"),
                f.boolIfGiven("unpack"));
    }

    /** All arguments but the last; a {@code <<NAME} argument is the heredoc of that name. */
    private static List<CopySource> sources(Node n, String instruction) {
        List<String> args = n.args();
        if (heredocMarker(args.getLast()).isPresent()) {
            throw new Invalid(instruction + " cannot accept a heredoc as a destination");
        }
        Map<String, Heredoc> byName = new HashMap<>();
        n.heredocs().forEach(h -> byName.put(h.name(), h));
        List<CopySource> out = new ArrayList<>();
        for (String src : args.subList(0, args.size() - 1)) {
            Optional<Heredoc> marker = heredocMarker(src);
            if (marker.isPresent()) {
                Heredoc m = marker.get();
                String content = Optional.ofNullable(byName.get(m.name())).map(Heredoc::content).orElse("");
                out.add(new CopySource.HeredocSource(m.name(), m.chomp() ? Heredoc.chompTabs(content) : content, m.expand()));
            } else {
                out.add(new CopySource.PathSource(src));
            }
        }
        return out;
    }

    private static Optional<Heredoc> heredocMarker(String word) {
        try {
            return Parser.heredocMarker(word);
        } catch (dev.berth.builder.BuildException e) {
            return Optional.empty(); // not a well-formed marker: an ordinary path, as in buildkit
        }
    }

    private static List<KeyValue> pairs(List<String> args, String instruction) {
        if (args.isEmpty()) {
            throw atLeastOne(instruction);
        }
        if (args.size() % 3 != 0) {
            throw new Invalid("Bad input to " + instruction + ", too many arguments");
        }
        List<KeyValue> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i += 3) {
            if (args.get(i).isEmpty()) {
                throw new Invalid(instruction + " names can not be blank");
            }
            out.add(new KeyValue(args.get(i), args.get(i + 1)));
        }
        return out;
    }

    private static String exactlyOne(Node n, String instruction) {
        if (n.args().size() != 1) {
            throw new Invalid(instruction + " requires exactly one argument");
        }
        new Flags().parse(n.flags());
        return n.args().getFirst();
    }

    private static Instruction.Healthcheck healthcheck(Node n, Location loc, String text) {
        List<String> args = n.args();
        if (args.isEmpty()) {
            throw atLeastOne("HEALTHCHECK");
        }
        String type = GoStrings.toUpper(args.getFirst());
        List<String> rest = args.subList(1, args.size());
        if (type.equals("NONE")) {
            if (!rest.isEmpty()) {
                throw new Invalid("HEALTHCHECK NONE takes no arguments");
            }
            new Flags().parse(n.flags());
            return new Instruction.Healthcheck(loc, text, Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty(), Optional.empty(), OptionalInt.empty());
        }
        Flags f = new Flags().defineString("interval").defineString("timeout").defineString("start-period")
                .defineString("start-interval").defineString("retries").parse(n.flags());
        if (!type.equals("CMD")) {
            throw new Invalid("Unknown type " + GoStrings.quote(type) + " in HEALTHCHECK (try CMD)");
        }
        if (rest.isEmpty()) {
            throw new Invalid("Missing command after HEALTHCHECK CMD");
        }
        CommandLine cmd = n.json() ? new CommandLine.Exec(rest) : new CommandLine.ShellForm(String.join(" ", rest));
        OptionalInt retries = OptionalInt.empty();
        Optional<String> r = f.string("retries");
        if (r.isPresent() && !r.get().isEmpty()) {
            long value;
            try {
                value = Long.parseLong(r.get());
            } catch (NumberFormatException e) {
                throw new Invalid("invalid --retries value " + GoStrings.quote(r.get()) + ": not a number");
            }
            if (value > Integer.MAX_VALUE || value < Integer.MIN_VALUE) {
                throw new Invalid("invalid --retries value " + GoStrings.quote(r.get()) + ": value out of range");
            }
            if (value < 0) {
                throw new Invalid("--retries cannot be negative (" + value + ")");
            }
            retries = OptionalInt.of((int) value);
        }
        return new Instruction.Healthcheck(loc, text, Optional.of(cmd), interval(f, "interval"), interval(f, "timeout"),
                interval(f, "start-period"), interval(f, "start-interval"), retries);
    }

    /** A duration flag: absent when not given or zero; otherwise at least 1ms. */
    private static Optional<Duration> interval(Flags f, String name) {
        Optional<String> v = f.string(name);
        if (v.isEmpty() || v.get().isEmpty()) {
            return Optional.empty();
        }
        Duration d;
        try {
            d = GoDuration.parse(v.get());
        } catch (GoDuration.Invalid e) {
            throw new Invalid("--" + name + ": " + e.getMessage());
        }
        if (d.isZero()) {
            return Optional.empty();
        }
        if (d.compareTo(Duration.ofMillis(1)) < 0) {
            throw new Invalid("Interval " + GoStrings.quote(name) + " cannot be less than 1ms");
        }
        return Optional.of(d);
    }

    private static Instruction.Onbuild onbuild(Node n, Location loc, String text) {
        if (n.subcommand().isEmpty()) {
            throw atLeastOne("ONBUILD");
        }
        new Flags().parse(n.flags());
        String trigger = GoStrings.toUpper(GoStrings.trimSpace(n.subcommand().get().keyword()));
        switch (trigger) {
            case "ONBUILD" -> throw new Invalid("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
            case "MAINTAINER", "FROM" -> throw new Invalid(trigger + " isn't allowed as an ONBUILD trigger");
            default -> { }
        }
        StringBuilder expression = new StringBuilder(ONBUILD_PREFIX.matcher(n.original()).replaceFirst(""));
        for (Heredoc h : n.heredocs()) {
            expression.append('\n').append(h.content()).append(h.name());
        }
        return new Instruction.Onbuild(loc, text, expression.toString());
    }

    private static Invalid atLeastOne(String instruction) {
        return new Invalid(instruction + " requires at least one argument");
    }

    private static Invalid noDestination(String instruction) {
        return new Invalid(instruction + " requires at least two arguments, but only one was provided. "
                + "Destination could not be determined");
    }
}
