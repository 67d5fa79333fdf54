package dev.berth.runtime;

import dev.berth.layers.Json;
import dev.berth.runtime.internal.Linux;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What {@code containers/<id>/state.json} records about a container. Times are ISO-8601 strings; cgroups
 * are the directories to remove, so any berth process can clean up after another. The JSON has one field per
 * component, named as the component; absent optionals are left out. {@code env}, {@code user} (as -u or the
 * image's USER gave it, empty for root) and {@code workdir} are the command's, for {@code berth exec};
 * {@code ports} are the published ports the monitor listens on; {@code started} is when it last started
 * ({@code created} when it never ran again).
 */
record ContainerState(
        String id,
        String name,
        String image,
        String imageId,
        List<String> command,
        String created,
        ContainerInfo.Status status,
        OptionalLong monitorPid,
        OptionalLong pid,
        OptionalInt exitCode,
        boolean oomKilled,
        Optional<String> finished,
        boolean autoRemove,
        String cgroupVersion,
        List<String> cgroups,
        boolean detached,
        int stopSignal,
        List<String> env,
        String user,
        String workdir,
        List<PortMapping> ports,
        String started) {

    ContainerState {
        command = List.copyOf(command);
        cgroups = List.copyOf(cgroups);
        env = List.copyOf(env);
        ports = ports == null ? List.of() : List.copyOf(ports);
        monitorPid = monitorPid == null ? OptionalLong.empty() : monitorPid;
        pid = pid == null ? OptionalLong.empty() : pid;
        exitCode = exitCode == null ? OptionalInt.empty() : exitCode;
        finished = finished == null ? Optional.empty() : finished;
    }

    /** Its cgroups, as recorded. */
    ContainerCgroup cgroup() {
        return new ContainerCgroup(cgroupVersion, cgroups.stream().map(java.nio.file.Path::of).toList());
    }

    byte[] toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("name", name);
        m.put("image", image);
        m.put("imageId", imageId);
        m.put("command", command);
        m.put("created", created);
        m.put("status", status.name());
        monitorPid.ifPresent(v -> m.put("monitorPid", v));
        pid.ifPresent(v -> m.put("pid", v));
        exitCode.ifPresent(v -> m.put("exitCode", v));
        m.put("oomKilled", oomKilled);
        finished.ifPresent(v -> m.put("finished", v));
        m.put("autoRemove", autoRemove);
        m.put("cgroupVersion", cgroupVersion);
        m.put("cgroups", cgroups);
        m.put("detached", detached);
        m.put("stopSignal", stopSignal);
        m.put("env", env);
        m.put("user", user);
        m.put("workdir", workdir);
        m.put("ports", ports.stream().map(PortMapping::toString).toList());
        m.put("started", started);
        return Json.writePlain(m);
    }

    /** Parses what {@link #toJson} wrote; a malformed file is a {@link ContainerException} naming {@code what}. */
    static ContainerState fromJson(byte[] bytes, String what) {
        if (!(Json.readPlain(bytes, what) instanceof Map<?, ?> m)) {
            throw new ContainerException(what + ": not a JSON object");
        }
        try {
            return new ContainerState(text(m, "id"), text(m, "name"), text(m, "image"), text(m, "imageId"),
                    strings(m, "command"), text(m, "created"), ContainerInfo.Status.valueOf(text(m, "status")),
                    number(m, "monitorPid"), number(m, "pid"),
                    m.get("exitCode") instanceof Number n ? OptionalInt.of(n.intValue()) : OptionalInt.empty(),
                    Boolean.TRUE.equals(m.get("oomKilled")), Optional.ofNullable((String) m.get("finished")),
                    Boolean.TRUE.equals(m.get("autoRemove")), text(m, "cgroupVersion"), strings(m, "cgroups"),
                    Boolean.TRUE.equals(m.get("detached")),
                    m.get("stopSignal") instanceof Number n ? n.intValue() : Linux.SIGTERM, strings(m, "env"),
                    m.get("user") instanceof String u ? u : "", m.get("workdir") instanceof String w ? w : "/",
                    strings(m, "ports").stream().map(PortMapping::bound).toList(),
                    m.get("started") instanceof String t ? t : text(m, "created"));
        } catch (ClassCastException | IllegalArgumentException | NullPointerException e) {
            throw new ContainerException(what + ": not a container state: " + e.getMessage(), e);
        }
    }

    private static String text(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("\"" + key + "\" is missing or not a string");
        }
        return s;
    }

    private static OptionalLong number(Map<?, ?> m, String key) {
        return m.get(key) instanceof Number n ? OptionalLong.of(n.longValue()) : OptionalLong.empty();
    }

    private static List<String> strings(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            return List.of();
        }
        return ((List<?>) v).stream().map(String.class::cast).toList();
    }

    ContainerState exited(OptionalInt code, boolean oom, String when, ContainerInfo.Status newStatus) {
        return new ContainerState(id, name, image, imageId, command, created, newStatus, monitorPid, pid, code,
                oom, Optional.of(when), autoRemove, cgroupVersion, cgroups, detached, stopSignal, env, user, workdir,
                ports, started);
    }
}
