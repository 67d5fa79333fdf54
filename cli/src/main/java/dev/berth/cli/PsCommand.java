package dev.berth.cli;

import dev.berth.layers.BerthHome;
import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerInfo;
import dev.berth.runtime.ContainerRuntime;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth ps}: the containers, as docker lists them. */
@Command(name = "ps", description = "List containers (running ones; -a: all).")
final class PsCommand implements Callable<Integer> {
    @Option(names = {"-a", "--all"}, description = "Show exited containers too.")
    boolean all;

    @Option(names = {"-q", "--quiet"}, description = "Only show container ids.")
    boolean quiet;

    @Option(names = "--format", paramLabel = "table|json|TEMPLATE", defaultValue = "table",
            description = "Output format: table (default), json, or a template such as '{{.Names}} {{.Status}}'.")
    String format;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        List<ContainerInfo> containers;
        try {
            containers = ContainerRuntime.open(BerthHome.fromEnvironment()).list(all);
        } catch (ContainerException e) {
            throw new ContainerFailure(e);
        }
        PrintWriter out = spec.commandLine().getOut();
        Instant now = Instant.now();
        GoTemplate template = GoTemplate.forFormat(format, "table", "json").orElse(null);
        if (template != null || format.equals("json")) {
            List<java.util.Map<String, Object>> rows = containers.stream().map(c -> fields(c, now)).toList();
            out.print(template != null ? template.render(rows, java.util.Map.of("ID", "CONTAINER ID", "RunningFor",
                    "CREATED", "CreatedAt", "CREATED AT")) : dev.berth.layers.Json.pretty(rows) + "\n");
        } else if (quiet) {
            containers.forEach(c -> out.println(c.id().substring(0, 12)));
        } else {
            String format = "%-14s %-20s %-24s %-16s %-26s %-20s %s%n";
            out.printf(format, "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES");
            for (ContainerInfo c : containers) {
                out.printf(format, c.id().substring(0, 12), c.image(), command(c.command()),
                        ago(Duration.between(c.created(), now)), status(c, now),
                        c.ports().stream().map(Object::toString).collect(Collectors.joining(", ")), c.name());
            }
        }
        out.flush();
        return 0;
    }

    /** docker's fields of a container, for --format. */
    private static java.util.Map<String, Object> fields(ContainerInfo c, Instant now) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("ID", c.id().substring(0, 12));
        m.put("Image", c.image());
        m.put("Command", command(c.command()));
        m.put("CreatedAt", c.created().toString());
        m.put("RunningFor", ago(Duration.between(c.created(), now)));
        m.put("Status", status(c, now));
        m.put("State", c.status() == ContainerInfo.Status.RUNNING ? (c.paused() ? "paused" : "running")
                : c.status() == ContainerInfo.Status.DEAD ? "dead" : "exited");
        m.put("Ports", c.ports().stream().map(Object::toString).collect(Collectors.joining(", ")));
        m.put("Names", c.name());
        return m;
    }

    static String command(List<String> args) {
        String s = args.stream().map(a -> a.contains(" ") ? "'" + a + "'" : a).collect(Collectors.joining(" "));
        return "\"" + (s.length() > 20 ? s.substring(0, 19) + "…" : s) + "\"";
    }

    static String status(ContainerInfo c, Instant now) {
        return switch (c.status()) {
            case RUNNING -> "Up " + human(Duration.between(c.started(), now)) + (c.paused() ? " (Paused)" : "");
            case EXITED -> "Exited (" + c.exitCode().orElse(-1) + ")" + (c.oomKilled() ? " OOM" : "") + " "
                    + ago(Duration.between(c.finished().orElse(c.created()), now));
            case DEAD -> "Dead (berth was killed)";
        };
    }

    static String ago(Duration d) {
        return human(d) + " ago";
    }

    static String human(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) {
            return s + " second" + (s == 1 ? "" : "s");
        }
        if (s < 3600) {
            return s / 60 + " minute" + (s / 60 == 1 ? "" : "s");
        }
        if (s < 86400) {
            return s / 3600 + " hour" + (s / 3600 == 1 ? "" : "s");
        }
        return s / 86400 + " day" + (s / 86400 == 1 ? "" : "s");
    }
}
