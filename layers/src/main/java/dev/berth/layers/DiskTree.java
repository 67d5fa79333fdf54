package dev.berth.layers;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The entries of a layer that holds a directory tree as it is on disk: modes, owners and times from disk
 * (unlike {@link LayerWriter#addTree}, which gives a tree the owner it is told), for a tree that a process
 * made, such as the upper directory of a build step's container.
 *
 * <p>With {@link Kind#OVERLAY} the tree is read as overlayfs records changes: a 0:0 character device is a
 * deleted path ({@code .wh.NAME} in the layer) and a directory with {@code trusted.overlay.opaque=y}
 * ({@code user.overlay.opaque=y} for an overlay in a user namespace) replaces the directory below it
 * ({@code .wh..wh..opq}); the overlay's other xattrs are its own business
 * and never reach a layer. Of the remaining extended attributes only {@code security.capability} (file
 * capabilities, as {@code setcap} sets them) is kept, as containerd keeps it, and only when its bytes fit
 * a PAX record as text; otherwise it is left out with a warning. Sockets have no place in a layer.
 *
 * <p>Times are whole seconds; with a clamp, a time later than it becomes the clamp (BuildKit's
 * {@code rewrite-timestamp}): what a step created during a build then has {@code SOURCE_DATE_EPOCH},
 * and the same commands give the same layer.
 */
public final class DiskTree {
    private DiskTree() {}

    /** How the tree records deletions. */
    public enum Kind {
        /** A plain tree: every entry is a file, directory, link or device of the layer. */
        PLAIN,
        /** An overlayfs upper directory: whiteout devices and opaque directories become OCI whiteouts. */
        OVERLAY
    }

    private static final String CAPABILITY = "security.capability";

    /**
     * The entries below {@code root} (not {@code root} itself, which is the layer's root), in no particular
     * order ({@link LayerWriter} sorts them). {@code warnings} receives what could not be kept.
     */
    public static List<LayerEntry> entries(Path root, Kind kind, Optional<Instant> clamp, Consumer<String> warnings)
            throws IOException {
        List<LayerEntry> out = new ArrayList<>();
        walk(root, LayerPath.ROOT, kind, clamp, warnings, out);
        return out;
    }

    private static void walk(Path dir, LayerPath path, Kind kind, Optional<Instant> clamp, Consumer<String> warnings,
                             List<LayerEntry> out) throws IOException {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
            for (Path child : children) {
                LayerPath p = path.resolve(child.getFileName().toString());
                Map<String, Object> a = Files.readAttributes(child, "unix:mode,uid,gid,rdev,lastModifiedTime",
                        LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) a.get("mode");
                long rdev = (Long) a.get("rdev");
                Instant mtime = ((FileTime) a.get("lastModifiedTime")).toInstant();
                mtime = Instant.ofEpochSecond(mtime.getEpochSecond());
                if (clamp.isPresent() && mtime.isAfter(clamp.get())) {
                    mtime = clamp.get();
                }
                LayerEntry.Attributes attrs = new LayerEntry.Attributes(java.util.OptionalInt.of(mode & 07777),
                        (Integer) a.get("uid"), (Integer) a.get("gid"), Optional.of(mtime), Map.of());
                switch (mode & 0170000) {
                    case 0040000 -> {
                        out.add(new LayerEntry.Directory(p, attrs));
                        if (kind == Kind.OVERLAY && isOpaque(child)) {
                            out.add(new LayerEntry.OpaqueWhiteout(p));
                        }
                        walk(child, p, kind, clamp, warnings, out);
                    }
                    case 0100000 -> out.add(new LayerEntry.File(p, child, withCapability(child, p, attrs, warnings)));
                    case 0120000 -> out.add(new LayerEntry.Symlink(p, Files.readSymbolicLink(child).toString(), attrs));
                    case 0010000 -> out.add(new LayerEntry.Special(p, LayerEntry.Special.Kind.FIFO, 0, 0, attrs));
                    case 0020000, 0060000 -> {
                        if (kind == Kind.OVERLAY && rdev == 0 && (mode & 0170000) == 0020000) {
                            out.add(new LayerEntry.Whiteout(p));
                        } else {
                            out.add(new LayerEntry.Special(p, (mode & 0170000) == 0020000
                                    ? LayerEntry.Special.Kind.CHAR_DEVICE : LayerEntry.Special.Kind.BLOCK_DEVICE,
                                    Posix.major(rdev), Posix.minor(rdev), attrs));
                        }
                    }
                    default -> { } // sockets
                }
            }
        }
    }

    /** A layer written from a tree: where it is in the store, and the entries it holds. */
    public record Written(LayerWriter.Result layer, List<LayerEntry> entries) {}

    /**
     * Writes the tree below {@code root} as a layer into {@code store}: {@link #entries} given to a
     * {@link LayerWriter} whose entries without a time get {@code time}.
     */
    public static Written writeLayer(Path root, Kind kind, ImageStore store, Compression compression, Instant time,
                                     Optional<Instant> clamp, Consumer<String> warnings) throws IOException {
        List<LayerEntry> entries = entries(root, kind, clamp, warnings);
        LayerWriter writer = LayerWriter.create(time);
        entries.forEach(writer::add);
        return new Written(writer.write(store, compression, false), entries);
    }

    /** How many regular files a tree holds, and their bytes. */
    public record Usage(long files, long bytes) {
        public Usage plus(Usage other) {
            return new Usage(files + other.files, bytes + other.bytes);
        }
    }

    /**
     * The regular files below {@code dir} (none when it does not exist); what this user may not read (a
     * sub-id's directory, rootless) and what another process removes meanwhile count as nothing.
     */
    public static Usage usage(Path dir) throws IOException {
        long[] counts = new long[2];
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return new Usage(0, 0);
        }
        Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a) {
                if (a.isRegularFile()) {
                    counts[0]++;
                    counts[1] += a.size();
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                if (e instanceof java.nio.file.AccessDeniedException || e instanceof java.nio.file.NoSuchFileException) {
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        return new Usage(counts[0], counts[1]);
    }

    /**
     * Whether overlayfs takes this directory as opaque: {@code trusted.overlay.opaque=y}, or, for an overlay
     * mounted with {@code userxattr}, {@code user.overlay.opaque=y} (a process sees only the one its
     * privileges allow: {@code trusted.*} is invisible outside the initial user namespace's root).
     */
    public static boolean isOpaque(Path dir) throws IOException {
        for (String name : List.of("trusted.overlay.opaque", "user.overlay.opaque")) {
            Optional<byte[]> v;
            try {
                v = Posix.getXattr(dir, name);
            } catch (IOException unsupported) {
                continue; // a file system without that namespace of xattrs
            }
            if (v.isPresent() && v.get().length == 1 && v.get()[0] == 'y') {
                return true;
            }
        }
        return false;
    }

    private static LayerEntry.Attributes withCapability(Path file, LayerPath p, LayerEntry.Attributes attrs,
                                                        Consumer<String> warnings) throws IOException {
        Optional<byte[]> cap;
        try {
            cap = Posix.getXattr(file, CAPABILITY);
        } catch (IOException unsupported) { // a file system without extended attributes has no capabilities
            return attrs;
        }
        if (cap.isEmpty()) {
            return attrs;
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(cap.get()))
                    .toString();
            return new LayerEntry.Attributes(attrs.mode(), attrs.uid(), attrs.gid(), attrs.mtime(),
                    Map.of(CAPABILITY, text));
        } catch (CharacterCodingException e) {
            warnings.accept("/" + p.value() + ": its file capabilities (" + CAPABILITY + ") are not kept: berth "
                    + "writes extended attributes as text, and these bytes are not");
            return attrs;
        }
    }
}
