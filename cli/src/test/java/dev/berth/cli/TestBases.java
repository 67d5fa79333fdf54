package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.Reference;
import dev.berth.layers.testing.Busybox;
import dev.berth.layers.testing.TestImages;
import dev.berth.layers.testing.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The base images the tests of RUN build on, made once per test run and copied into the homes that need
 * them: {@code busybox:test} (the Debian busybox-static binary and its applets) and {@code debian:test}
 * (a Debian root made by {@code debootstrap --variant=minbase} from the apt sources this machine uses,
 * imported with {@code berth import}). Needs root, busybox and debootstrap; in CI their absence fails.
 */
final class TestBases {
    private static final Path DIR = Path.of(System.getProperty("user.dir"), "target", "test-bases");
    private static Path busyboxHome;
    private static Path debianTar;

    private TestBases() {}

    /** A fresh, empty berth home under target/ (removed first if an earlier run left it). */
    static Path freshHome(String name) {
        Path home = DIR.resolve("homes").resolve(name);
        try {
            if (Files.exists(home)) {
                dev.berth.runtime.ContainerRuntime.open(new BerthHome(home)).recover();
                LayerExtractor.deleteTree(home);
            }
            return Files.createDirectories(home);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh home holding {@code busybox:test}. */
    static synchronized Path busybox(String name) {
        Tools.requireRoot();
        Path busybox = Tools.require("busybox");
        try {
            if (busyboxHome == null) {
                Path home = freshHome("busybox-source");
                try (ImageStore store = new BerthHome(home).openStore()) {
                    TestImages.store(store, "busybox:test", List.of(Busybox.layer(busybox)),
                            Busybox.config(Optional.of(List.of("sh"))));
                }
                busyboxHome = home;
            }
            Path home = freshHome(name);
            copy(busyboxHome, home, "busybox:test");
            return home;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds {@code debian:test} to {@code home}, imported from the Debian root (debootstrapped on first use). */
    static synchronized void debian(Path home) {
        Tools.requireRoot();
        if (debianTar == null) {
            debianTar = debootstrap();
        }
        CliRun.berth(home, "import", debianTar.toString(), "debian:test").ok();
    }

    private static void copy(Path from, Path to, String name) {
        try (ImageStore src = new BerthHome(from).openStore(); ImageStore dst = new BerthHome(to).openStore()) {
            Descriptor d = src.resolve(Reference.parse(name)).orElseThrow();
            dst.copyFrom(src, d);
            dst.tag(Reference.parse(name), d);
        }
    }

    /** A tar of a minbase Debian root of this machine's release, made once (kept in target/ between runs). */
    private static Path debootstrap() {
        Path tool = Tools.require("debootstrap");
        Path tar = DIR.resolve("debian-minbase.tar");
        if (Files.isRegularFile(tar)) {
            return tar;
        }
        Path root = DIR.resolve("debian-rootfs");
        try {
            if (Files.exists(root)) {
                LayerExtractor.deleteTree(root);
            }
            Files.createDirectories(DIR);
            Tools.Result r = Tools.run(tool.toString(), "--variant=minbase", codename(), root.toString(), mirror());
            assertThat(r.exitCode()).as("debootstrap: %s", r.stderr()).isZero();
            Path partial = DIR.resolve("debian-minbase.tar.part");
            Tools.run("tar", "-C", root.toString(), "-cf", partial.toString(), ".").ok();
            Files.move(partial, tar, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            LayerExtractor.deleteTree(root);
            return tar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** This machine's Debian release ({@code VERSION_CODENAME} of /etc/os-release). */
    private static String codename() throws IOException {
        Matcher m = Pattern.compile("(?m)^VERSION_CODENAME=(\\w+)").matcher(Files.readString(Path.of("/etc/os-release")));
        return m.find() ? m.group(1) : "bookworm";
    }

    /** The Debian mirror this machine's apt uses (deb822 or one-line sources), deb.debian.org otherwise. */
    private static String mirror() throws IOException {
        Pattern deb822 = Pattern.compile("(?m)^URIs:\\s*(\\S+/debian)/?\\s*$");
        Pattern line = Pattern.compile("(?m)^deb\\s+(?:\\[[^]]*\\]\\s+)?(\\S+/debian)/?\\s");
        for (Path p : List.of(Path.of("/etc/apt/sources.list.d/debian.sources"), Path.of("/etc/apt/sources.list"))) {
            if (Files.isRegularFile(p)) {
                String text = Files.readString(p);
                for (Pattern pattern : List.of(deb822, line)) {
                    Matcher m = pattern.matcher(text);
                    if (m.find()) {
                        return m.group(1);
                    }
                }
            }
        }
        return "http://deb.debian.org/debian";
    }

    /** Files under {@code dir} whose bytes contain {@code text} (for secrets that must be nowhere). */
    static List<Path> filesContaining(Path dir, String text) {
        byte[] needle = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (var files = Files.walk(dir)) {
            return files.filter(f -> Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)).filter(f -> {
                try {
                    byte[] b = Files.readAllBytes(f);
                    return indexOf(b, needle) >= 0 || indexOf(decompressed(b), needle) >= 0;
                } catch (IOException e) {
                    return false;
                }
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] decompressed(byte[] b) {
        if (b.length < 2 || (b[0] & 0xff) != 0x1f || (b[1] & 0xff) != 0x8b) {
            return new byte[0];
        }
        try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(b))) {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The environment a CLI run gets: BERTH_HOME only, on top of this process's. */
    static Map<String, String> env(Path home) {
        return Map.of("BERTH_HOME", home.toString());
    }
}
