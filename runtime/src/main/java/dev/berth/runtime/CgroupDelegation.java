package dev.berth.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a berth that is not root may put its containers' cgroups: a subtree delegated to its user, as
 * systemd delegates {@code user@UID.service} to a logged-in user (podman and crun use the same).
 *
 * <ul>
 *   <li><b>cgroup v2</b>: the highest cgroup, from berth's own upwards, that the user owns and whose
 *       {@code cgroup.procs} the user may write. berth must run inside it: moving a process between two
 *       cgroups needs write access to their common ancestor. Containers go in {@code <that>/<group>/<id>},
 *       with the controllers the delegated cgroup offers.
 *   <li><b>cgroup v1</b> (and hybrid hosts): each hierarchy whose cgroup berth is in belongs to the user
 *       (an administrator's {@code chown}, as LXC's pam_cgfs does); containers go in
 *       {@code <own>/<group>/<id>}, as root's do.
 * </ul>
 * With none, {@link Cgroups.None} says why, in the words of the limit refused.
 */
final class CgroupDelegation {
    private CgroupDelegation() {}

    /** The delegated cgroups of this process's user on the hierarchy mounted at {@code root}. */
    static Cgroups find(Path root, String group) {
        long uid = IdMaps.currentUid();
        try {
            if (Files.exists(root.resolve("cgroup.controllers"))) {
                String own = ownV2Path(Path.of("/proc/self/cgroup"));
                return v2(root, own, uid, group);
            }
            return v1(Cgroups.V1.fromProc(group), uid);
        } catch (IOException e) {
            return new Cgroups.None(REFUSED + "this process's cgroups cannot be read: " + e.getMessage());
        }
    }

    private static final String REFUSED = "--memory, --cpus and --pids-limit need a cgroup this user may write, and ";

    /** The v2 delegation for a process in cgroup {@code own} (a path from the root, {@code /a/b}). */
    static Cgroups v2(Path root, String own, long uid, String group) {
        Path dir = root.resolve(own.substring(1)).normalize();
        Path delegated = null;
        while (!dir.equals(root) && dir.startsWith(root) && owned(dir, uid)
                && Files.isWritable(dir.resolve("cgroup.procs"))) {
            delegated = dir;
            dir = dir.getParent();
        }
        if (delegated == null) {
            return new Cgroups.None(REFUSED + "berth runs in cgroup " + own + ", which is not delegated to this user "
                    + "(systemd delegates user@UID.service to a user who is logged in: run berth in it, e.g. with "
                    + "systemd-run --user --scope): run without them, or as root");
        }
        return new Cgroups.V2(delegated, group);
    }

    /** The v1 hierarchies whose cgroup of this process the user owns and may write. */
    static Cgroups v1(Cgroups.V1 all, long uid) {
        Map<String, Cgroups.V1.Hierarchy> mine = new LinkedHashMap<>();
        all.hierarchies().forEach((controller, h) -> {
            Path own = h.mount().resolve(h.ownPath().substring(1));
            if (owned(own, uid) && Files.isWritable(own) && Files.isWritable(own.resolve("cgroup.procs"))) {
                mine.put(controller, h);
            }
        });
        if (mine.isEmpty()) {
            return new Cgroups.None(REFUSED + "no cgroup v1 hierarchy berth is in belongs to this user (an "
                    + "administrator can delegate one: chown a cgroup to the user and run berth in it): run "
                    + "without them, or as root");
        }
        return new Cgroups.V1(Map.copyOf(mine), all.group());
    }

    /**
     * Checks, before anything is made, that the limits asked for have their controllers in the delegated
     * cgroups, with a message that says it is delegation that lacks them.
     */
    static void requireControllers(Cgroups cgroups, Resources resources) {
        List<String> have = cgroups.controllers();
        check(resources.memoryBytes().isPresent(), have, "memory", "--memory", cgroups);
        check(resources.cpuQuotaMicros().isPresent(), have, "cpu", "--cpus", cgroups);
        check(resources.pidsLimit().isPresent(), have, "pids", "--pids-limit", cgroups);
    }

    private static void check(boolean wanted, List<String> have, String controller, String option, Cgroups cgroups) {
        if (wanted && !have.contains(controller) && !(cgroups instanceof Cgroups.None)) {
            throw new ContainerException(option + " needs the " + controller + " cgroup controller, which is not "
                    + "delegated to this user (" + cgroups.parents().getFirst().getParent() + " has "
                    + (have.isEmpty() ? "none" : String.join(", ", have)) + ")");
        }
    }

    private static boolean owned(Path dir, long uid) {
        try {
            return ((Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue() == uid;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** The cgroup of this process on the unified hierarchy: the {@code 0::} line of /proc/self/cgroup. */
    static String ownV2Path(Path procSelfCgroup) throws IOException {
        for (String line : Files.readAllLines(procSelfCgroup)) {
            if (line.startsWith("0::")) {
                return line.substring(3);
            }
        }
        throw new IOException(procSelfCgroup + " has no cgroup v2 line");
    }
}
