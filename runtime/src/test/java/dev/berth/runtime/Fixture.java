package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerEntry.Attributes;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.testing.Busybox;
import dev.berth.layers.testing.TestImages;
import dev.berth.layers.testing.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One berth home for the whole test run (under target/, on a real file system), with test images built by
 * berth's own LayerWriter from the Debian busybox-static binary:
 * <ul>
 *   <li>{@code busybox:test}: busybox and its applets, /etc/passwd (root, app 1000, nobody), /etc/group
 *       (app is also in "extra", gid 2000), a 0700 script /bin/secret, CMD ["sh"];
 *   <li>{@code nocmd:test}: the same layer with no ENTRYPOINT or CMD;
 *   <li>{@code dynamic:test}: FROM scratch with the host's dynamically linked /bin/true as /app;
 *   <li>{@code layers:test}: busybox, then a layer that deletes /etc/removeme (whiteout), replaces /data
 *       (opaque whiteout) and changes /keep/x, then one that adds /new;
 *   <li>{@code escape:test}: busybox with /mnt/up and /mnt/abs, symlinks to {@link #ESCAPE_TARGET} on the host;
 *   <li>{@code many:test}: busybox plus 199 layers of one file each (past the one-page mount options);
 *   <li>{@code stopsignal:test}: busybox with STOPSIGNAL SIGUSR1;
 *   <li>{@code ports:test}: busybox, EXPOSE 80/tcp 53/udp, and /bin/udp-echo (a test resource, built static with gcc).
 * </ul>
 * In CI a missing busybox or root fails the tests; elsewhere they are skipped with a message.
 */
final class Fixture {
    static final String BUSYBOX = "busybox:test";
    static final int MANY = 200;
    /** Where escape:test's symlinks point: a host path that must never be created by a mount. */
    static final String ESCAPE_TARGET = "/tmp/berth-escape-target";
    private static Fixture instance;

    final BerthHome home;
    final ContainerRuntime runtime;
    final Path scratch;

    private Fixture(BerthHome home, Path scratch) {
        this.home = home;
        this.runtime = ContainerRuntime.open(home);
        this.scratch = scratch;
    }

    /**
     * The system property that makes the fixture rootless: its value is the directory (the user's) to keep
     * the fixture's home in. {@link RootlessParityTest} sets it for the JVM it runs as a user.
     */
    static final String ROOTLESS_BASE = "berth.test.rootless.base";

    /** Whether this run is the rootless one: berth runs as a user who is not root. */
    static boolean rootless() {
        return System.getProperty(ROOTLESS_BASE) != null;
    }

    /** The shared fixture; requires root (unless {@link #rootless()}) and busybox (fails in CI, skips elsewhere). */
    static synchronized Fixture get() {
        if (!rootless()) {
            Tools.requireRoot();
        }
        Path busybox = Tools.require("busybox");
        if (instance == null) {
            try {
                Path base = rootless() ? Path.of(System.getProperty(ROOTLESS_BASE))
                        : Path.of(System.getProperty("user.dir"), "target", "test-berth");
                if (Files.exists(base)) {
                    ContainerRuntime.detachMounts(base);
                    LayerExtractor.deleteTree(base);
                }
                Path scratch = Files.createDirectories(base.resolve("scratch"));
                BerthHome home = new BerthHome(base.resolve("home"));
                try (ImageStore store = home.openStore()) {
                    build(store, busybox, scratch);
                }
                instance = new Fixture(home, scratch);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    private static void build(ImageStore store, Path busybox, Path scratch) throws IOException {
        ContainerConfig cmdSh = config(Optional.of(List.of("sh")));
        TestImages.store(store, BUSYBOX, List.of(busyboxLayer(busybox, scratch)), cmdSh);
        TestImages.store(store, "nocmd:test", List.of(busyboxLayer(busybox, scratch)), config(Optional.empty()));

        Path truePath = Path.of("/bin/true").toRealPath();
        TestImages.store(store, "dynamic:test", List.of(LayerWriter.create()
                .addFromDisk(truePath, LayerPath.of("app"), Attributes.DEFAULT.withMode(0755))),
                config(Optional.of(List.of("/app"))));

        LayerWriter base = busyboxLayer(busybox, scratch)
                .add(new LayerEntry.Content(LayerPath.of("etc/removeme"), bytes("gone\n"), Attributes.of(0644, 0, 0)))
                .add(new LayerEntry.Content(LayerPath.of("data/a"), bytes("a\n"), Attributes.of(0644, 0, 0)))
                .add(new LayerEntry.Content(LayerPath.of("data/b"), bytes("b\n"), Attributes.of(0644, 0, 0)))
                .add(new LayerEntry.Content(LayerPath.of("keep/x"), bytes("old\n"), Attributes.of(0644, 0, 0)))
                .add(new LayerEntry.Content(LayerPath.of("keep/y"), bytes("y\n"), Attributes.of(0644, 0, 0)));
        LayerWriter upper = LayerWriter.create()
                .add(new LayerEntry.Whiteout(LayerPath.of("etc/removeme")))
                .add(new LayerEntry.OpaqueWhiteout(LayerPath.of("data")))
                .add(new LayerEntry.Content(LayerPath.of("data/c"), bytes("c\n"), Attributes.of(0644, 0, 0)))
                .add(new LayerEntry.Content(LayerPath.of("keep/x"), bytes("new\n"), Attributes.of(0600, 0, 0)));
        LayerWriter top = LayerWriter.create()
                .add(new LayerEntry.Content(LayerPath.of("new"), bytes("new file\n"), Attributes.of(0644, 0, 0)));
        TestImages.store(store, "layers:test", List.of(base, upper, top), cmdSh);

        // Symlinks that point out of the root, to check that mounts are resolved inside it.
        TestImages.store(store, "escape:test", List.of(busyboxLayer(busybox, scratch)
                .add(new LayerEntry.Symlink(LayerPath.of("mnt/up"), "../../../../../../../.." + ESCAPE_TARGET,
                        Attributes.DEFAULT))
                .add(new LayerEntry.Symlink(LayerPath.of("mnt/abs"), ESCAPE_TARGET, Attributes.DEFAULT))), cmdSh);

        List<LayerWriter> many = new ArrayList<>();
        many.add(busyboxLayer(busybox, scratch));
        for (int i = 1; i < MANY; i++) {
            many.add(LayerWriter.create().add(new LayerEntry.Content(LayerPath.of("many/f" + i), bytes(i + "\n"),
                    Attributes.of(0644, 0, 0))));
        }
        TestImages.store(store, "many:test", many, cmdSh);

        ContainerConfig.Builder stop = cmdSh.toBuilder();
        stop.stopSignal = Optional.of("SIGUSR1");
        TestImages.store(store, "stopsignal:test", List.of(busyboxLayer(busybox, scratch)), stop.build());

        Path echo = scratch.resolve("udp-echo");
        Path source = scratch.resolve("udp-echo.c");
        try (var in = Fixture.class.getResourceAsStream("/udp-echo.c")) {
            Files.copy(java.util.Objects.requireNonNull(in, "udp-echo.c on the class path"), source);
        }
        Tools.run(Tools.require("gcc").toString(), "-static", "-O2", "-o", echo.toString(), source.toString()).ok();
        ContainerConfig.Builder ports = cmdSh.toBuilder();
        ports.exposedPorts = new java.util.LinkedHashMap<>(java.util.Map.of("80/tcp", java.util.Map.of(),
                "53/udp", java.util.Map.of()));
        TestImages.store(store, "ports:test", List.of(busyboxLayer(busybox, scratch).addFromDisk(echo,
                LayerPath.of("bin/udp-echo"), Attributes.DEFAULT.withMode(0755))), ports.build());
    }

    static ContainerConfig config(Optional<List<String>> cmd) {
        return Busybox.config(cmd);
    }

    /**
     * {@link Busybox#layer}, plus 0700 scripts /bin/secret (root's) and /bin/app-only (1000's), and
     * /bin/noshell, whose interpreter is missing.
     */
    static LayerWriter busyboxLayer(Path busybox, Path scratch) throws IOException {
        LayerWriter w = Busybox.layer(busybox);
        w.add(new LayerEntry.Content(LayerPath.of("bin/secret"), bytes("#!/bin/sh\necho secret\n"),
                Attributes.of(0700, 0, 0)));
        w.add(new LayerEntry.Content(LayerPath.of("bin/app-only"), bytes("#!/bin/sh\necho app\\'s\n"),
                Attributes.of(0700, 1000, 1000)));
        w.add(new LayerEntry.Content(LayerPath.of("bin/noshell"), bytes("#!/no/such/shell\necho hi\n"),
                Attributes.of(0755, 0, 0)));
        return w;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** What a container printed and how it ended. */
    record Run(RunResult result, String out, String err) {
        int code() {
            return result.exitCode();
        }
    }

    /** Runs a container with stdout and stderr captured. */
    Run run(String image, RunOptions.Builder options) {
        try {
            Path out = Files.createTempFile(scratch, "out", ".txt");
            Path err = Files.createTempFile(scratch, "err", ".txt");
            RunResult r = runtime.run(image, options.stdout(Stdio.file(out)).stderr(Stdio.file(err)).build());
            Run run = new Run(r, Files.readString(out), Files.readString(err));
            Files.delete(out);
            Files.delete(err);
            return run;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code sh -c script} in busybox with --rm and returns its stdout, asserting exit code 0. */
    String sh(String script) {
        Run r = run(BUSYBOX, RunOptions.builder().remove(true).command("sh", "-c", script));
        assertThat(r.code()).as("exit code; stderr: %s", r.err()).isZero();
        return r.out();
    }
}
