package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * berth cp in both directions, for a running container and one that ended: docker's naming rules, owners,
 * and every path resolved inside the container's root, whatever its symlinks say.
 */
class ContainerCopyTest {
    static Fixture f;

    @TempDir
    Path host;

    @BeforeAll
    static void setUp() {
        f = Fixture.get();
    }

    private static final String FILES = "mkdir -p /data/sub && echo a > /data/f && echo b > /data/sub/g"
            + " && ln -s / /escape && ln -s /etc/hostname /hn && ln -s ../../../../../etc /dotdot";

    private static RunningContainer running() throws Exception {
        RunningContainer c = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().detach(DetachOptions.DEFAULT)
                .command("sh", "-c", FILES + " && touch /ready && exec sleep 1000").build());
        for (int i = 0; i < 500; i++) {
            try {
                tar(c.name(), "/ready");
                return c;
            } catch (ContainerException notYet) {
                Thread.sleep(10);
            }
        }
        throw new AssertionError("the container did not start");
    }

    private static RunningContainer ended() {
        RunningContainer c = f.runtime.start(Fixture.BUSYBOX, RunOptions.builder().command("sh", "-c", FILES).build());
        assertThat(c.await().exitCode()).isZero();
        return c;
    }

    /**
     * What cp CONTAINER:PATH - writes: entry name to content@uid:gid (a directory's: "/", a symlink's:
     * "-> target", a hard link's "=> entry").
     */
    private static Map<String, String> tar(String container, String path) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        f.runtime.copy().fromContainer(container, path, "-", false, false, out);
        return entries(new ByteArrayInputStream(out.toByteArray()));
    }

    private static Map<String, String> entries(InputStream in) throws Exception {
        Map<String, String> m = new LinkedHashMap<>();
        try (TarArchiveInputStream t = new TarArchiveInputStream(in)) {
            for (TarArchiveEntry e = t.getNextEntry(); e != null; e = t.getNextEntry()) {
                m.put(e.getName(), e.isDirectory() ? "/" : e.isSymbolicLink() ? "-> " + e.getLinkName()
                        : e.isLink() ? "=> " + e.getLinkName()
                        : new String(t.readAllBytes(), StandardCharsets.UTF_8) + "@" + e.getLongUserId() + ":"
                        + e.getLongGroupId());
            }
        }
        return m;
    }

    @Test
    void outOfARunningContainerByDockersRules() throws Exception {
        RunningContainer c = running();
        String n = c.name();
        ContainerCopy cp = f.runtime.copy();
        cp.fromContainer(n, "/data", host.toString(), false, false, null); // an existing directory: into it
        assertThat(Files.readString(host.resolve("data/f"))).isEqualTo("a\n");
        assertThat(Files.readString(host.resolve("data/sub/g"))).isEqualTo("b\n");
        cp.fromContainer(n, "/data/.", host.resolve("contents").toString(), false, false, null); // a new one: contents
        assertThat(Files.readString(host.resolve("contents/sub/g"))).isEqualTo("b\n");
        cp.fromContainer(n, "/data/f", host.resolve("renamed").toString(), false, false, null);
        assertThat(Files.readString(host.resolve("renamed"))).isEqualTo("a\n");
        cp.fromContainer(n, "/data/sub/g", host.resolve("renamed").toString(), false, false, null); // replaced
        assertThat(Files.readString(host.resolve("renamed"))).isEqualTo("b\n");
        assertThatThrownBy(() -> cp.fromContainer(n, "/data", host.resolve("renamed").toString(), false, false, null))
                .hasMessageContaining("cannot copy a directory to a file");
        assertThatThrownBy(() -> cp.fromContainer(n, "/data/f", host.resolve("none/").toString() + "/", false, false,
                null)).hasMessageContaining("no such directory");
        assertThatThrownBy(() -> cp.fromContainer(n, "/nothing", "-", false, false, new ByteArrayOutputStream()))
                .isInstanceOf(ContainerException.class).hasMessage("cp " + n + ":/nothing: no such file or directory");
        assertThat(tar(n, "/data")).containsExactly(Map.entry("data/", "/"), Map.entry("data/f", "a\n@0:0"),
                Map.entry("data/sub/", "/"), Map.entry("data/sub/g", "b\n@0:0"));
        assertThat(f.runtime.control().running(n)).isTrue();
        assertThat(f.runtime.list(false)).filteredOn(i -> i.id().equals(c.id())).singleElement()
                .satisfies(i -> assertThat(i.paused()).as("frozen for the copy only").isFalse());
        f.runtime.remove(List.of(n), true);
    }

    @Test
    void symlinksInTheContainerNeverLeadToTheHost() throws Exception {
        RunningContainer c = running();
        String n = c.name();
        String hostname = c.id().substring(0, 12) + "\n"; // the container's /etc/hostname, not the host's
        assertThat(tar(n, "/escape/etc/hostname")).containsExactly(Map.entry("hostname", hostname + "@0:0"));
        assertThat(tar(n, "/dotdot/hostname")).containsExactly(Map.entry("hostname", hostname + "@0:0"));
        assertThat(tar(n, "/hn")).containsExactly(Map.entry("hn", "-> /etc/hostname")); // not followed
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        f.runtime.copy().fromContainer(n, "/hn", "-", true, false, out); // -L: followed, inside
        assertThat(entries(new ByteArrayInputStream(out.toByteArray()))).containsExactly(Map.entry("hn", hostname + "@0:0"));

        Path file = Files.writeString(host.resolve("from-host"), "h\n");
        f.runtime.copy().toContainer(file.toString(), null, n, "/escape/tmp/", false, false);
        assertThat(tar(n, "/tmp/from-host")).containsExactly(Map.entry("from-host", "h\n@0:0"));
        assertThat(Path.of("/tmp/from-host")).doesNotExist();
        // a symlink in a copied tree is copied as a symlink; a later entry through it stays in the container
        f.runtime.copy().toContainer("-", hostileTar(), n, "/data", false, false);
        assertThat(tar(n, "/data/link")).containsExactly(Map.entry("link", "-> /"));
        assertThat(tar(n, "/tmp/through")).containsExactly(Map.entry("through", "x@0:0"));
        assertThat(Path.of("/tmp/through")).doesNotExist();
        assertThatThrownBy(() -> f.runtime.copy().toContainer("-", oneFileTar("../../up", "x"), n, "/data", false, false))
                .hasMessageContaining("tar entry ../../up leads out of the directory");
        f.runtime.remove(List.of(n), true);
    }

    /** A tar of a symlink to / and then a file "through" it, which must stay in the container's root. */
    private static InputStream hostileTar() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(b)) {
            TarArchiveEntry link = new TarArchiveEntry("link", org.apache.commons.compress.archivers.tar.TarConstants.LF_SYMLINK);
            link.setLinkName("/");
            t.putArchiveEntry(link);
            t.closeArchiveEntry();
            byte[] data = "x".getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry through = new TarArchiveEntry("link/tmp/through");
            through.setSize(data.length);
            t.putArchiveEntry(through);
            t.write(data);
            t.closeArchiveEntry();
        }
        return new ByteArrayInputStream(b.toByteArray());
    }

    private static InputStream oneFileTar(String name, String content) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(b)) {
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry(name, true);
            e.setSize(data.length);
            t.putArchiveEntry(e);
            t.write(data);
            t.closeArchiveEntry();
        }
        return new ByteArrayInputStream(b.toByteArray());
    }

    @Test
    void intoAndOutOfAContainerThatEnded() throws Exception {
        RunningContainer c = ended();
        String n = c.name();
        Path dir = Files.createDirectories(host.resolve("tree/x"));
        Files.writeString(dir.resolve("f"), "1\n");
        Files.createLink(dir.resolve("hard"), dir.resolve("f"));
        Files.createSymbolicLink(dir.resolve("sym"), Path.of("f"));
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        f.runtime.copy().toContainer(host.resolve("tree").toString(), null, n, "/data", false, false);
        f.runtime.copy().toContainer(host.resolve("tree").toString(), null, n, "/kept", false, true);
        int uid = (Integer) Files.getAttribute(dir.resolve("f"), "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int gid = (Integer) Files.getAttribute(dir.resolve("f"), "unix:gid", LinkOption.NOFOLLOW_LINKS);
        assertThat(tar(n, "/data/tree")).containsExactly(Map.entry("tree/", "/"), Map.entry("tree/x/", "/"),
                Map.entry("tree/x/f", "1\n@0:0"), Map.entry("tree/x/hard", "=> tree/x/f"), Map.entry("tree/x/sym", "-> f"));
        assertThat(tar(n, "/kept/x/f")).as("-a keeps the host's owners")
                .containsExactly(Map.entry("f", "1\n@" + uid + ":" + gid));
        f.runtime.copy().fromContainer(n, "/data/tree", host.resolve("back").toString(), false, false, null);
        Path back = host.resolve("back/x");
        assertThat(Files.readString(back.resolve("f"))).isEqualTo("1\n");
        assertThat(Files.isSameFile(back.resolve("f"), back.resolve("hard"))).as("a hard link stays one").isTrue();
        assertThat(Files.readSymbolicLink(back.resolve("sym"))).isEqualTo(Path.of("f"));
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(back)))
                .isEqualTo("rwx------");
        // the container can still start, with what was copied in: its upper directory holds it
        RunningContainer again = f.runtime.restart(n, java.util.Optional.empty(), false);
        assertThat(again.await().exitCode()).isNotNegative();
        assertThat(tar(n, "/data/tree/x/f")).containsExactly(Map.entry("f", "1\n@0:0"));
        assertThat(f.runtime.control().running(n)).isFalse();
        f.runtime.remove(List.of(n), false);
    }
}
