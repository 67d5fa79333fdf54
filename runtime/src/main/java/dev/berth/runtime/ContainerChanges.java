package dev.berth.runtime;

import dev.berth.layers.Compression;
import dev.berth.layers.DiskTree;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerExtractor;
import dev.berth.layers.LayerWriter;
import dev.berth.runtime.internal.LayeredFs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What a container changed, read from its upper directory as RUN's layers are ({@link DiskTree} of an
 * overlay upper: whiteouts, opaque directories), without the mount points the runtime made there
 * ({@link MountPoints}: {@code /etc/hosts} and the like, kept in the container but never its change).
 * {@code diff}, {@code commit} and {@code export} read it. These functions run as root, or rootless in the
 * user's namespace (where the upper directory's sub-id owners can be read), through the worker.
 */
public final class ContainerChanges {
    private ContainerChanges() {}

    /** The upper directory's entries without the runtime's stubs; {@code image} shows the layers below it. */
    public static List<LayerEntry> entries(Path upper, LayeredFs image, List<String> mountDestinations,
                                           Consumer<String> warnings) throws IOException {
        return MountPoints.ofDestinations(image, mountDestinations)
                .filter(DiskTree.entries(upper, DiskTree.Kind.OVERLAY, Optional.empty(), warnings));
    }

    /**
     * {@code docker diff}: {@code A} added, {@code C} changed (a file written, a directory whose entries
     * changed), {@code D} deleted, by path.
     */
    public static List<String> diff(Path upper, List<Path> lowersTopFirst, List<String> mountDestinations)
            throws IOException {
        LayeredFs image = new LayeredFs(lowersTopFirst);
        List<String> out = new ArrayList<>();
        for (LayerEntry e : entries(upper, image, mountDestinations, w -> { })) {
            String p = e.path().absolute();
            switch (e) {
                case LayerEntry.Whiteout w -> out.add("D " + p);
                case LayerEntry.OpaqueWhiteout o -> { } // its directory's entry says C or A
                default -> out.add((image.lookup(p, false).isPresent() ? "C " : "A ") + p);
            }
        }
        out.sort(Comparator.comparing((String l) -> l.substring(2)));
        return out;
    }

    /** {@code berth commit}'s layer: the changes, written into {@code store} as RUN writes its layers. */
    public static LayerWriter.Result writeLayer(Path upper, List<Path> lowersTopFirst, List<String> mountDestinations,
                                                ImageStore store, Compression compression, Instant time,
                                                Consumer<String> warnings) throws IOException {
        LayerWriter w = LayerWriter.create(time);
        entries(upper, new LayeredFs(lowersTopFirst), mountDestinations, warnings).forEach(w::add);
        return w.write(store, compression, false);
    }

    /**
     * {@code berth export}: the container's file system as one tar, what {@code umoci unpack} of its image
     * gives with the container's changes applied. Unpacked under {@code scratch} (removed after).
     */
    public static void export(Image image, Path upper, List<String> mountDestinations, Path scratch, OutputStream out)
            throws IOException {
        Path dir = Files.createTempDirectory(scratch, "export-");
        try {
            Path root = dir.resolve("rootfs");
            LayerExtractor.unpack(image, root);
            LayerWriter changes = LayerWriter.create();
            entries(upper, new LayeredFs(List.of(root)), mountDestinations, w -> { }).forEach(changes::add);
            Path tar = dir.resolve("changes.tar");
            try (OutputStream o = Files.newOutputStream(tar)) {
                changes.writeTar(o);
            }
            try (InputStream in = Files.newInputStream(tar)) {
                LayerExtractor.extract(in, root, LayerExtractor.Whiteouts.APPLY);
            }
            LayerWriter all = LayerWriter.create();
            DiskTree.entries(root, DiskTree.Kind.PLAIN, Optional.empty(), w -> { }).forEach(all::add);
            all.writeTar(out);
        } finally {
            LayerExtractor.deleteTree(dir);
        }
    }
}
