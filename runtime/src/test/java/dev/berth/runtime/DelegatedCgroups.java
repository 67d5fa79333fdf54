package dev.berth.runtime;

import dev.berth.layers.testing.TestUser;
import dev.berth.layers.testing.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A cgroup subtree delegated to a test user, made as root the way a system delegates one: on cgroup v2, a
 * cgroup of the user's (with cpu, memory and pids enabled for it) holding a leaf the user's session runs
 * in, as systemd's {@code user@UID.service}; on v1, a cgroup of the user's in each of the memory, cpu and
 * pids hierarchies, under this JVM's own, as LXC's pam_cgfs makes them.
 */
final class DelegatedCgroups implements AutoCloseable {
    private final List<Path> made;
    /** Where the user's process goes. */
    final List<Path> session;

    private DelegatedCgroups(List<Path> made, List<Path> session) {
        this.made = made;
        this.session = session;
    }

    static DelegatedCgroups forUser(TestUser user) {
        String name = "berth-test-" + user.name;
        try {
            List<Path> made = new ArrayList<>();
            List<Path> session = new ArrayList<>();
            if (Files.exists(Cgroups.DEFAULT_ROOT.resolve("cgroup.controllers"))) {
                Path root = Cgroups.DEFAULT_ROOT;
                Files.writeString(root.resolve("cgroup.subtree_control"), "+cpu +memory +pids");
                Path d = root.resolve(name);
                remove(d);
                Files.createDirectory(d);
                Path leaf = Files.createDirectory(d.resolve("session"));
                made.add(d);
                session.add(leaf);
            } else {
                Cgroups.V1 v1 = Cgroups.V1.fromProc("unused");
                for (Cgroups.V1.Hierarchy h : v1.hierarchies().values()) {
                    Path d = h.mount().resolve(h.ownPath().substring(1)).resolve(name);
                    if (made.contains(d)) {
                        continue; // cpu and cpuacct mounted together
                    }
                    remove(d);
                    Files.createDirectory(d);
                    made.add(d);
                    session.add(d);
                }
            }
            for (Path d : made) {
                Tools.run("chown", "-R", user.uid + ":" + user.gid, d.toString()).ok();
            }
            return new DelegatedCgroups(made, session);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes the cgroups (deepest first); their processes have exited. */
    @Override
    public void close() {
        made.forEach(DelegatedCgroups::remove);
    }

    private static void remove(Path d) {
        if (!Files.isDirectory(d)) {
            return;
        }
        try (Stream<Path> all = Files.walk(d)) {
            for (Path c : all.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                new ContainerCgroup("test", List.of(c)).destroy();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
