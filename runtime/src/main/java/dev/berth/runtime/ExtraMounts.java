package dev.berth.runtime;

import dev.berth.layers.Posix;
import dev.berth.runtime.ContainerSpec.Mount;
import dev.berth.runtime.internal.LayeredFs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns a container's {@link ContainerMount}s into the spec's mounts, in two steps: {@link #resolve} before
 * the container's directory exists (snapshots extracted, sources found, so bad input fails before anything
 * was created), then {@link #mounts} inside that directory, where the writable layers and the masks live
 * and die with it.
 *
 * <p>An image path is shown by an overlay of the layer directories that make it up; a writable one gets
 * an upper directory of its own, so nothing ever writes to a snapshot or to a caller's directory. A
 * directory with hidden entries is an overlay of a mask, a layer of whiteouts named after the hidden
 * entries (its directories take the attributes of the directories they stand over), over the directory.
 */
final class ExtraMounts {
    private ExtraMounts() {}

    /** One mount, resolved: what it will mount once the container's directory exists. */
    sealed interface Resolved {
        String target();
    }

    private record Plain(Mount mount) implements Resolved {
        public String target() {
            return mount.destination();
        }
    }

    /** An overlay of {@code lowers} (topmost first), writable or not; a mask is made first when listed. */
    private record Overlay(String target, List<Path> lowers, Optional<Path> maskOver, List<String> hidden,
                           boolean writable) implements Resolved {}

    /** A file of a snapshot, copied for a writable mount so that the snapshot is never written. */
    private record SnapshotFile(String target, Path file, boolean writable) implements Resolved {}

    /** Resolves the mounts; throws {@link ContainerException} for a source that does not exist. */
    static List<Resolved> resolve(List<ContainerMount> mounts, SnapshotStore snapshots) {
        List<Resolved> out = new ArrayList<>(mounts.size());
        for (ContainerMount m : mounts) {
            out.add(switch (m) {
                case ContainerMount.Bind b -> {
                    if (!Files.exists(b.source(), LinkOption.NOFOLLOW_LINKS)) {
                        throw new ContainerException("mount source " + b.source() + " does not exist");
                    }
                    yield new Plain(new Mount(b.target(), "bind", b.source().toString(),
                            List.of("rbind", "rprivate", b.readOnly() ? "ro" : "rw")));
                }
                case ContainerMount.Tmpfs t -> {
                    List<String> opts = new ArrayList<>(List.of("nosuid", "nodev", "mode=1777"));
                    t.size().ifPresent(size -> opts.add("size=" + size));
                    yield new Plain(new Mount(t.target(), "tmpfs", "tmpfs", opts));
                }
                case ContainerMount.Layers l -> {
                    List<Path> lowers = snapshots.prepare(l.layers(), l.blobs());
                    LayeredFs fs = new LayeredFs(lowers);
                    Optional<List<Path>> dirs = fs.directoryLayers(l.path());
                    if (dirs.isPresent()) {
                        yield new Overlay(l.target(), dirs.get(), Optional.empty(), List.of(), l.writable());
                    }
                    LayeredFs.Entry e = fs.lookup(l.path()).orElseThrow(() -> new ContainerException(
                            "mount source " + l.path() + " is not in the image"));
                    if (!e.isRegularFile()) {
                        throw new ContainerException("mount source " + l.path() + " is neither a directory nor a "
                                + "regular file");
                    }
                    yield new SnapshotFile(l.target(), e.file(), l.writable());
                }
                case ContainerMount.Directory d -> {
                    if (!Files.isDirectory(d.source(), LinkOption.NOFOLLOW_LINKS)) {
                        throw new ContainerException("mount source " + d.source() + " is not a directory");
                    }
                    if (d.hidden().isEmpty() && !d.writable()) {
                        yield new Plain(new Mount(d.target(), "bind", d.source().toString(),
                                List.of("rbind", "rprivate", "ro")));
                    }
                    yield new Overlay(d.target(), List.of(d.source()), d.hidden().isEmpty() ? Optional.empty()
                            : Optional.of(d.source()), d.hidden(), d.writable());
                }
            });
        }
        return out;
    }

    /**
     * The spec's mounts for resolved mounts, making what they need under {@code dir} (the container's
     * directory); {@code empty} is an empty directory, the second layer of an overlay that has only one;
     * {@code userxattr} for overlays mounted in a user namespace (rootless).
     */
    static List<Mount> mounts(List<Resolved> resolved, Path dir, Path empty, boolean userxattr) {
        List<Mount> out = new ArrayList<>(resolved.size());
        int n = 0;
        for (Resolved r : resolved) {
            Path own = dir.resolve("mounts").resolve(Integer.toString(n++));
            try {
                out.add(switch (r) {
                    case Plain p -> p.mount();
                    case SnapshotFile f -> {
                        Path source = f.file();
                        if (f.writable()) {
                            Files.createDirectories(own);
                            source = own.resolve("file");
                            Files.copy(f.file(), source, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                        }
                        yield new Mount(f.target(), "bind", source.toString(),
                                List.of("rbind", "rprivate", f.writable() ? "rw" : "ro"));
                    }
                    case Overlay v -> overlay(v, own, empty, userxattr);
                });
            } catch (IOException e) {
                throw new ContainerException("cannot prepare the mount on " + r.target() + " in " + own
                        + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static Mount overlay(Overlay v, Path own, Path empty, boolean userxattr) throws IOException {
        List<Path> lowers = new ArrayList<>();
        if (v.maskOver().isPresent()) {
            Path mask = own.resolve("mask");
            Files.createDirectories(mask);
            makeMask(mask, v.maskOver().get(), v.hidden());
            lowers.add(mask);
        }
        lowers.addAll(v.lowers());
        if (lowers.size() == 1 && !v.writable()) {
            lowers.add(empty); // overlayfs mounts no fewer than two layers without an upper one
        }
        List<String> opts = new ArrayList<>();
        StringBuilder lower = new StringBuilder("lowerdir=");
        for (int i = 0; i < lowers.size(); i++) {
            lower.append(i == 0 ? "" : ":").append(escape(lowers.get(i)));
        }
        opts.add(lower.toString());
        if (v.writable()) {
            Path upper = Files.createDirectories(own.resolve("upper"));
            Path work = Files.createDirectories(own.resolve("work"));
            opts.add("upperdir=" + escape(upper));
            opts.add("workdir=" + escape(work));
            opts.add("volatile"); // thrown away with the container: nothing to sync
        }
        if (userxattr) {
            opts.add("userxattr"); // mounted in a user namespace, over snapshots marked for one
        }
        return new Mount(v.target(), "overlay", "overlay", opts);
    }

    /** A path inside overlayfs options: {@code ,}, {@code :} and {@code \} escaped with {@code \}. */
    static String escape(Path p) {
        String s = p.toString();
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ',' || c == ':' || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }

    /**
     * A layer that hides {@code hidden} (paths relative to {@code source}) with whiteouts; each of its
     * directories gets the mode and owner of the directory of {@code source} it stands over, as the topmost
     * layer's directory is what the overlay shows.
     */
    private static void makeMask(Path mask, Path source, List<String> hidden) throws IOException {
        copyAttributes(source, mask);
        for (String rel : hidden.stream().sorted(Comparator.naturalOrder()).toList()) {
            List<String> parts = List.of(rel.split("/"));
            Path m = mask;
            Path s = source;
            for (String dir : parts.subList(0, parts.size() - 1)) {
                m = m.resolve(dir);
                s = s.resolve(dir);
                if (!Files.isDirectory(m, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectory(m);
                    copyAttributes(s, m);
                }
            }
            Path w = m.resolve(parts.getLast());
            if (!Files.exists(w, LinkOption.NOFOLLOW_LINKS)) {
                Posix.mknod(w, Posix.S_IFCHR, 0, 0);
            }
        }
    }

    private static void copyAttributes(Path from, Path to) throws IOException {
        Map<String, Object> a = Files.readAttributes(from, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        Posix.chmod(to, (Integer) a.get("mode") & 07777);
        int uid = (Integer) a.get("uid");
        int gid = (Integer) a.get("gid");
        if (!Files.getAttribute(to, "unix:uid", LinkOption.NOFOLLOW_LINKS).equals(uid)
                || !Files.getAttribute(to, "unix:gid", LinkOption.NOFOLLOW_LINKS).equals(gid)) {
            Posix.lchown(to, uid, gid); // as root; a rootless berth makes the mask of its own directories
        }
    }
}
