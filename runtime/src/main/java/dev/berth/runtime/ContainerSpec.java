package dev.berth.runtime;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A container fully resolved: every decision taken, nothing left to look up. The same record is sent to
 * the native helper by {@code berth run} and written as an OCI runtime {@code config.json} by
 * {@code berth bundle}, so both run the same thing.
 *
 * @param root the root file system: an overlay for {@code run}, a directory for a bundle
 * @param mounts in order, parents before children; destinations are absolute container paths
 * @param cgroupProcs {@code cgroup.procs} files the container's PID 1 joins (empty for a bundle: the OCI
 *     runtime makes its own)
 * @param init whether the helper stays as PID 1 (reaping, forwarding signals) instead of exec'ing
 * @param userNamespace rootless: the container's user namespace and its maps (the overlay is then mounted
 *     with {@code userxattr}); empty as root
 */
public record ContainerSpec(
        String id,
        String hostname,
        ProcessSpec process,
        Root root,
        List<Mount> mounts,
        List<Device> devices,
        List<Symlink> symlinks,
        List<String> maskedPaths,
        List<String> readonlyPaths,
        Set<Namespace> namespaces,
        Resources resources,
        List<Path> cgroupProcs,
        boolean init,
        boolean noPivot,
        Optional<IdMaps> userNamespace) {

    public ContainerSpec {
        mounts = List.copyOf(mounts);
        devices = List.copyOf(devices);
        symlinks = List.copyOf(symlinks);
        maskedPaths = List.copyOf(maskedPaths);
        readonlyPaths = List.copyOf(readonlyPaths);
        namespaces = Set.copyOf(namespaces);
        cgroupProcs = List.copyOf(cgroupProcs);
        java.util.Objects.requireNonNull(userNamespace, "userNamespace");
    }

    /**
     * The process: arguments, environment, working directory, user, capabilities and limits.
     *
     * @param searchPath the container's PATH, with which a command without a {@code /} is found
     * @param seccomp the filter the process runs under; empty for none
     */
    public record ProcessSpec(
            List<String> args,
            List<String> env,
            String cwd,
            int uid,
            int gid,
            List<Integer> additionalGids,
            Set<Capability> capabilities,
            boolean noNewPrivileges,
            List<Rlimit> rlimits,
            boolean terminal,
            boolean interactive,
            String searchPath,
            Optional<SeccompFilter> seccomp) {
        public ProcessSpec {
            java.util.Objects.requireNonNull(seccomp, "seccomp");
            args = List.copyOf(args);
            env = List.copyOf(env);
            additionalGids = List.copyOf(additionalGids);
            capabilities = Set.copyOf(capabilities);
            rlimits = List.copyOf(rlimits);
        }
    }

    /** The root file system. */
    public sealed interface Root {
        /** Whether the root is mounted read-only ({@code --read-only}). */
        boolean readOnly();

        /** An overlay of snapshots (topmost first) with a per-container upper and work dir, mounted on {@code target}. */
        record Overlay(List<Path> lowerTopFirst, Path upper, Path work, Path target, OverlayMode mode, boolean readOnly)
                implements Root {
            public Overlay {
                lowerTopFirst = List.copyOf(lowerTopFirst);
            }
        }

        /** A plain directory (an OCI bundle's {@code rootfs}). */
        record Directory(Path path, boolean readOnly) implements Root {}
    }

    /** A mount, as in OCI's {@code mounts}: options are mount(8)-style words ({@code nosuid}, {@code mode=755}, {@code rbind}, {@code ro}). */
    public record Mount(String destination, String type, String source, List<String> options) {
        public Mount {
            options = List.copyOf(options);
        }
    }

    /** A device node to create (OCI {@code linux.devices}). */
    public record Device(String path, char type, int major, int minor, int fileMode, int uid, int gid) {}

    /** A symlink to create, e.g. {@code /dev/fd -> /proc/self/fd}. */
    public record Symlink(String target, String link) {}

    /** A resource limit: {@code type} as OCI names it ({@code RLIMIT_NOFILE}). */
    public record Rlimit(String type, long soft, long hard) {}

    /** The namespaces a container gets. */
    public enum Namespace {
        MOUNT("mount"), PID("pid"), UTS("uts"), IPC("ipc"), NETWORK("network"), CGROUP("cgroup");

        private final String ociName;

        Namespace(String ociName) {
            this.ociName = ociName;
        }

        /** The name in OCI's {@code linux.namespaces}. */
        public String ociName() {
            return ociName;
        }
    }
}
