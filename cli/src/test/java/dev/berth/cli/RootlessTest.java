package dev.berth.cli;

import static dev.berth.cli.AsUser.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.layers.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * berth run and RUN as a user who is not root, in a user namespace mapped with the user's sub-ids
 * ({@code berth-rootless}, 300000..365535), and for a user without a range ({@code berth-single}).
 */
class RootlessTest {
    static AsUser user;
    static Path home;

    @BeforeAll
    static void setUp() {
        user = AsUser.get("berth-rootless", 300000);
        home = user.dir("home");
        copyBusybox(home);
        user.own(home);
    }

    /** busybox:test, copied into a home of the user's (as root; the user then owns it all). */
    private static void copyBusybox(Path to) {
        Path source = TestBases.busybox("rootless-source");
        try (ImageStore src = new BerthHome(source).openStore(); ImageStore dst = new BerthHome(to).openStore()) {
            Descriptor d = src.resolve(Reference.parse("busybox:test")).orElseThrow();
            dst.copyFrom(src, d);
            dst.tag(Reference.parse("busybox:test"), d);
        }
    }

    @Test
    void theContainerIsRootOfANamespaceMappedWithTheUsersSubIds() {
        Tools.Result r = ok(user.berth(home, "run", "--rm", "busybox:test", "sh", "-c",
                "id -u; tr -s ' ' < /proc/self/uid_map; echo pid $$; hostname | wc -c; ip link | grep -c ': '; "
                        + "grep -E 'NoNewPrivs|CapEff' /proc/self/status | tr -d '\\t'; cat /proc/keys | wc -c; "
                        + "touch /sys/x 2>/dev/null || echo sys read-only"));
        assertThat(r.stdout()).isEqualTo("0\n 0 " + user.uid + " 1\n 1 300000 65536\npid 1\n13\n1\nCapEff:00000000a80425fb\n"
                + "NoNewPrivs:1\n0\nsys read-only\n");
        assertThat(r.stderr()).isEmpty();
    }

    @Test
    void withKeepIdTheUserIsItselfInsideAndItsFilesAreItsOwn() throws Exception {
        Path data = user.dir("keep-id-data");
        Tools.Result r = ok(user.berth(home, "run", "--rm", "--userns=keep-id", "-v", data + ":/data", "busybox:test",
                "sh", "-c", "id; whoami; echo $HOME; stat -c %u:%g / /etc/passwd /home/app; echo made > /data/f; "
                        + "tr -s ' ' < /proc/self/uid_map"));
        int after = user.uid + 1;
        assertThat(r.stdout()).isEqualTo("uid=" + user.uid + "(" + user.name + ") gid=" + user.gid + "(users) groups="
                + user.gid + "(users)\n" + user.name + "\n" + user.home + "\n0:0\n0:0\n1000:1000\n"
                + " 0 300000 " + user.uid + "\n " + user.uid + " " + user.uid + " 1\n " + after + " "
                + (300000 + user.uid) + " " + (65536 - user.uid) + "\n");
        assertThat(Files.getAttribute(data.resolve("f"), "unix:uid")).as("the user's own file").isEqualTo(user.uid);
        assertThat(ok(user.berth(home, "run", "--rm", "--userns=keep-id", "-u", "app", "busybox:test", "id", "-u"))
                .stdout()).as("-u wins").isEqualTo("1000\n");
        ok(user.berth(home, "run", "--name", "kept-id", "--userns=keep-id", "-u", "0", "busybox:test", "sh", "-c",
                "mkdir /x && chown 1000 /x && touch /x/y"));
        ok(user.berth(home, "rm", "kept-id"));
        Tools.Result wrong = user.berth(home, "run", "--rm", "--userns=auto", "busybox:test", "true");
        assertThat(wrong.exitCode()).isEqualTo(125);
        assertThat(wrong.stderr()).isEqualTo("berth: --userns: unknown mode \"auto\" (berth has host, the "
                + "default, and keep-id)\n");
    }

    @Test
    void filesOfContainerUsersAreTheirSubIdsOnTheHostAndRmRemovesThem() throws Exception {
        ok(user.berth(home, "run", "--name", "kept", "busybox:test", "sh", "-c",
                "mkdir -p /x/y && echo data > /x/y/f && chmod 700 /x/y && chown -R 1000:2000 /x"));
        Path container;
        try (var dirs = Files.list(home.resolve("containers"))) {
            container = dirs.filter(d -> d.getFileName().toString().matches("[0-9a-f]{64}")).findFirst().orElseThrow();
        }
        assertThat(Files.getAttribute(container.resolve("upper/x"), "unix:uid")).isEqualTo(300000 + 999);
        assertThat(Files.getAttribute(container.resolve("upper/x"), "unix:gid")).isEqualTo(300000 + 1999);
        assertThat(ok(user.berth(home, "run", "--rm", "-u", "app", "busybox:test", "id")).stdout())
                .isEqualTo("uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\n");
        ok(user.berth(home, "rm", "kept"));
        assertThat(container).doesNotExist();
    }

    @Test
    void theHostIsNoMoreWritableToTheContainerThanToTheUser() {
        Tools.Result r = user.berth(home, "run", "--rm", "--network", "host", "-v", "/etc:/host-etc", "busybox:test",
                "sh", "-c", "stat -c %u:%g /host-etc; touch /host-etc/berth-probe || echo no-write; "
                        + "cat /host-etc/shadow > /dev/null || echo no-read; ip link set lo down || echo no-net-admin; "
                        + "echo 1 > /proc/sys/vm/drop_caches || echo no-sysctl");
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).isEqualTo("65534:65534\nno-write\nno-read\nno-net-admin\nno-sysctl\n");
        assertThat(java.nio.file.Path.of("/etc/berth-probe")).doesNotExist();
    }

    @Test
    void theLaunchersTrainingRunsRootlessToo() {
        // a user who cannot write the build's directory trains caches of its own (see the launcher)
        ok(user.java(AotTraining.class, "run"));
        ok(user.java(AotTraining.class, "build"));
    }

    @Test
    void infoShowsTheUsersMaps() {
        String out = ok(user.berth(home, "info")).stdout();
        assertThat(out).contains("rootless: yes\n")
                .contains("uid map: 0 -> " + user.uid + ", 1-65536 -> 300000-365535\n")
                .contains("gid map: 0 -> ")
                .containsPattern("id maps written by: \\S*/newuidmap, \\S*/newgidmap\n")
                .contains("home: " + home + "\n").contains("cgroups: none: --memory, --cpus and --pids-limit need a cgroup");
    }

    @Test
    void exitCodesAndLimitsAsRoot() {
        assertThat(user.berth(home, "run", "--rm", "busybox:test", "sh", "-c", "exit 3").exitCode()).isEqualTo(3);
        Tools.Result notFound = user.berth(home, "run", "--rm", "busybox:test", "nosuch");
        assertThat(notFound.exitCode()).isEqualTo(127);
        Tools.Result limit = user.berth(home, "run", "--rm", "--memory", "32m", "busybox:test", "true");
        assertThat(limit.exitCode()).isEqualTo(125);
        assertThat(limit.stderr()).as("no cgroup is delegated to the user here (the runtime's parity tests give one)")
                .startsWith("berth: run busybox:test: --memory, --cpus and --pids-limit need a cgroup this user may "
                        + "write, and ").endsWith(": run without them, or as root\n").doesNotContain("\n\n");
    }

    @Test
    void aRootlessBuildWithRunGivesTheDiffIdsOfARootBuild() throws Exception {
        Path ctx = user.dir("build-context");
        Builds.dockerfile(ctx, "FROM busybox:test",
                "RUN mkdir -p /data/keep /data/gone /opq && echo a > /data/keep/x && echo b > /data/gone/y "
                        + "&& echo 1 > /opq/1",
                "RUN rm -rf /data/gone /opq && mkdir /opq && echo 2 > /opq/2 && chown 1000:1000 /data/keep/x "
                        + "&& ln /data/keep/x /hard && rm /bin/vi",
                "RUN --mount=type=cache,target=/cache,uid=1000 sh -c 'stat -c %u /cache; echo in > /cache/f'",
                "RUN --mount=type=tmpfs,target=/home/app/scratch/t echo a stub in a directory of uid 1000");
        user.own(ctx);
        Map<String, String> epoch = Map.of("SOURCE_DATE_EPOCH", "1700000000");
        Tools.Result build = ok(user.berth(home, epoch, "build", "--progress", "plain", "-t", "rootless:1", ctx.toString()));
        assertThat(build.stderr()).contains("#4 ").contains(" 1000\n");
        Path rootHome = TestBases.busybox("rootless-compare");
        Tools.Result asRoot = Tools.run(dev.berth.layers.testing.Jvm.command(Berth.class, "build", "-q", "-t", "root:1",
                ctx.toString()), Map.of("BERTH_HOME", rootHome.toString(), "SOURCE_DATE_EPOCH", "1700000000"), null);
        assertThat(asRoot.exitCode()).as(asRoot.stderr()).isZero();
        List<?> rootless;
        List<?> root;
        try (ImageStore a = new BerthHome(home).openStore(); ImageStore b = new BerthHome(rootHome).openStore()) {
            rootless = a.image(Reference.parse("rootless:1"), Platform.host()).diffIds();
            root = b.image(Reference.parse("root:1"), Platform.host()).diffIds();
        }
        assertThat(rootless).isEqualTo(root);
        Image image;
        try (ImageStore a = new BerthHome(home).openStore()) {
            image = a.image(Reference.parse("rootless:1"), Platform.host());
        }
        var layer = Builds.layer(home, new dev.berth.builder.BuildResult(image.descriptor(), image.id(), List.of(),
                List.of()), 2);
        assertThat(layer.get("data/keep/x").getLongUserId()).as("the container's ids, not the host's").isEqualTo(1000);
        assertThat(layer).containsKeys("data/.wh.gone", "opq/.wh..wh..opq", "bin/.wh.vi");
        assertThat(ok(user.berth(home, "run", "--rm", "rootless:1", "sh", "-c", "ls /opq; ls /data; stat -c %u /data/keep/x"))
                .stdout()).isEqualTo("2\nkeep\n1000\n");
        // the cache mount's file is a sub-id's: pruning removes it in the user's namespace
        assertThat(ok(user.berth(home, "prune", "--build-cache")).stdout()).startsWith("Deleted ");
        try (var left = Files.walk(home.resolve("cache/mounts"))) {
            assertThat(left.filter(p -> p.getFileName().toString().equals("data")).toList()).isEmpty();
        }
    }

    @Test
    void aUserWithoutSubIdsGetsOneIdAndAWarning() {
        AsUser single = AsUser.get("berth-single", 0);
        Path singleHome = single.dir("home");
        copyBusybox(singleHome);
        single.own(singleHome);
        Tools.Result r = ok(single.berth(singleHome, "run", "--rm", "busybox:test", "sh", "-c",
                "id -u; tr -s ' ' < /proc/self/uid_map; echo x > /tmp/f && cat /tmp/f"));
        assertThat(r.stdout()).isEqualTo("0\n 0 " + single.uid + " 1\nx\n");
        assertThat(r.stderr()).isEqualTo("berth: warning: no sub-id range for berth-single in /etc/subuid and "
                + "/etc/subgid: containers have one user, root, which is you; other uids and gids are not available\n");
        Path ctx = single.dir("ctx");
        Builds.dockerfile(ctx, "FROM busybox:test", "RUN echo made > /made");
        single.own(ctx);
        ok(single.berth(singleHome, "build", "-q", "-t", "single:1", ctx.toString()));
        Tools.Result chown = single.berth(singleHome, "run", "--rm", "busybox:test", "chown", "1000", "/tmp");
        assertThat(chown.exitCode()).as("no uid 1000 inside").isNotZero();
        Tools.Result keepId = single.berth(singleHome, "run", "--rm", "--userns=keep-id", "busybox:test", "true");
        assertThat(keepId.exitCode()).isEqualTo(125);
        assertThat(keepId.stderr()).contains("berth: run busybox:test: --userns=keep-id needs a sub-id range");
    }
}
