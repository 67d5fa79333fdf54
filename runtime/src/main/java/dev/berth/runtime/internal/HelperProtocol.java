package dev.berth.runtime.internal;

import dev.berth.runtime.ContainerException;
import dev.berth.runtime.ContainerSpec;
import dev.berth.runtime.ContainerSpec.Mount;
import dev.berth.runtime.ContainerSpec.Namespace;
import dev.berth.runtime.ContainerSpec.Rlimit;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Encodes a {@link ContainerSpec} for berth-helper (see {@code runtime/src/main/c/spec.c}): "BERTH1\n", a
 * 4-byte little-endian length, then records, each a key and a fixed number of NUL-terminated values.
 * Mount options are turned into {@code mount(2)} flags and data here, as runc does, so the helper only
 * passes them on.
 */
public final class HelperProtocol {
    private HelperProtocol() {}

    // mount(2) flags, from linux/mount.h
    static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_SYNCHRONOUS = 16,
            MS_MANDLOCK = 64, MS_DIRSYNC = 128, MS_NOATIME = 1024, MS_NODIRATIME = 2048, MS_BIND = 4096,
            MS_REC = 16384, MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24;

    /** Options that set flags; the ones that clear a flag ("rw", "suid", ...) are listed in CLEARS. */
    private static final Map<String, Long> SETS = Map.ofEntries(
            Map.entry("ro", MS_RDONLY), Map.entry("nosuid", MS_NOSUID), Map.entry("nodev", MS_NODEV),
            Map.entry("noexec", MS_NOEXEC), Map.entry("sync", MS_SYNCHRONOUS), Map.entry("mand", MS_MANDLOCK),
            Map.entry("dirsync", MS_DIRSYNC), Map.entry("noatime", MS_NOATIME),
            Map.entry("nodiratime", MS_NODIRATIME), Map.entry("bind", MS_BIND),
            Map.entry("rbind", MS_BIND | MS_REC), Map.entry("relatime", MS_RELATIME),
            Map.entry("strictatime", MS_STRICTATIME));
    private static final Map<String, Long> CLEARS = Map.ofEntries(
            Map.entry("rw", MS_RDONLY), Map.entry("suid", MS_NOSUID), Map.entry("dev", MS_NODEV),
            Map.entry("exec", MS_NOEXEC), Map.entry("async", MS_SYNCHRONOUS), Map.entry("nomand", MS_MANDLOCK),
            Map.entry("atime", MS_NOATIME), Map.entry("diratime", MS_NODIRATIME),
            Map.entry("norelatime", MS_RELATIME), Map.entry("nostrictatime", MS_STRICTATIME));
    /** Propagation words: the helper makes the whole tree private first, so these change nothing. */
    private static final List<String> PROPAGATION = List.of("private", "rprivate", "slave", "rslave",
            "shared", "rshared", "unbindable", "runbindable");

    /** Flags and file-system data of a mount's options. */
    record Flags(long flags, String data) {}

    static Flags flags(List<String> options) {
        long flags = 0;
        List<String> data = new ArrayList<>();
        for (String o : options) {
            if (SETS.containsKey(o)) {
                flags |= SETS.get(o);
            } else if (CLEARS.containsKey(o)) {
                flags &= ~CLEARS.get(o);
            } else if (!PROPAGATION.contains(o)) {
                data.add(o);
            }
        }
        return new Flags(flags, String.join(",", data));
    }

    private static final Map<String, Integer> RLIMITS = Map.ofEntries(
            Map.entry("RLIMIT_CPU", 0), Map.entry("RLIMIT_FSIZE", 1), Map.entry("RLIMIT_DATA", 2),
            Map.entry("RLIMIT_STACK", 3), Map.entry("RLIMIT_CORE", 4), Map.entry("RLIMIT_RSS", 5),
            Map.entry("RLIMIT_NPROC", 6), Map.entry("RLIMIT_NOFILE", 7), Map.entry("RLIMIT_MEMLOCK", 8),
            Map.entry("RLIMIT_AS", 9), Map.entry("RLIMIT_LOCKS", 10), Map.entry("RLIMIT_SIGPENDING", 11),
            Map.entry("RLIMIT_MSGQUEUE", 12), Map.entry("RLIMIT_NICE", 13), Map.entry("RLIMIT_RTPRIO", 14),
            Map.entry("RLIMIT_RTTIME", 15));

    private static final class Writer {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(4096);

        void record(String key, Object... values) {
            put(key);
            for (Object v : values) {
                put(String.valueOf(v));
            }
        }

        private void put(String s) {
            if (s.indexOf('\0') >= 0) {
                throw new ContainerException("a value of the container spec contains a NUL byte: "
                        + s.replace('\0', '?'));
            }
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
    }

    /** The bytes berth-helper reads from fd 3. */
    public static byte[] encode(ContainerSpec spec) {
        return encode(spec, java.util.Optional.empty(), List.of(), java.util.OptionalLong.empty(),
                java.util.Optional.empty());
    }

    /**
     * The spec of {@code berth exec}: process {@code p} in the namespaces of the running container whose
     * PID 1 is {@code pid}, joining its cgroups ({@code cgroup.procs} files).
     */
    public static byte[] encodeExec(String id, long pid, List<Path> cgroupProcs, ContainerSpec.ProcessSpec p) {
        Writer w = new Writer();
        w.record("id", id);
        w.record("join", Long.toString(pid));
        for (Path procs : cgroupProcs) {
            w.record("cgroup", procs);
        }
        process(w, p);
        w.record("end");
        return frame(w);
    }

    /**
     * The spec of a container, kept by the helper's monitor when {@code keeper} is given (detached), with
     * the ports its monitor relays (an empty host address: every one), in the network namespace of the
     * process {@code networkOf} when given (and, rootless, its user namespace); the monitor makes
     * {@code startedFile} once the command runs.
     */
    public static byte[] encode(ContainerSpec spec, java.util.Optional<Keeper> keeper,
                                List<dev.berth.runtime.PortMapping> publish, java.util.OptionalLong networkOf,
                                java.util.Optional<Path> startedFile) {
        if (!(spec.root() instanceof ContainerSpec.Root.Overlay root)) {
            throw new IllegalArgumentException("berth-helper runs overlay roots only");
        }
        Writer w = new Writer();
        w.record("id", spec.id());
        w.record("rootfs", root.target());
        for (Path lower : root.lowerTopFirst()) {
            w.record("lower", lower);
        }
        w.record("upper", root.upper());
        w.record("work", root.work());
        w.record("overlay", switch (root.mode()) {
            case AUTO -> "auto";
            case FSCONFIG -> "fsconfig";
            case FD_PATHS -> "fdpaths";
        });
        for (Namespace ns : spec.namespaces()) {
            w.record("ns", ns == Namespace.NETWORK ? "net" : ns.ociName());
        }
        if (spec.namespaces().contains(Namespace.NETWORK)) {
            w.record("flag", "loopback");
        }
        networkOf.ifPresent(pid -> w.record("netjoin", Long.toString(pid)));
        w.record("hostname", spec.hostname());
        for (Path procs : spec.cgroupProcs()) {
            w.record("cgroup", procs);
        }
        for (Mount m : spec.mounts()) {
            Flags f = flags(m.options());
            boolean bind = m.type().equals("bind") || (f.flags() & MS_BIND) != 0;
            w.record("mount", bind ? "bind" : m.type(), m.source(), m.destination(),
                    Long.toUnsignedString(bind ? f.flags() & ~MS_BIND : f.flags()), bind ? "" : f.data());
        }
        for (ContainerSpec.Device d : spec.devices()) {
            w.record("device", d.path(), String.valueOf(d.type()), d.major(), d.minor(), d.fileMode(), d.uid(),
                    d.gid());
        }
        for (ContainerSpec.Symlink s : spec.symlinks()) {
            w.record("symlink", s.target(), s.link());
        }
        for (String p : spec.maskedPaths()) {
            w.record("masked", p);
        }
        for (String p : spec.readonlyPaths()) {
            w.record("readonly", p);
        }
        ContainerSpec.ProcessSpec p = spec.process();
        if (spec.noPivot()) {
            w.record("flag", "no_pivot");
        }
        if (root.readOnly()) {
            w.record("flag", "readonly_root");
        }
        if (spec.init()) {
            w.record("flag", "init");
        }
        process(w, p);
        spec.userNamespace().ifPresent(maps -> {
            w.record("flag", "userns");
            w.record("flag", "userxattr");
            maps.uid().forEach(r -> w.record("uidmap", r.inside(), r.outside(), r.count()));
            maps.gid().forEach(r -> w.record("gidmap", r.inside(), r.outside(), r.count()));
            maps.tools().ifPresentOrElse(t -> w.record("idmaptools", t.get(0), t.get(1)),
                    () -> w.record("flag", "no_setgroups"));
        });
        startedFile.ifPresent(f -> w.record("startedfile", f));
        keeper.ifPresent(k -> {
            w.record("flag", "detach");
            w.record("log", k.log());
            w.record("logmax", Long.toString(k.logMaxBytes()));
            w.record("logfiles", Integer.toString(k.logFiles()));
            w.record("exitfile", k.exitFile());
            w.record("keeplock", k.keepLock());
            k.exitCommand().forEach(a -> w.record("exitcmd", a));
        });
        for (dev.berth.runtime.PortMapping port : publish) {
            w.record("publish", port.protocol(), port.hostIp(), Integer.toString(port.hostPort()),
                    Integer.toString(port.containerPort()));
        }
        w.record("end");
        return frame(w);
    }

    /** The process's records: terminal, privileges, user, capabilities, limits, working directory, env, args. */
    private static void process(Writer w, ContainerSpec.ProcessSpec p) {
        if (p.terminal()) {
            w.record("flag", "tty");
        }
        if (p.interactive()) {
            w.record("flag", "interactive");
        }
        if (p.noNewPrivileges()) {
            w.record("flag", "no_new_privs");
        }
        w.record("uid", Integer.toUnsignedString(p.uid()));
        w.record("gid", Integer.toUnsignedString(p.gid()));
        for (int g : p.additionalGids()) {
            w.record("group", Integer.toUnsignedString(g));
        }
        p.capabilities().stream().sorted().forEach(c -> w.record("cap", c.number()));
        for (Rlimit r : p.rlimits()) {
            Integer resource = RLIMITS.get(r.type());
            if (resource == null) {
                throw new ContainerException("unknown resource limit " + r.type());
            }
            w.record("rlimit", resource, Long.toUnsignedString(r.soft()), Long.toUnsignedString(r.hard()));
        }
        p.seccomp().ifPresent(f -> seccomp(w, f));
        w.record("cwd", p.cwd());
        w.record("path", p.searchPath());
        for (String e : p.env()) {
            w.record("env", e);
        }
        for (String a : p.args()) {
            w.record("arg", a);
        }
    }

    /** The filter: its default action, then each rule and the conditions on its arguments. */
    private static void seccomp(Writer w, dev.berth.runtime.SeccompFilter f) {
        w.record("seccomp", Long.toString(f.defaultAction().ret(f.defaultErrno())));
        for (dev.berth.runtime.SeccompFilter.Rule r : f.rules()) {
            w.record("scrule", r.syscall(), Long.toString(r.action().ret(r.errno())));
            for (dev.berth.runtime.SeccompFilter.Arg a : r.args()) {
                w.record("scarg", Integer.toString(a.index()), a.op().helperName(), Long.toUnsignedString(a.value()),
                        Long.toUnsignedString(a.valueTwo()));
            }
        }
    }

    /** The magic, the payload's length and the payload. */
    private static byte[] frame(Writer w) {
        byte[] payload = w.out.toByteArray();
        byte[] out = new byte[7 + 4 + payload.length];
        System.arraycopy("BERTH1\n".getBytes(StandardCharsets.US_ASCII), 0, out, 0, 7);
        out[7] = (byte) payload.length;
        out[8] = (byte) (payload.length >>> 8);
        out[9] = (byte) (payload.length >>> 16);
        out[10] = (byte) (payload.length >>> 24);
        System.arraycopy(payload, 0, out, 11, payload.length);
        return out;
    }
}
