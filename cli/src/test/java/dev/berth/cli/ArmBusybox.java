package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.LayerExtractor;
import dev.berth.layers.testing.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * An arm64 root file system for multi-platform tests: Debian's {@code busybox-static} package for arm64,
 * fetched with {@code apt-get download} and unpacked from its .deb, with {@code /bin/sh} linked to it. Made
 * once and kept under target/ between runs. When apt does not know arm64 yet, the fixture adds it
 * ({@code dpkg --add-architecture arm64}, {@code apt-get update}): needs root, as the tests that run do.
 */
final class ArmBusybox {
    private static final Path DIR = Path.of(System.getProperty("user.dir"), "target", "test-bases");

    private ArmBusybox() {}

    /** A tar of the root: {@code bin/busybox} (static, aarch64) and {@code bin/sh -> busybox}. */
    static synchronized Path rootfsTar() {
        Path tar = DIR.resolve("busybox-arm64.tar");
        if (Files.isRegularFile(tar)) {
            return tar;
        }
        Tools.requireRoot();
        Path work = DIR.resolve("busybox-arm64.work"); // not MultiPlatformTest's busybox-arm64/
        try {
            if (Files.exists(work)) {
                LayerExtractor.deleteTree(work);
            }
            Files.createDirectories(work);
            Path deb = download(work);
            Path root = work.resolve("root");
            Tools.run("dpkg-deb", "-x", deb.toString(), root.toString()).ok();
            assertThat(root.resolve("bin/busybox")).isRegularFile();
            Files.createSymbolicLink(root.resolve("bin/sh"), Path.of("busybox"));
            Path partial = DIR.resolve("busybox-arm64.tar.part");
            Tools.run("tar", "-C", root.toString(), "-cf", partial.toString(), "./bin").ok();
            Files.move(partial, tar, StandardCopyOption.ATOMIC_MOVE);
            LayerExtractor.deleteTree(work);
            return tar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path download(Path dir) throws IOException {
        List<String> get = List.of("sh", "-c", "cd " + dir + " && apt-get download -q busybox-static:arm64");
        Tools.Result r = Tools.run(get);
        if (r.exitCode() != 0) { // apt has no arm64 package index yet
            Tools.run("dpkg", "--add-architecture", "arm64").ok();
            Tools.run("apt-get", "update", "-q").ok();
            Tools.run(get).ok();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith("_arm64.deb")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("apt-get download left no arm64 .deb in " + dir));
        }
    }
}
