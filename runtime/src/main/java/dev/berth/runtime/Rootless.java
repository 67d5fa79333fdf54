package dev.berth.runtime;

import dev.berth.layers.BerthHome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What a container of a berth that is not root needs before it starts: a kernel that lets users make user
 * namespaces and mount overlayfs in them, the namespace's maps ({@code --userns=keep-id}'s or the user's
 * own), and a delegated cgroup for any limit.
 */
final class Rootless {
    private Rootless() {}

    /**
     * The user namespace a rootless container runs in: the tasks of its maps, and with keep-id the user as
     * the host knows it.
     */
    record Namespace(UsernsTasks tasks, Optional<KeepId.HostUser> keepId) {}

    /** The namespace for {@code options} (empty as root); {@code what} prefixes errors ({@code run IMAGE}). */
    static Optional<Namespace> namespace(BerthHome home, RunOptions options, String what) {
        if (BerthHome.isRoot()) {
            if (options.keepId()) {
                throw new ContainerException(what + ": --userns=keep-id is for a berth that is not root (as root, "
                        + "the container's ids are the host's already)");
            }
            return Optional.empty();
        }
        UsernsTasks tasks = UsernsTasks.forCurrentUser(home);
        if (!options.keepId()) {
            return Optional.of(new Namespace(tasks, Optional.empty()));
        }
        try {
            return Optional.of(new Namespace(tasks.withMaps(tasks.maps().keepId()),
                    Optional.of(KeepId.HostUser.current(tasks.maps()))));
        } catch (ContainerException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        }
    }

    /** Refuses limits that no delegated cgroup can hold, saying why. */
    static void requireLimits(Cgroups cgroups, Resources resources, String what) {
        try {
            if (cgroups instanceof Cgroups.None none && !resources.none()) {
                throw new ContainerException(none.reason());
            }
            CgroupDelegation.requireControllers(cgroups, resources);
        } catch (ContainerException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        }
    }

    /**
     * As root, containers run as they always have; otherwise in a user namespace of their own, which the
     * kernel must allow unprivileged users to make, with an overlay mounted inside it (Linux 5.11+).
     */
    static void requireUserNamespaces() {
        if (BerthHome.isRoot()) {
            return;
        }
        String why = null;
        try {
            Path clone = Path.of("/proc/sys/kernel/unprivileged_userns_clone");
            if (Files.exists(clone) && Files.readString(clone).trim().equals("0")) {
                why = "kernel.unprivileged_userns_clone is 0";
            } else if (Files.readString(Path.of("/proc/sys/user/max_user_namespaces")).trim().equals("0")) {
                why = "user.max_user_namespaces is 0";
            }
        } catch (IOException e) {
            why = "cannot read /proc/sys/user/max_user_namespaces: " + e.getMessage();
        }
        if (why != null) {
            throw new ContainerException("berth run needs root, or user namespaces for users who are not ("
                    + why + ")");
        }
        String release = System.getProperty("os.version", "");
        if (!kernelAtLeast(release, 5, 11)) {
            throw new ContainerException("a berth that is not root needs Linux 5.11 or newer, whose overlayfs mounts "
                    + "in a user namespace (userxattr); this kernel is " + release + ": run as root");
        }
    }

    /** Whether a kernel release ({@code 6.1.0-13-amd64}) is at least {@code major.minor}; unparsable is taken as new. */
    static boolean kernelAtLeast(String release, int major, int minor) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
        if (!m.find()) {
            return true;
        }
        int a = Integer.parseInt(m.group(1));
        int b = Integer.parseInt(m.group(2));
        return a > major || (a == major && b >= minor);
    }
}
