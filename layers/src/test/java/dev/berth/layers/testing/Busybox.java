package dev.berth.layers.testing;

import dev.berth.layers.ContainerConfig;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerEntry.Attributes;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayerWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A small Linux root made of the Debian busybox-static binary, for the tests of every module that run images. */
public final class Busybox {
    private Busybox() {}

    /**
     * A layer with busybox and a symlink per applet in /bin, /etc/passwd (root, app 1000, nobody),
     * /etc/group (app is also in "extra", gid 2000) and the usual directories (/tmp 1777, /home/app 1000:1000).
     */
    public static LayerWriter layer(Path busybox) throws IOException {
        LayerWriter w = LayerWriter.create();
        for (String d : List.of("bin", "etc", "tmp", "root", "home/app", "proc", "sys", "dev", "usr/bin", "var")) {
            w.add(new LayerEntry.Directory(LayerPath.of(d), Attributes.of(d.equals("tmp") ? 01777 : 0755, 0, 0)));
        }
        w.add(new LayerEntry.Directory(LayerPath.of("home/app"), Attributes.of(0755, 1000, 1000)));
        w.addFromDisk(busybox, LayerPath.of("bin/busybox"), Attributes.DEFAULT.withMode(0755));
        for (String applet : Tools.run(busybox.toString(), "--list").ok().stdout().split("\n")) {
            if (!applet.isBlank() && !applet.equals("busybox")) {
                w.add(new LayerEntry.Symlink(LayerPath.of("bin/" + applet.trim()), "busybox", Attributes.DEFAULT));
            }
        }
        w.add(new LayerEntry.Content(LayerPath.of("etc/passwd"), bytes("root:x:0:0:root:/root:/bin/sh\n"
                + "app:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
                Attributes.of(0644, 0, 0)));
        w.add(new LayerEntry.Content(LayerPath.of("etc/group"), bytes("root:x:0:\napp:x:1000:\nextra:x:2000:app\n"
                + "nogroup:x:65534:\n"), Attributes.of(0644, 0, 0)));
        return w;
    }

    /** PATH, {@code FROM_IMAGE=yes} and {@code CMD ["sh"]} (or the given command). */
    public static ContainerConfig config(Optional<List<String>> cmd) {
        ContainerConfig.Builder b = ContainerConfig.EMPTY.toBuilder();
        b.env = new ArrayList<>(List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "FROM_IMAGE=yes"));
        b.cmd = cmd;
        return b.build();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
