package dev.berth.runtime;

import dev.berth.runtime.ContainerSpec.Device;
import dev.berth.runtime.ContainerSpec.Mount;
import dev.berth.runtime.ContainerSpec.Rlimit;
import dev.berth.runtime.ContainerSpec.Symlink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What every container gets, as docker, containerd and runc give it (see reference/runtime.md): the
 * runtime-spec's default mounts and devices, the /dev links, containerd's masked paths plus
 * {@code /proc/interrupts}, the read-only paths, and an RLIMIT_NOFILE of 1024.
 */
final class Defaults {
    private Defaults() {}

    static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    static final List<String> MASKED_PATHS = List.of("/proc/acpi", "/proc/asound", "/proc/interrupts",
            "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
            "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap");

    static final List<String> READONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");

    static final List<Rlimit> RLIMITS = List.of(new Rlimit("RLIMIT_NOFILE", 1024, 1024));

    /** The kernel-visible mounts every container gets, before /etc files and volumes. */
    static List<Mount> systemMounts(boolean cgroup2) {
        List<Mount> m = new ArrayList<>(List.of(
                new Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
                new Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
                new Mount("/dev/pts", "devpts", "devpts",
                        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
                new Mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
                new Mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
                new Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro"))));
        if (cgroup2) {
            // With a cgroup namespace, a fresh cgroup2 mount shows the container's own cgroup as its root.
            m.add(new Mount("/sys/fs/cgroup", "cgroup2", "cgroup",
                    List.of("nosuid", "noexec", "nodev", "relatime", "ro")));
        }
        return m;
    }

    /**
     * The kernel-visible mounts of a container in a user namespace (rootless): as {@link #systemMounts}, but
     * sysfs is the host's, bound read-only, when the container shares the host's network (a fresh sysfs
     * needs a network namespace the user namespace owns); devpts gives its terminals group tty only when
     * that group is mapped; no cgroup file system (berth has no cgroup for the container).
     */
    static List<Mount> rootlessMounts(boolean hostNetwork, boolean ttyGroupMapped) {
        List<Mount> m = new ArrayList<>();
        for (Mount mount : systemMounts(false)) {
            if (mount.destination().equals("/sys") && hostNetwork) {
                m.add(new Mount("/sys", "bind", "/sys", List.of("rbind", "rprivate", "nosuid", "noexec", "nodev", "ro")));
            } else if (mount.destination().equals("/dev/pts") && !ttyGroupMapped) {
                m.add(new Mount("/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec", "newinstance",
                        "ptmxmode=0666", "mode=0620")));
            } else {
                m.add(mount);
            }
        }
        return m;
    }

    /** {@link #DEVICES} as bind mounts of the host's nodes, for a user namespace, where none can be made. */
    static List<Mount> deviceBinds() {
        return DEVICES.stream().map(d -> new Mount(d.path(), "bind", d.path(), List.of("bind"))).toList();
    }

    /** The runtime-spec's default devices: null, zero, full, random, urandom, tty (0666, root). */
    static final List<Device> DEVICES = List.of(
            new Device("/dev/null", 'c', 1, 3, 0666, 0, 0),
            new Device("/dev/zero", 'c', 1, 5, 0666, 0, 0),
            new Device("/dev/full", 'c', 1, 7, 0666, 0, 0),
            new Device("/dev/random", 'c', 1, 8, 0666, 0, 0),
            new Device("/dev/urandom", 'c', 1, 9, 0666, 0, 0),
            new Device("/dev/tty", 'c', 5, 0, 0666, 0, 0));

    /** The runtime-spec's /dev links, plus /dev/core where the host has /proc/kcore. */
    static List<Symlink> symlinks() {
        List<Symlink> s = new ArrayList<>(List.of(
                new Symlink("/proc/self/fd", "/dev/fd"),
                new Symlink("/proc/self/fd/0", "/dev/stdin"),
                new Symlink("/proc/self/fd/1", "/dev/stdout"),
                new Symlink("/proc/self/fd/2", "/dev/stderr"),
                new Symlink("pts/ptmx", "/dev/ptmx")));
        if (Files.exists(Path.of("/proc/kcore"))) {
            s.add(new Symlink("/proc/kcore", "/dev/core"));
        }
        return s;
    }
}
