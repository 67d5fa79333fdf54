package dev.berth.layers;

import dev.berth.layers.internal.ReadAheadInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Applies a tar layer (gzip, zstd or plain, detected from its first bytes) onto a directory.
 *
 * <p>What it guarantees:
 * <ul>
 *   <li>no entry lands outside the target: absolute names, {@code ..} that leaves the target, and writes
 *       through a symlink (a symlink as a parent directory of a later entry, or a hard link through one)
 *       are rejected with an error naming the entry;
 *   <li>whiteouts: with {@link Whiteouts#APPLY}, {@code .wh.name} deletes {@code name} from the lower
 *       content and {@code .wh..wh..opq} empties its directory of lower content (both leave what this
 *       same layer wrote); with {@link Whiteouts#OVERLAY} they become overlayfs whiteouts (a 0:0 character
 *       device, the {@code trusted.overlay.opaque=y} xattr) for a layer directory used as a lowerdir;
 *   <li>modes, ownership (only as root), mtimes, hard links, symlinks, FIFOs and devices (only as root),
 *       and extended attributes where the filesystem and privileges permit;
 *   <li>the whole blob is read, so a verifying stream from the store checks its digest.
 * </ul>
 * A rejected layer can leave a partial result in {@code target}: callers that others read from extract
 * into a fresh directory and rename it into place when done ({@link #unpack} does).
 */
public final class LayerExtractor {

    /** How whiteout entries are materialised. */
    public enum Whiteouts {
        /** Delete the lower content they name, as when flattening an image into one tree. */
        APPLY,
        /** Write overlayfs whiteouts, for a per-layer directory used as an overlay lowerdir. */
        OVERLAY,
        /**
         * As {@link #OVERLAY}, for an overlay mounted in a user namespace ({@code userxattr}): opaque
         * directories carry {@code user.overlay.opaque}, as {@code trusted.*} is root's alone.
         */
        OVERLAY_USERXATTR;

        /** The xattr that marks an opaque directory in this form. */
        public String opaqueXattr() {
            return this == OVERLAY_USERXATTR ? "user.overlay.opaque" : "trusted.overlay.opaque";
        }
    }

    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";

    private final Path target;
    private final Whiteouts mode;
    private final boolean root = BerthHome.isRoot();
    /** Paths this layer wrote, so that its own whiteouts do not hide them. */
    private final Set<String> written = new HashSet<>();
    /**
     * What this extraction knows of the target, to spare a system call or three per entry (a layer of
     * thousands of files is mostly such calls): directories known to be real directories now, directories
     * it created (empty when created: whatever is in them, it put there), and every path it created.
     * Anything removed is forgotten.
     */
    private final Set<String> knownDirs = new HashSet<>();
    private final Set<String> freshDirs = new HashSet<>();
    private final Set<String> created = new HashSet<>();
    private final int umask = RegularFiles.UMASK;
    private final RegularFiles files = new RegularFiles();
    private final List<DirectoryTimes> directories = new ArrayList<>();

    private record DirectoryTimes(Path path, int mode, FileTime mtime, boolean createdWithMode) {}

    private LayerExtractor(Path target, Whiteouts mode) {
        this.target = target;
        this.mode = mode;
    }

    /** Applies one layer blob onto {@code target}, which must exist. */
    public static void extract(InputStream blob, Path target, Whiteouts mode) throws IOException {
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new LayersException("cannot extract a layer into " + target + ": not a directory");
        }
        new LayerExtractor(target.toAbsolutePath().normalize(), mode).run(blob);
    }

    /**
     * Unpacks every layer of an image, base first, into {@code dest} (which must not exist): extracted into
     * a temp directory beside it and renamed when complete, so {@code dest} is whole or absent.
     */
    public static void unpack(Image image, Path dest) throws IOException {
        Path abs = dest.toAbsolutePath().normalize();
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new LayersException("cannot unpack into " + dest + ": it exists");
        }
        Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".");
        try {
            for (Descriptor layer : image.layers()) {
                try (InputStream in = image.blobs().open(layer)) {
                    extract(in, tmp, Whiteouts.APPLY);
                }
            }
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(tmp, abs, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(tmp);
            }
        }
    }

    private void run(InputStream blob) throws IOException {
        knownDirs.add("");
        try (var entries = Files.list(target)) {
            if (entries.findAny().isEmpty()) {
                freshDirs.add("");
            }
        }
        // Decompressing and hashing the blob runs a chunk ahead on another thread while this one
        // creates the files; the blob is read to its very end there, so a verifying source checks it.
        InputStream decompressed;
        try {
            decompressed = Compression.decompress(blob);
        } catch (IOException ex) {
            throw new LayersException("the layer is truncated or corrupt (" + ex.getMessage() + ")", ex);
        }
        try (ReadAheadInputStream data = new ReadAheadInputStream(decompressed, () -> {
            decompressed.transferTo(OutputStream.nullOutputStream());
            blob.transferTo(OutputStream.nullOutputStream());
        }, 1 << 18, 32)) {
            TarArchiveInputStream tar = new LayerTarInput(data, StandardCharsets.UTF_8.name());
            TarArchiveEntry e = null;
            try {
                while ((e = tar.getNextEntry()) != null) {
                    apply(e, tar);
                }
            } catch (IOException ex) {
                throw new LayersException("the layer is truncated or corrupt" + (e == null ? "" : " in entry " + e.getName())
                        + " (" + ex.getMessage() + ")", ex);
            }
            try {
                data.transferTo(OutputStream.nullOutputStream());
            } catch (IOException ex) {
                throw new LayersException("the layer is truncated or corrupt after its last entry (" + ex.getMessage()
                        + ")", ex);
            }
        }
        for (int i = directories.size() - 1; i >= 0; i--) {
            DirectoryTimes d = directories.get(i);
            if (!Files.isDirectory(d.path(), LinkOption.NOFOLLOW_LINKS)) {
                // a later entry replaced it: by a file, or by a symlink that chmod would follow out of target
                continue;
            }
            if (!d.createdWithMode()) {
                Posix.chmod(d.path(), d.mode());
            }
            Posix.setMtime(d.path(), d.mtime().toInstant());
        }
    }

    private void apply(TarArchiveEntry e, InputStream content) throws IOException {
        String raw = e.getName();
        if (raw.startsWith("/")) {
            throw rejected(raw, "absolute path");
        }
        LayerPath path;
        try {
            path = LayerPath.of(raw);
        } catch (LayersException ex) {
            throw rejected(raw, "leaves the target directory");
        }
        if (path.isRoot()) {
            return; // "./": the target itself, which the caller owns
        }
        String name = path.name();
        LayerPath parent = path.parent().orElseThrow();
        if (name.equals(OPAQUE)) {
            Path dir = ensureParents(raw, path);
            opaque(raw, parent, dir);
            return;
        }
        if (name.startsWith(WHITEOUT)) {
            if (name.startsWith(WHITEOUT + WHITEOUT)) {
                return; // aufs metadata (.wh..wh.plnk and the like): not content
            }
            String hidden = name.substring(WHITEOUT.length());
            if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                throw rejected(raw, "invalid whiteout name");
            }
            ensureParents(raw, path);
            whiteout(raw, parent.resolve(hidden));
            return;
        }
        Path dest = ensureParents(raw, path);
        String rel = path.value();
        written.add(rel);
        FileTime mtime = FileTime.from(e.getModTime().toInstant());
        int perm = e.getMode() & 07777;
        boolean absent = isAbsent(rel);
        if (e.isDirectory()) {
            boolean made = false;
            if (!knownDirs.contains(rel)) {
                if (absent || !Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)) {
                    if (!absent) {
                        removeExisting(rel, dest);
                    }
                    Files.createDirectory(dest);
                    made = true;
                    freshDirs.add(rel);
                    created.add(rel);
                }
                knownDirs.add(rel);
            }
            owner(rel, dest, e);
            xattrs(dest, e);
            directories.add(new DirectoryTimes(dest, perm, mtime, made && perm == (0777 & ~umask)));
            return;
        }
        if (!absent) {
            removeExisting(rel, dest);
        }
        created.add(rel);
        if (e.isSymbolicLink()) {
            Files.createSymbolicLink(dest, Path.of(e.getLinkName()));
            owner(rel, dest, e);
            Posix.setMtime(dest, mtime.toInstant());
            return;
        }
        if (e.isLink()) {
            LayerPath linkTarget;
            try {
                linkTarget = LayerPath.of(e.getLinkName());
            } catch (LayersException ex) {
                throw rejected(raw, "hard link to \"" + e.getLinkName() + "\" leaves the target directory");
            }
            if (e.getLinkName().startsWith("/")) {
                throw rejected(raw, "hard link to an absolute path \"" + e.getLinkName() + "\"");
            }
            Path existing = resolveExisting(raw, linkTarget);
            if (!Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
                throw rejected(raw, "hard link to \"" + e.getLinkName() + "\", which does not exist");
            }
            if (Files.isDirectory(existing, LinkOption.NOFOLLOW_LINKS)) {
                throw rejected(raw, "hard link to a directory");
            }
            Files.createLink(dest, existing);
            return;
        }
        boolean modeSet = false;
        if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
            int type = e.isFIFO() ? Posix.S_IFIFO : e.isCharacterDevice() ? Posix.S_IFCHR : Posix.S_IFBLK;
            if (!root && type != Posix.S_IFIFO) {
                created.remove(rel);
                return; // only root may create device nodes; an unprivileged unpack leaves them out, as umoci does
            }
            Posix.mknod(dest, type | perm, e.getDevMajor(), e.getDevMinor());
        } else if (e.isFile()) {
            // Created with its mode: when the umask leaves it whole, no chmod is needed afterwards.
            long n = files.create(dest, perm, content);
            if (n != e.getSize()) {
                throw rejected(raw, "truncated: " + n + " of " + e.getSize() + " bytes");
            }
            modeSet = (perm & 07000) == 0 && (perm & umask) == 0;
        } else {
            created.remove(rel);
            throw rejected(raw, "unsupported entry type '" + (char) e.getLinkFlag() + "'");
        }
        boolean chowned = owner(rel, dest, e);
        if (!modeSet || chowned) {
            Posix.chmod(dest, perm); // after chown, which clears setuid and setgid
        }
        xattrs(dest, e);
        Posix.setMtime(dest, mtime.toInstant());
    }

    /** Whether nothing is at {@code rel}, known without asking: its parent was created empty by us and we put nothing there. */
    private boolean isAbsent(String rel) {
        int slash = rel.lastIndexOf('/');
        String parent = slash < 0 ? "" : rel.substring(0, slash);
        return freshDirs.contains(parent) && !created.contains(rel);
    }

    /**
     * Creates the missing parents of {@code path} (0755, as extractors do) and returns where it goes. A
     * symlink or a non-directory among the parents is an error: nothing is ever written through a link.
     */
    private Path ensureParents(String raw, LayerPath path) throws IOException {
        String value = path.value();
        int end = value.lastIndexOf('/');
        if (end < 0) {
            return target.resolve(value);
        }
        String parent = value.substring(0, end);
        if (!knownDirs.contains(parent)) {
            int from = 0;
            while (from <= end) {
                int slash = value.indexOf('/', from);
                String prefix = value.substring(0, slash);
                from = slash + 1;
                if (knownDirs.contains(prefix)) {
                    continue;
                }
                Path p = target.resolve(prefix);
                if (isAbsent(prefix)) {
                    Files.createDirectory(p);
                    freshDirs.add(prefix);
                    created.add(prefix);
                } else {
                    BasicFileAttributes a;
                    try {
                        a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    } catch (NoSuchFileException missing) {
                        a = null;
                    }
                    if (a == null) {
                        Files.createDirectory(p);
                        freshDirs.add(prefix);
                        created.add(prefix);
                    } else if (a.isSymbolicLink()) {
                        throw rejected(raw, "would be written through the symlink \"" + prefix + "\"");
                    } else if (!a.isDirectory()) {
                        throw rejected(raw, "\"" + prefix + "\" is not a directory");
                    }
                }
                knownDirs.add(prefix);
            }
        }
        return target.resolve(value);
    }

    /** The path of an existing entry, refusing symlinks among its parents. */
    private Path resolveExisting(String raw, LayerPath path) {
        Path p = target;
        String[] parts = path.value().split("/");
        for (int i = 0; i < parts.length; i++) {
            p = p.resolve(parts[i]);
            if (i < parts.length - 1 && Files.isSymbolicLink(p)) {
                throw rejected(raw, "links through the symlink \"" + target.relativize(p) + "\"");
            }
        }
        return p;
    }

    private void whiteout(String raw, LayerPath hidden) throws IOException {
        String rel = hidden.value();
        Path p = target.resolve(rel);
        switch (mode) {
            case APPLY -> {
                if (!written.contains(rel)) {
                    removeExisting(rel, p);
                }
            }
            case OVERLAY, OVERLAY_USERXATTR -> {
                if (!isAbsent(rel)) {
                    removeExisting(rel, p);
                }
                Posix.mknod(p, Posix.S_IFCHR, 0, 0);
                created.add(rel);
            }
        }
    }

    private void opaque(String raw, LayerPath dirPath, Path dir) throws IOException {
        Path d = dir.getParent();
        switch (mode) {
            case APPLY -> {
                if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                    removeLower(dirPath, d);
                }
            }
            case OVERLAY, OVERLAY_USERXATTR -> {
                if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(d);
                }
                Posix.setXattr(d, mode.opaqueXattr(), "y".getBytes(StandardCharsets.US_ASCII));
            }
        }
    }

    /** Deletes what lower layers put in {@code dir}, keeping what this layer wrote. */
    private void removeLower(LayerPath dirPath, Path dir) throws IOException {
        try (var children = Files.list(dir)) {
            for (Path child : children.toList()) {
                LayerPath cp = dirPath.resolve(child.getFileName().toString());
                if (!written.contains(cp.value())) {
                    removeExisting(cp.value(), child);
                } else if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                    removeLower(cp, child);
                }
            }
        }
    }

    /**
     * Sets the owner (as root only) and returns whether it called chown. An entry owned by 0:0 that this
     * extraction created in a directory it created is skipped: root created it, and the new directory has
     * no setgid bit yet (directory modes are applied last).
     */
    private boolean owner(String rel, Path p, TarArchiveEntry e) throws IOException {
        if (!root) {
            return false;
        }
        long uid = e.getLongUserId();
        long gid = e.getLongGroupId();
        int slash = rel.lastIndexOf('/');
        if (uid == 0 && gid == 0 && freshDirs.contains(slash < 0 ? "" : rel.substring(0, slash))) {
            return false;
        }
        try {
            Posix.lchown(p, (int) uid, (int) gid);
        } catch (Posix.Failure f) {
            if (f.errno() != Posix.EINVAL) {
                throw f;
            }
            // A user namespace that maps no such id (a rootless berth without sub-ids): the file stays root's,
            // as podman's storage does with ignore_chown_errors.
            return false;
        }
        return true;
    }

    private void xattrs(Path p, TarArchiveEntry e) {
        for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
            if (!h.getKey().startsWith("SCHILY.xattr.")) {
                continue;
            }
            String name = h.getKey().substring("SCHILY.xattr.".length());
            if (name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")) {
                continue; // overlayfs's own metadata must never come from an image
            }
            try {
                Posix.setXattr(p, name, h.getValue().getBytes(StandardCharsets.UTF_8));
            } catch (IOException notPermitted) {
                // "where permitted": the filesystem or our privileges may not allow this namespace
            }
        }
    }

    /** Removes whatever is at {@code rel} and forgets what this extraction knew of it and below it. */
    private void removeExisting(String rel, Path p) throws IOException {
        String below = rel + "/";
        knownDirs.removeIf(k -> k.equals(rel) || k.startsWith(below));
        freshDirs.removeIf(k -> k.equals(rel) || k.startsWith(below));
        created.removeIf(k -> k.equals(rel) || k.startsWith(below));
        removePath(p);
    }

    private static void removePath(Path p) throws IOException {
        FileTrees.remove(p);
    }

    /** Deletes a tree without following symlinks ({@link FileTrees#delete}). */
    public static void deleteTree(Path root) throws IOException {
        FileTrees.delete(root);
    }

    private static LayersException rejected(String entry, String why) {
        return new LayersException("layer entry \"" + entry + "\": " + why);
    }
}
