package dev.berth.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code berth inspect CONTAINER}: a container as docker's inspect shows one (the fields berth has, named
 * as docker names them, so that scripts' {@code .State.Status}, {@code .NetworkSettings.Ports} and
 * {@code .Config.Env} work): its state, the configuration it runs with, its mounts and published ports.
 */
final class ContainerInspect {
    private ContainerInspect() {}

    static Map<String, Object> of(Path dir, ContainerState s, boolean running) {
        ContainerCgroup cg = s.cgroup();
        boolean paused = running && cg.frozen();
        Map<?, ?> run = RunConfig.read(dir, "container " + s.name()).orElse(Map.of());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Id", s.id());
        m.put("Created", s.created());
        m.put("Path", s.command().isEmpty() ? "" : s.command().getFirst());
        m.put("Args", s.command().isEmpty() ? List.of() : s.command().subList(1, s.command().size()));
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("Status", running ? (paused ? "paused" : "running")
                : s.status() == ContainerInfo.Status.DEAD ? "dead" : "exited");
        state.put("Running", running);
        state.put("Paused", paused);
        state.put("OOMKilled", s.oomKilled());
        state.put("Dead", !running && s.status() == ContainerInfo.Status.DEAD);
        state.put("Pid", running ? s.pid().orElse(0) : 0);
        state.put("ExitCode", running ? 0 : s.exitCode().orElse(128 + 9));
        state.put("StartedAt", s.started());
        state.put("FinishedAt", running ? "0001-01-01T00:00:00Z" : s.finished().orElse(""));
        m.put("State", state);
        m.put("Image", s.imageId());
        m.put("Name", "/" + s.name());
        m.put("LogPath", s.detached() || Files.exists(dir.resolve(Detached.LOG))
                ? dir.resolve(Detached.LOG).toString() : "");
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("Hostname", run.containsKey("hostname") ? run.get("hostname") : "");
        config.put("User", s.user());
        config.put("Env", s.env());
        config.put("Cmd", s.command());
        config.put("Image", s.image());
        config.put("WorkingDir", s.workdir());
        config.put("Tty", Boolean.TRUE.equals(run.get("tty")));
        config.put("OpenStdin", Boolean.TRUE.equals(run.get("interactive")));
        config.put("StopSignal", SignalNames.name(s.stopSignal()));
        m.put("Config", config);
        Map<String, Object> host = new LinkedHashMap<>();
        host.put("AutoRemove", s.autoRemove());
        host.put("NetworkMode", run.containsKey("network") ? ((String) run.get("network")).toLowerCase(java.util.Locale.ROOT) : "none");
        host.put("ReadonlyRootfs", Boolean.TRUE.equals(run.get("readOnly")));
        host.put("Init", Boolean.TRUE.equals(run.get("init")));
        host.put("Memory", run.get("memory") instanceof Number n ? n.longValue() : 0L);
        host.put("NanoCpus", run.get("cpuQuota") instanceof Number n
                ? n.longValue() * 1_000_000_000L / Resources.CPU_PERIOD_MICROS : 0L);
        host.put("PidsLimit", run.get("pidsLimit") instanceof Number n ? n.longValue() : 0L);
        host.put("PortBindings", ports(run.get("publish") instanceof List<?> l ? l.stream().map(p -> {
            List<?> f = (List<?>) p;
            return new PortMapping((String) f.get(0), (String) f.get(1), Integer.parseInt((String) f.get(2)),
                    Integer.parseInt((String) f.get(3)));
        }).toList() : List.of()));
        m.put("HostConfig", host);
        m.put("Mounts", run.get("volumes") instanceof List<?> vols ? vols.stream().map(v -> {
            List<?> f = (List<?>) v;
            Map<String, Object> mount = new LinkedHashMap<>();
            mount.put("Type", "bind");
            mount.put("Source", f.get(0));
            mount.put("Destination", f.get(1));
            mount.put("RW", !Boolean.parseBoolean((String) f.get(2)));
            return mount;
        }).toList() : List.of());
        m.put("NetworkSettings", Map.of("Ports", running ? ports(s.ports()) : Map.of()));
        return m;
    }

    /** docker's port map: {@code {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}} (HostPort "" for any). */
    private static Map<String, Object> ports(List<PortMapping> ports) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (PortMapping p : ports) {
            @SuppressWarnings("unchecked")
            List<Object> list = (List<Object>) out.computeIfAbsent(p.containerPort() + "/" + p.protocol(),
                    k -> new java.util.ArrayList<>());
            list.add(Map.of("HostIp", p.hostIp(), "HostPort", p.hostPort() == 0 ? "" : Integer.toString(p.hostPort())));
        }
        return out;
    }
}
