package dev.berth.runtime;

import dev.berth.layers.Image;
import dev.berth.layers.Json;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.LayersException;
import dev.berth.layers.Reference;
import dev.berth.runtime.internal.LayeredFs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import dev.berth.runtime.ContainerSpec.Mount;
import dev.berth.runtime.ContainerSpec.Namespace;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An OCI runtime bundle's {@code config.json} (runtime-spec 1.0.2, which runc 1.1 and crun read) for a
 * {@link ContainerSpec} whose root is the bundle's {@code rootfs} directory. The default devices and /dev
 * links are not listed: the runtime-spec makes every runtime create them. Also writes whole bundles.
 */
public final class OciBundle {
    public static final String OCI_VERSION = "1.0.2";

    private OciBundle() {}

    /** {@link ContainerRuntime#bundle}'s work, for a resolved image: the rootfs, the /etc files, config.json. */
    static Path write(String what, Reference ref, Image image, Path dir, RunOptions options, String id,
                      java.util.Map<String, String> hostEnv) {
        Path abs = dir.toAbsolutePath().normalize();
        try {
            if (Files.exists(abs)) {
                try (var entries = Files.list(abs)) {
                    if (entries.findAny().isPresent()) {
                        throw new ContainerException(what + ": " + abs + " is not empty");
                    }
                }
            }
            Files.createDirectories(abs);
            Path rootfs = abs.resolve("rootfs");
            LayerExtractor.unpack(image, rootfs);
            ContainerPlan plan = ContainerPlan.resolve(what, ContainerImage.of(ref, image), new LayeredFs(List.of(rootfs)),
                    options, id, hostEnv);
            EtcFiles.writeIntoRootfs(rootfs, plan.hostname(), options.network(), options.names());
            // The OCI runtime mounts /sys/fs/cgroup as the host has it (v1 or v2); devices and /dev links
            // are its own defaults, so the spec lists none.
            List<Mount> system = new ArrayList<>(Defaults.systemMounts(false));
            system.add(new Mount("/sys/fs/cgroup", "cgroup", "cgroup",
                    List.of("nosuid", "noexec", "nodev", "relatime", "ro")));
            ContainerSpec spec = plan.spec(id, options, new ContainerSpec.Root.Directory(rootfs, options.readOnly()),
                    system, List.of(), List.of(), List.of(), Optional.empty());
            spec = new ContainerSpec(spec.id(), spec.hostname(), spec.process(), spec.root(), spec.mounts(), List.of(),
                    List.of(), spec.maskedPaths(), spec.readonlyPaths(), spec.namespaces(), spec.resources(),
                    List.of(), false, false, Optional.empty());
            Files.write(abs.resolve("config.json"), OciBundle.config(spec));
            return abs;
        } catch (IOException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        } catch (LayersException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        }
    }

    /** The {@code config.json} bytes (indented, for people to read). */
    public static byte[] config(ContainerSpec spec) {
        if (!(spec.root() instanceof ContainerSpec.Root.Directory root)) {
            throw new IllegalArgumentException("an OCI bundle has a directory as its root");
        }
        ContainerSpec.ProcessSpec p = spec.process();
        Map<String, Object> user = new LinkedHashMap<>();
        user.put("uid", Integer.toUnsignedLong(p.uid()));
        user.put("gid", Integer.toUnsignedLong(p.gid()));
        if (!p.additionalGids().isEmpty()) {
            user.put("additionalGids", p.additionalGids());
        }
        List<String> caps = p.capabilities().stream().sorted().map(Enum::name).toList();
        Map<String, Object> capabilities = new LinkedHashMap<>();
        capabilities.put("bounding", caps);
        capabilities.put("effective", caps);
        capabilities.put("permitted", caps);
        List<Map<String, Object>> rlimits = new ArrayList<>();
        for (ContainerSpec.Rlimit r : p.rlimits()) {
            rlimits.add(ordered("type", r.type(), "hard", r.hard(), "soft", r.soft()));
        }
        Map<String, Object> process = new LinkedHashMap<>();
        process.put("terminal", p.terminal());
        process.put("user", user);
        process.put("args", p.args());
        process.put("env", p.env());
        process.put("cwd", p.cwd());
        process.put("capabilities", capabilities);
        process.put("rlimits", rlimits);
        process.put("noNewPrivileges", p.noNewPrivileges());

        List<Map<String, Object>> mounts = new ArrayList<>();
        for (Mount m : spec.mounts()) {
            mounts.add(ordered("destination", m.destination(), "type", m.type(), "source", m.source(),
                    "options", m.options()));
        }
        List<Map<String, Object>> namespaces = new ArrayList<>();
        for (Namespace ns : List.of(Namespace.PID, Namespace.NETWORK, Namespace.IPC, Namespace.UTS,
                Namespace.MOUNT, Namespace.CGROUP)) {
            if (spec.namespaces().contains(ns)) {
                namespaces.add(ordered("type", ns.ociName()));
            }
        }
        Map<String, Object> resources = new LinkedHashMap<>();
        spec.resources().memoryBytes().ifPresent(m -> resources.put("memory", ordered("limit", m)));
        spec.resources().cpuQuotaMicros().ifPresent(q -> resources.put("cpu",
                ordered("quota", q, "period", Resources.CPU_PERIOD_MICROS)));
        spec.resources().pidsLimit().ifPresent(n -> resources.put("pids", ordered("limit", n)));
        Map<String, Object> linux = new LinkedHashMap<>();
        if (!resources.isEmpty()) {
            linux.put("resources", resources);
        }
        linux.put("namespaces", namespaces);
        p.seccomp().ifPresent(f -> linux.put("seccomp", seccomp(f)));
        linux.put("maskedPaths", spec.maskedPaths());
        linux.put("readonlyPaths", spec.readonlyPaths());

        Map<String, Object> config = new LinkedHashMap<>();
        config.put("ociVersion", OCI_VERSION);
        config.put("process", process);
        config.put("root", ordered("path", root.path().getFileName().toString(), "readonly", root.readOnly()));
        config.put("hostname", spec.hostname());
        config.put("mounts", mounts);
        config.put("linux", linux);
        return (Json.pretty(config) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** OCI's {@code linux.seccomp}: the same rules, one entry each (runc applies them in this order too). */
    private static Map<String, Object> seccomp(SeccompFilter f) {
        List<Map<String, Object>> syscalls = new ArrayList<>();
        for (SeccompFilter.Rule r : f.rules()) {
            Map<String, Object> call = ordered("names", List.of(r.syscall()), "action", r.action().profileName());
            if (r.action() == SeccompFilter.Action.ERRNO) {
                call.put("errnoRet", r.errno());
            }
            if (!r.args().isEmpty()) {
                call.put("args", r.args().stream().map(a -> ordered("index", a.index(),
                        "value", new java.math.BigInteger(Long.toUnsignedString(a.value())),
                        "valueTwo", new java.math.BigInteger(Long.toUnsignedString(a.valueTwo())),
                        "op", a.op().profileName())).toList());
            }
            syscalls.add(call);
        }
        Map<String, Object> s = ordered("defaultAction", f.defaultAction().profileName());
        if (f.defaultAction() == SeccompFilter.Action.ERRNO) {
            s.put("defaultErrnoRet", f.defaultErrno());
        }
        String arch = System.getProperty("os.arch");
        s.put("architectures", arch.equals("amd64") ? List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86")
                : arch.equals("aarch64") ? List.of("SCMP_ARCH_AARCH64") : List.of());
        s.put("syscalls", syscalls);
        return s;
    }

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
