package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Posix;
import dev.berth.layers.testing.Tools;
import dev.berth.layers.testing.Trees;
import dev.berth.runtime.internal.LayeredFs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What berth reads from an image before it starts it, through the layer snapshots: overlayfs's rules for
 * whiteouts, opaque directories and symlinks; users from /etc/passwd and /etc/group; the command check.
 */
class ImageViewTest {
    @TempDir
    Path dir;

    @Test
    void whiteoutsOpaqueDirectoriesAndSymlinksResolveAsOverlayfsDoes() throws IOException {
        Tools.requireRoot(); // a 0:0 device and a trusted.* xattr
        Path base = dir.resolve("base");
        Path top = dir.resolve("top");
        Trees.file(base, "etc/passwd", "base\n", 0644);
        Trees.file(base, "etc/gone", "x\n", 0644);
        Trees.file(base, "data/old", "old\n", 0644);
        Trees.file(base, "keep/lower", "lower\n", 0644);
        Trees.file(base, "real/target", "t\n", 0644);
        Trees.symlink(base, "abs", "/real");
        Trees.symlink(base, "escape", "../../../../../../etc");
        Trees.file(top, "keep/upper", "upper\n", 0644);
        Trees.file(top, "data/new", "new\n", 0644);
        Files.createDirectories(top.resolve("etc"));
        Posix.mknod(top.resolve("etc/gone"), Posix.S_IFCHR, 0, 0);
        Posix.setXattr(top.resolve("data"), "trusted.overlay.opaque", "y".getBytes(StandardCharsets.US_ASCII));
        LayeredFs fs = new LayeredFs(List.of(top, base));

        assertThat(fs.readString("/etc/passwd")).hasValue("base\n");
        assertThat(fs.lookup("/etc/gone")).as("whited out").isEmpty();
        assertThat(fs.lookup("/data/old")).as("below an opaque directory").isEmpty();
        assertThat(fs.readString("/data/new")).hasValue("new\n");
        assertThat(fs.readString("/keep/lower")).hasValue("lower\n");
        assertThat(fs.readString("/keep/upper")).hasValue("upper\n");
        assertThat(fs.readString("/abs/target")).as("an absolute link is inside the image").hasValue("t\n");
        assertThat(fs.readString("/escape/passwd")).as("../ stops at the image's root").hasValue("base\n");
        assertThat(fs.lookup("/abs", false)).hasValueSatisfying(e -> assertThat(e.isSymlink()).isTrue());
        assertThat(fs.lookup("/etc/passwd/x")).as("a file is not a directory").isEmpty();
        assertThat(fs.lookup("/")).hasValueSatisfying(e -> assertThat(e.isDirectory()).isTrue());
    }

    private LayeredFs image(String passwd, String group) {
        Path root = dir.resolve("img");
        Trees.file(root, "etc/passwd", passwd, 0644);
        Trees.file(root, "etc/group", group, 0644);
        return new LayeredFs(List.of(root));
    }

    @Test
    void usersResolveAsDockerResolvesThem() throws IOException {
        LayeredFs fs = image("root:x:0:0:root:/root:/bin/sh\nweb:x:33:33:www:/var/www:/bin/false\n"
                + "svc:x:500:600::/srv:/bin/sh\n", "root:x:0:\nwww:x:33:\nsvc:x:600:\nadm:x:4:svc,web\n"
                + "staff:x:50:svc\n");
        assertThat(ImageUser.resolve(Optional.empty(), fs)).isEqualTo(new ImageUser(0, 0, List.of(0), "/root"));
        assertThat(ImageUser.resolve(Optional.of("svc"), fs)).isEqualTo(new ImageUser(500, 600, List.of(600, 4, 50), "/srv"));
        assertThat(ImageUser.resolve(Optional.of("33"), fs)).isEqualTo(new ImageUser(33, 33, List.of(33, 4), "/var/www"));
        assertThat(ImageUser.resolve(Optional.of("svc:www"), fs)).as("an explicit group, no others")
                .isEqualTo(new ImageUser(500, 33, List.of(33), "/srv"));
        assertThat(ImageUser.resolve(Optional.of("4242:77"), fs)).isEqualTo(new ImageUser(4242, 77, List.of(77), "/"));
        assertThat(ImageUser.resolve(Optional.of("4242"), fs)).isEqualTo(new ImageUser(4242, 0, List.of(0), "/"));
        assertThatThrownBy(() -> ImageUser.resolve(Optional.of("nobody"), fs))
                .hasMessage("unable to find user nobody: no matching entries in the image's /etc/passwd");
        assertThatThrownBy(() -> ImageUser.resolve(Optional.of("svc:nogroup"), fs))
                .hasMessage("unable to find group nogroup: no matching entries in the image's /etc/group");
        assertThatThrownBy(() -> ImageUser.resolve(Optional.of("99999999999"), fs)).hasMessageContaining("too large");
        LayeredFs empty = new LayeredFs(List.of(Files.createDirectories(dir.resolve("nothing"))));
        assertThat(ImageUser.resolve(Optional.of("1000:1000"), empty)).as("scratch: numbers need no files")
                .isEqualTo(new ImageUser(1000, 1000, List.of(1000), "/"));
    }

    @Test
    void theCommandCheckFindsTheProgramItsPermissionsAndItsLoader() throws IOException {
        Path root = dir.resolve("cmd");
        Files.createDirectories(root.resolve("bin"));
        Files.copy(Path.of("/bin/true").toRealPath(), root.resolve("bin/dyn"));
        Files.setAttribute(root.resolve("bin/dyn"), "unix:mode", 0755);
        Trees.file(root, "bin/script", "#!/bin/missing-sh -e\necho\n", 0755);
        Trees.file(root, "bin/mine", "#!/bin/dyn\n", 0700);
        LayeredFs fs = new LayeredFs(List.of(root));
        ImageUser root0 = new ImageUser(0, 0, List.of(0), "/");
        ImageUser other = new ImageUser(1000, 1000, List.of(1000), "/");
        String interpreter = elfInterpreter();

        assertThatThrownBy(() -> CommandCheck.check(fs, List.of("dyn"), "/", "/bin", root0, List.of()))
                .hasMessage("exec /bin/dyn: no such file or directory: /bin/dyn is dynamically linked: its ELF "
                        + "interpreter " + interpreter + " is not in the image (an "
                        + "image without a C library, e.g. FROM scratch, needs a statically linked binary)")
                .satisfies(e -> assertThat(((ContainerException) e).exitCode()).isEqualTo(127));
        Trees.file(root, interpreter.substring(1), "", 0755); // now the loader is there
        CommandCheck.check(fs, List.of("dyn"), "/", "/bin", root0, List.of());
        assertThatThrownBy(() -> CommandCheck.check(fs, List.of("/bin/script"), "/", "/bin", root0, List.of()))
                .hasMessageContaining("is a script: its interpreter /bin/missing-sh is not in the image");
        assertThatThrownBy(() -> CommandCheck.check(fs, List.of("mine"), "/", "/bin", other, List.of()))
                .satisfies(e -> assertThat(((ContainerException) e).exitCode()).isEqualTo(126))
                .hasMessageContaining("permission denied: mode 0700, owner 0:0");
        CommandCheck.check(fs, List.of("mine"), "/", "/bin", root0, List.of());
        CommandCheck.check(fs, List.of("./dyn"), "/bin", "/bin", root0, List.of());
        CommandCheck.check(fs, List.of("/opt/vol/anything"), "/", "/bin", root0, List.of("/opt/vol"));
        assertThatThrownBy(() -> CommandCheck.check(fs, List.of("nope"), "/", "/bin:/usr/bin", root0, List.of()))
                .hasMessage("exec: \"nope\": executable file not found in $PATH (/bin:/usr/bin)");
    }

    /** The glibc loader a dynamically linked binary of this machine names. */
    private static String elfInterpreter() {
        return System.getProperty("os.arch").equals("aarch64") ? "/lib/ld-linux-aarch64.so.1"
                : "/lib64/ld-linux-x86-64.so.2";
    }
}
