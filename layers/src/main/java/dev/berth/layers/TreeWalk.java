package dev.berth.layers;

import dev.berth.layers.LayerEntry.Attributes;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A directory tree on disk as {@link LayerWriter#addTree} adds it: {@code source} becomes
 * {@code destination}, modes come from disk and owners from {@code attributes}. Walking it lists each
 * entry in tar order, so a writer can write the entries as they are found.
 */
record TreeWalk(Path source, LayerPath destination, Attributes attributes) {

    /** Where a walk puts the entries it finds, with their tar names. */
    interface Sink {
        void accept(String name, LayerEntry entry) throws IOException;
    }

    /**
     * Walks the tree: its destination (unless the layer root), then each directory's entries sorted by tar
     * name, a directory's own entries right after it. That is the order of all the names sorted: every name
     * below {@code d/} sorts where {@code d/} does among its siblings. One {@code lstat} per entry and one
     * read per directory.
     */
    void walk(Sink sink) throws IOException {
        if (!destination.isRoot()) {
            LayerEntry self = fromDisk(source, destination, attributes);
            sink.accept(LayerWriter.checkedName(self), self);
        }
        walk(source, destination, sink);
    }

    private record Found(String name, LayerEntry entry, Path file) {}

    private void walk(Path dir, LayerPath path, Sink sink) throws IOException {
        List<Found> found = new ArrayList<>();
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
            for (Path child : children) {
                LayerEntry e = fromDisk(child, path.resolve(child.getFileName().toString()), attributes);
                if (e != null) {
                    found.add(new Found(LayerWriter.checkedName(e), e, child));
                }
            }
        }
        found.sort((x, y) -> x.name().compareTo(y.name()));
        for (Found f : found) {
            sink.accept(f.name(), f.entry());
            if (f.entry() instanceof LayerEntry.Directory) {
                walk(f.file(), f.entry().path(), sink);
            }
        }
    }

    /** The entry for a file-system object, from one {@code lstat}; null for a socket. */
    static LayerEntry fromDisk(Path file, LayerPath path, Attributes attributes) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        Attributes withMode = attributes.mode().isPresent() ? attributes : attributes.withMode(mode & 07777);
        return switch (mode & 0170000) {
            case 0040000 -> new LayerEntry.Directory(path, withMode);
            case 0100000 -> new LayerEntry.File(path, file, withMode);
            case 0120000 -> new LayerEntry.Symlink(path, Files.readSymbolicLink(file).toString(), withMode);
            case 0010000 -> new LayerEntry.Special(path, LayerEntry.Special.Kind.FIFO, 0, 0, withMode);
            case 0020000, 0060000 -> {
                long rdev = (Long) a.get("rdev");
                yield new LayerEntry.Special(path, (mode & 0170000) == 0020000 ? LayerEntry.Special.Kind.CHAR_DEVICE
                        : LayerEntry.Special.Kind.BLOCK_DEVICE, Posix.major(rdev), Posix.minor(rdev), withMode);
            }
            default -> null; // sockets (and anything unknown) have no place in an image
        };
    }
}
