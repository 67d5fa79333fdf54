package dev.berth.runtime;

import dev.berth.layers.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code containers/<id>/run.json}: how a container was run, resolved (its command, environment, user,
 * directory and host name as they were worked out from the image and the options), so that
 * {@code berth start} runs it again the same way on its kept upper directory, and {@code berth inspect}
 * shows its configuration. Written atomically when the container is created; a build's containers (with
 * mounts of their own, or a commit target) have none: they are never started again.
 */
final class RunConfig {
    static final String FILE = "run.json";

    private RunConfig() {}

    /**
     * Writes it; {@code mounts} are the container's, whose destinations {@code diff} and {@code commit}
     * need to tell the runtime's mount points from the container's changes.
     */
    static void write(Path dir, RunOptions o, ContainerPlan plan, List<PortMapping> publish,
                      List<ContainerSpec.Mount> mounts, dev.berth.layers.Platform platform) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("args", plan.args());
        m.put("env", plan.keptEnv());
        m.put("workdir", plan.cwd());
        m.put("user", o.user().orElse(""));
        m.put("hostname", plan.hostname());
        m.put("volumes", o.volumes().stream().map(v -> List.of(v.host().toString(), v.container(),
                Boolean.toString(v.readOnly()))).toList());
        m.put("readOnly", o.readOnly());
        m.put("network", o.network().text());
        m.put("memory", o.resources().memoryBytes().isPresent() ? o.resources().memoryBytes().getAsLong() : null);
        m.put("cpuQuota", o.resources().cpuQuotaMicros().isPresent() ? o.resources().cpuQuotaMicros().getAsLong() : null);
        m.put("pidsLimit", o.resources().pidsLimit().isPresent() ? o.resources().pidsLimit().getAsLong() : null);
        m.put("init", o.init());
        m.put("tty", o.tty());
        m.put("interactive", o.interactive());
        m.put("keepId", o.keepId());
        m.put("noNewPrivileges", o.noNewPrivileges());
        m.put("seccomp", o.seccomp().text());
        m.put("platform", platform.toString()); // which image of a multi-platform name it ran
        m.put("logMaxBytes", o.detach().map(DetachOptions::logMaxBytes).orElse(0L));
        m.put("logMaxFiles", o.detach().map(DetachOptions::logMaxFiles).orElse(1));
        m.put("publish", publish.stream().map(p -> List.of(p.protocol(), p.hostIp(), Integer.toString(p.hostPort()),
                Integer.toString(p.containerPort()))).toList());
        m.put("hosts", o.names().hosts());
        m.put("dns", o.names().servers());
        m.put("dnsSearch", o.names().search());
        m.put("dnsOptions", o.names().options());
        m.put("mountPoints", mounts.stream().map(ContainerSpec.Mount::destination).toList());
        Path tmp = dir.resolve(FILE + ".tmp");
        try {
            Files.write(tmp, Json.writePlain(m));
            Files.move(tmp, dir.resolve(FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new ContainerException("cannot write " + dir.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    /** What a container's run.json holds, for {@code inspect}; empty for a container that has none. */
    static Optional<Map<?, ?>> read(Path dir, String what) {
        try {
            return Optional.of((Map<?, ?>) Json.readPlain(Files.readAllBytes(dir.resolve(FILE)), what + ": " + FILE));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | ClassCastException e) {
            throw new ContainerException(what + ": cannot read its " + FILE + ": " + e.getMessage(), e);
        }
    }

    /**
     * The options that run the container again as it was: its resolved command (no entrypoint to combine),
     * environment, user, directory and host name, volumes, limits, terminal, ports; detached with its log
     * options unless {@code detach} is empty (then in the foreground, on berth's own streams).
     */
    static RunOptions options(Map<?, ?> m, String name, Optional<DetachOptions> detach, boolean attachStdin) {
        RunOptions.Builder b = RunOptions.builder().name(name).entrypoint("").command(strings(m.get("args")))
                .env(strings(m.get("env"))).workdir((String) m.get("workdir")).hostname((String) m.get("hostname"))
                .readOnly(bool(m, "readOnly")).network(NetworkMode.parse((String) m.get("network")))
                .resources(new Resources(number(m, "memory"), number(m, "cpuQuota"), number(m, "pidsLimit")))
                .init(bool(m, "init")).tty(bool(m, "tty")).keepId(bool(m, "keepId"))
                .noNewPrivileges(bool(m, "noNewPrivileges")).seccomp(seccomp(m));
        if (!((String) m.get("user")).isEmpty()) {
            b.user((String) m.get("user"));
        }
        for (Object v : (List<?>) m.get("volumes")) {
            List<String> f = strings(v);
            b.volume(new Volume(Path.of(f.get(0)), f.get(1), Boolean.parseBoolean(f.get(2))));
        }
        for (Object p : (List<?>) m.get("publish")) {
            List<String> f = strings(p);
            b.publish(List.of(new PortMapping(f.get(0), f.get(1), Integer.parseInt(f.get(2)), Integer.parseInt(f.get(3)))));
        }
        if (m.get("hosts") instanceof List<?>) {
            b.names(new NameResolution(strings(m.get("hosts")), strings(m.get("dns")), strings(m.get("dnsSearch")),
                    strings(m.get("dnsOptions"))));
        }
        boolean interactive = bool(m, "interactive");
        if (detach.isPresent()) {
            DetachOptions d = detach.get();
            b.detach(new DetachOptions(((Number) m.get("logMaxBytes")).longValue(),
                    ((Number) m.get("logMaxFiles")).intValue(), d.exitCommand())).interactive(interactive);
        } else {
            b.interactive(interactive && attachStdin);
        }
        return b.build();
    }

    private static List<String> strings(Object v) {
        return ((List<?>) v).stream().map(String.class::cast).toList();
    }

    /** The platform of the image the container ran; empty for a container made before berth kept it. */
    static Optional<dev.berth.layers.Platform> platform(Map<?, ?> m) {
        return m.get("platform") instanceof String p ? Optional.of(dev.berth.layers.Platform.parse(p)) : Optional.empty();
    }

    /** The container's seccomp profile (berth's default for a container made before berth kept it). */
    static Seccomp seccomp(Map<?, ?> m) {
        return m.get("seccomp") instanceof String s ? Seccomp.ofText(s) : Seccomp.BUILTIN;
    }

    private static boolean bool(Map<?, ?> m, String key) {
        return Boolean.TRUE.equals(m.get(key));
    }

    private static OptionalLong number(Map<?, ?> m, String key) {
        return m.get(key) instanceof Number n ? OptionalLong.of(n.longValue()) : OptionalLong.empty();
    }
}
