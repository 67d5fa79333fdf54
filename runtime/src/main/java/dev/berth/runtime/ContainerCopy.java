package dev.berth.runtime;

import dev.berth.layers.BerthHome;
import dev.berth.runtime.internal.CopyRoot;
import dev.berth.runtime.internal.CopyTree;
import dev.berth.runtime.internal.HelperBinary;
import dev.berth.runtime.internal.InRoot;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * {@code berth cp}: files between a container, running or not, and the host, by docker's rules (see
 * {@link CopyTree#place}). The container's side is resolved in its root by the kernel ({@link InRoot}):
 * a running container's is its PID 1's, frozen meanwhile when it has a cgroup (as docker pauses it); a
 * stopped one's is its overlay, mounted by a helper for the copy while berth holds the container's lock.
 * Rootless, that side runs in a worker in the container's user namespace (or, stopped, the user's), where
 * the sub-ids that own its files are root and users. The two sides meet in a tar file under the home's
 * {@code tmp/}.
 */
public final class ContainerCopy {
    private final BerthHome home;
    private final ContainerStore containers;
    private final ImageResolver images;

    ContainerCopy(BerthHome home, ContainerStore containers, ImageResolver images) {
        this.home = home;
        this.containers = containers;
        this.images = images;
    }

    /** The container side's work, in this process or (as arguments) in a worker. */
    private interface Side {
        void run(InRoot.Fd root) throws IOException;
    }

    /**
     * Copies {@code src} of container {@code n} to {@code dest} on the host, or as a tar to {@code out}
     * when dest is {@code -}. {@code follow}: a symlink at src is followed (-L); {@code archive}: the files
     * keep their owners (-a; only root can give them), else they are the user's.
     */
    public void fromContainer(String n, String src, String dest, boolean follow, boolean archive, OutputStream out) {
        String what = "cp " + n + ":" + src;
        Path tar = tempTar(what);
        try {
            onContainer(n, what, "cp-out", List.of(src, Boolean.toString(follow), tar.toString()), root -> {
                try (OutputStream o = Files.newOutputStream(tar)) {
                    CopyTree.copyOut(root, src, follow, o);
                }
            });
            if (dest.equals("-")) {
                try (InputStream in = Files.newInputStream(tar)) {
                    in.transferTo(out);
                }
                out.flush();
                return;
            }
            TarArchiveEntry first;
            try (TarArchiveInputStream t = new TarArchiveInputStream(Files.newInputStream(tar))) {
                first = t.getNextEntry();
            }
            CopyTree.Kind kind = first.isDirectory() ? CopyTree.Kind.DIRECTORY : CopyTree.Kind.OTHER;
            String base = first.getName().replaceAll("/+$", "");
            CopyTree.Owners owners = archive && BerthHome.isRoot() ? CopyTree.Owners.KEEP : CopyTree.Owners.NONE;
            try (InRoot.Fd host = InRoot.openRoot(Path.of("/")); InputStream in = Files.newInputStream(tar)) {
                CopyTree.copyIn(host, hostPath(dest), Optional.of(kind), src.endsWith("/."), base, in, owners);
            }
        } catch (IOException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        } finally {
            delete(tar);
        }
    }

    /**
     * Copies {@code src} of the host ({@code -}: a tar on {@code in}, written into dest as it is) to
     * {@code dest} in container {@code n}. The files are root's in the container, or with {@code archive}
     * keep the host's owners; {@code follow}: a symlink at src is followed.
     */
    public void toContainer(String src, InputStream in, String n, String dest, boolean follow, boolean archive) {
        String what = "cp " + src + " " + n + ":" + dest;
        Path tar = tempTar(what);
        try {
            Optional<CopyTree.Kind> kind;
            if (src.equals("-")) {
                try (OutputStream o = Files.newOutputStream(tar)) {
                    in.transferTo(o);
                }
                kind = Optional.empty();
            } else {
                String path = hostPath(src);
                try (InRoot.Fd host = InRoot.openRoot(Path.of("/")); OutputStream o = Files.newOutputStream(tar)) {
                    boolean f = follow || src.endsWith("/") || src.endsWith("/.");
                    kind = Optional.of(CopyTree.kind(host, path, f));
                    if (kind.get() == CopyTree.Kind.MISSING) {
                        throw new ContainerException(what + ": " + src + ": no such file or directory");
                    }
                    CopyTree.copyOut(host, path, follow, o);
                }
            }
            String base = baseName(src);
            boolean contents = src.endsWith("/.");
            CopyTree.Owners owners = archive ? CopyTree.Owners.KEEP : CopyTree.Owners.ROOT;
            onContainer(n, what, "cp-in", List.of(dest, kind.map(Enum::name).orElse("-"), Boolean.toString(contents),
                    base, owners.name(), tar.toString()), root -> {
                try (InputStream t = Files.newInputStream(tar)) {
                    CopyTree.copyIn(root, dest, kind, contents, base, t, owners);
                }
            });
        } catch (IOException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        } finally {
            delete(tar);
        }
    }

    /** Runs the container side in the container's root. */
    private void onContainer(String n, String what, String task, List<String> args, Side side) throws IOException {
        Path dir = containers.find(n).orElseThrow(() -> new ContainerException("no such container: " + n));
        ContainerState s = containers.read(dir).orElseThrow(() -> new ContainerException(1, "container " + n
                + " is still starting"));
        boolean rootless = !BerthHome.isRoot();
        if (ContainerStore.isRunning(dir)) {
            long pid = s.pid().orElseThrow(() -> new ContainerException(1, "container " + n + " is still starting"));
            ContainerCgroup cg = s.cgroup();
            boolean freeze = !cg.version().equals("none") && !cg.frozen();
            if (freeze) {
                cg.freeze(true, "container " + s.name());
            }
            try {
                CopyRoot root = new CopyRoot.Proc(pid);
                if (rootless) {
                    UsernsTasks.forCurrentUser(home).javaJoined(pid, what, task, arguments(root, args));
                } else {
                    try (CopyRoot.Opened r = root.open("container " + s.name())) {
                        side.run(r.fd());
                    }
                }
            } finally {
                if (freeze) {
                    cg.freeze(false, "container " + s.name());
                }
            }
            return;
        }
        ContainerRestart r = ContainerRestart.prepare(containers, images, n, Optional.empty(), false, true);
        Optional<Rootless.Namespace> ns = Rootless.namespace(home, r.options(), what);
        SnapshotStore snaps = ns.flatMap(Rootless.Namespace::keepId).isPresent()
                ? SnapshotStore.forMaps(home, ns.get().tasks(), "keep-id") : SnapshotStore.of(home);
        List<Path> lowers = snaps.prepare(ContainerRestart.image(images, s, what));
        try (ContainerStore.Slot slot = containers.holdStopped(dir, s.id(), s.name())) {
            CopyRoot root = new CopyRoot.Hold(HelperBinary.ensure(home.root().resolve("lib")), slot.path.resolve("rootfs"),
                    slot.path.resolve("upper"), slot.path.resolve("work"),
                    r.options().overlayMode().name().toLowerCase(Locale.ROOT).replace("_", ""), ns.isPresent(), lowers);
            if (ns.isPresent()) {
                ns.get().tasks().java(what, task, arguments(root, args));
            } else {
                try (CopyRoot.Opened o = root.open("container " + s.name())) {
                    side.run(o.fd());
                }
            }
        }
    }

    private static List<String> arguments(CopyRoot root, List<String> args) {
        List<String> all = new ArrayList<>(root.arguments());
        all.addAll(args);
        return all;
    }

    /** A host path as typed, absolute (relative to the working directory), its trailing slash kept. */
    private static String hostPath(String p) {
        return p.startsWith("/") ? p : System.getProperty("user.dir") + "/" + p;
    }

    private static String baseName(String p) {
        String[] parts = p.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            if (!parts[i].isEmpty() && !parts[i].equals(".")) {
                return parts[i];
            }
        }
        return ".";
    }

    private Path tempTar(String what) {
        try {
            Files.createDirectories(home.tmp());
            return dev.berth.layers.TempDirs.createFile(home.tmp(), "cp-", ".tar");
        } catch (IOException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        }
    }

    private static void delete(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // tmp/ is emptied by prune
        }
    }
}
