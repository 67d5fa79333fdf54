package dev.berth.runtime;

import dev.berth.runtime.ContainerSpec.Mount;
import dev.berth.runtime.internal.LayeredFs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code --userns=keep-id}, as podman has it: the user's uid and gid are the same inside the container
 * (see {@link IdMaps#keepId()}), the command runs as them unless {@code -u} says otherwise (the image's
 * USER too is overridden, as in podman), and when the image's {@code /etc/passwd} and {@code /etc/group}
 * lack them, the container gets copies with an entry for the user (its name, home and shell) bound over
 * them, so that {@code id}, {@code whoami} and {@code $HOME} know the user. The image's layers never change.
 */
final class KeepId {
    private KeepId() {}

    /** The user as the host knows it: its name, ids, home, and the name of its group. */
    record HostUser(String name, long uid, long gid, String home, String group) {
        /** The user whose own ids are the first of {@code maps} (the user's maps, not keep-id's). */
        static HostUser current(IdMaps maps) {
            String name = System.getProperty("user.name", "user");
            long gid = maps.gid().getFirst().outside();
            String group = name;
            try {
                group = Files.readAllLines(Path.of("/etc/group")).stream().filter(l -> field(l, 2).equals(Long.toString(gid)))
                        .map(l -> field(l, 0)).filter(n -> !n.isEmpty()).findFirst().orElse(name);
            } catch (IOException e) {
                // the user's name, then
            }
            return new HostUser(name, maps.uid().getFirst().outside(), gid, System.getProperty("user.home", "/"), group);
        }
    }

    /** The options with the user's ids as the default user, and HOME when the image does not know the user. */
    static RunOptions options(RunOptions o, HostUser user, LayeredFs image) {
        if (o.user().isPresent()) {
            return o;
        }
        RunOptions.Builder b = o.toBuilder().user(user.uid() + ":" + user.gid());
        boolean known = passwd(image).stream().anyMatch(l -> field(l, 2).equals(Long.toString(user.uid())));
        boolean homeGiven = o.env().stream().anyMatch(e -> e.equals("HOME") || e.startsWith("HOME="));
        if (!known && !homeGiven) {
            b.env("HOME=" + user.home());
        }
        return b.build();
    }

    /**
     * Writes {@code passwd} and {@code group} into the container's directory when the image has those files
     * but not the user's entries, and returns their bind mounts (none when the image has no such file, or
     * already knows the ids).
     */
    static List<Mount> etcFiles(LayeredFs image, Path container, HostUser user) {
        List<Mount> out = new ArrayList<>();
        add(image, container, "passwd", Long.toString(user.uid()), 2,
                user.name() + ":*:" + user.uid() + ":" + user.gid() + ":" + user.name() + ":" + user.home() + ":/bin/sh",
                out);
        add(image, container, "group", Long.toString(user.gid()), 2, user.group() + ":x:" + user.gid() + ":", out);
        return out;
    }

    private static void add(LayeredFs image, Path container, String file, String id, int field, String entry,
                            List<Mount> out) {
        Optional<String> text = read(image, "/etc/" + file);
        if (text.isEmpty() || text.get().lines().anyMatch(l -> field(l, field).equals(id))) {
            return;
        }
        String t = text.get();
        Path copy = container.resolve(file);
        try {
            Files.writeString(copy, (t.isEmpty() || t.endsWith("\n") ? t : t + "\n") + entry + "\n");
        } catch (IOException e) {
            throw new ContainerException("cannot write the container's /etc/" + file + " in " + container + ": "
                    + e.getMessage(), e);
        }
        out.add(new Mount("/etc/" + file, "bind", copy.toString(), List.of("rbind", "rprivate")));
    }

    private static List<String> passwd(LayeredFs image) {
        return read(image, "/etc/passwd").map(t -> t.lines().toList()).orElse(List.of());
    }

    private static Optional<String> read(LayeredFs image, String path) {
        Optional<LayeredFs.Entry> e = image.lookup(path);
        if (e.isEmpty() || !e.get().isRegularFile()) {
            return Optional.empty();
        }
        return image.readString(path);
    }

    private static String field(String line, int n) {
        String[] f = line.split(":", -1);
        return f.length > n ? f[n] : "";
    }
}
