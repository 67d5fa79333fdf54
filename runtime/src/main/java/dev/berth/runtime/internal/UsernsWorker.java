package dev.berth.runtime.internal;

import dev.berth.layers.BerthException;
import dev.berth.layers.BerthHome;
import dev.berth.layers.Compression;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.DiskTree;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerWriter;
import dev.berth.layers.MediaType;
import dev.berth.runtime.ContainerChanges;
import dev.berth.runtime.ContainerImage;
import dev.berth.runtime.SnapshotStore;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a rootless berth runs as root of its user namespace (see {@code UsernsTasks}), as a JVM of its own:
 * <ul>
 *   <li>{@code extract HOME DIR (MEDIATYPE DIGEST SIZE DIFFID)...}: the snapshots, in DIR, of those layers of
 *       HOME's store;
 *   <li>{@code layer HOME DIR COMPRESSION TIME CLAMP|-}: a layer from the overlay upper directory DIR into
 *       HOME's store, printed as {@code MEDIATYPE DIGEST SIZE DIFFID}, then one line per warning;
 *   <li>{@code diff UPPER N LOWER... DEST...}, {@code commit HOME UPPER COMPRESSION TIME N LOWER... DEST...}
 *       (printed as {@code layer}'s), {@code export HOME IMAGE UPPER SCRATCH OUT DEST...}: a container's
 *       changes (see {@code ContainerChanges}), its N lower directories top first, its mount destinations;
 *   <li>{@code cp-out ROOT... SRC FOLLOW TAR}, {@code cp-in ROOT... DEST KIND|- CONTENTS BASE OWNERS TAR}: the
 *       two halves of berth cp in a container's root ({@link CopyRoot}), from or to the tar file TAR.
 * </ul>
 * Errors are one line on stderr and exit status 1.
 */
public final class UsernsWorker {
    private UsernsWorker() {}

    public static void main(String[] args) {
        try {
            switch (args[0]) {
                case "extract" -> extract(args);
                case "layer" -> layer(args);
                case "diff" -> diff(args);
                case "commit" -> commit(args);
                case "export" -> export(args);
                case "cp-out" -> copyOut(args);
                case "cp-in" -> copyIn(args);
                default -> throw new IllegalArgumentException("unknown task " + args[0]);
            }
        } catch (BerthException | IllegalArgumentException | java.io.IOException e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }

    private static void copyOut(String[] args) throws java.io.IOException {
        int[] next = {0};
        CopyRoot root = CopyRoot.parse(args, 1, next);
        int i = next[0];
        try (CopyRoot.Opened r = root.open("the container");
             java.io.OutputStream out = java.nio.file.Files.newOutputStream(Path.of(args[i + 2]))) {
            CopyTree.copyOut(r.fd(), args[i], Boolean.parseBoolean(args[i + 1]), out);
        }
    }

    private static void copyIn(String[] args) throws java.io.IOException {
        int[] next = {0};
        CopyRoot root = CopyRoot.parse(args, 1, next);
        int i = next[0];
        Optional<CopyTree.Kind> kind = args[i + 1].equals("-") ? Optional.empty()
                : Optional.of(CopyTree.Kind.valueOf(args[i + 1]));
        try (CopyRoot.Opened r = root.open("the container");
             java.io.InputStream in = java.nio.file.Files.newInputStream(Path.of(args[i + 5]))) {
            CopyTree.copyIn(r.fd(), args[i], kind, Boolean.parseBoolean(args[i + 2]), args[i + 3], in,
                    CopyTree.Owners.valueOf(args[i + 4]));
        }
    }

    private static void extract(String[] args) {
        BerthHome home = new BerthHome(Path.of(args[1]));
        List<ContainerImage.Layer> layers = new ArrayList<>();
        Path dir = Path.of(args[2]);
        for (int i = 3; i + 3 < args.length; i += 4) {
            layers.add(new ContainerImage.Layer(Descriptor.of(MediaType.of(args[i]), Digest.parse(args[i + 1]),
                    Long.parseLong(args[i + 2])), Digest.parse(args[i + 3])));
        }
        try (ImageStore store = home.openStore()) {
            SnapshotStore.inUserNamespace(home, dir).prepare(layers, store.blobs("layer"));
        }
    }

    private static void layer(String[] args) throws java.io.IOException {
        BerthHome home = new BerthHome(Path.of(args[1]));
        Path upper = Path.of(args[2]);
        Compression compression = Compression.parse(args[3]);
        Instant time = Instant.ofEpochSecond(Long.parseLong(args[4]));
        Optional<Instant> clamp = args[5].equals("-") ? Optional.empty()
                : Optional.of(Instant.ofEpochSecond(Long.parseLong(args[5])));
        List<String> warnings = new ArrayList<>();
        try (ImageStore store = home.openStore()) {
            LayerWriter.Result r = DiskTree.writeLayer(upper, DiskTree.Kind.OVERLAY, store, compression, time, clamp,
                    warnings::add).layer();
            System.out.println(r.blob().mediaType().value() + " " + r.blob().digest() + " " + r.blob().size() + " "
                    + r.diffId());
        }
        warnings.forEach(System.out::println);
    }

    private static List<Path> lowers(String[] args, int at) {
        int n = Integer.parseInt(args[at]);
        return java.util.Arrays.stream(args, at + 1, at + 1 + n).map(Path::of).toList();
    }

    private static List<String> rest(String[] args, int from) {
        return java.util.Arrays.asList(args).subList(Math.min(from, args.length), args.length);
    }

    private static void diff(String[] args) throws java.io.IOException {
        List<Path> lowers = lowers(args, 2);
        ContainerChanges.diff(Path.of(args[1]), lowers, rest(args, 3 + lowers.size())).forEach(System.out::println);
    }

    private static void commit(String[] args) throws java.io.IOException {
        BerthHome home = new BerthHome(Path.of(args[1]));
        List<Path> lowers = lowers(args, 5);
        List<String> warnings = new ArrayList<>();
        try (ImageStore store = home.openStore()) {
            LayerWriter.Result r = ContainerChanges.writeLayer(Path.of(args[2]), lowers, rest(args, 6 + lowers.size()),
                    store, Compression.parse(args[3]), Instant.ofEpochSecond(Long.parseLong(args[4])), warnings::add);
            System.out.println(r.blob().mediaType().value() + " " + r.blob().digest() + " " + r.blob().size() + " "
                    + r.diffId());
        }
        warnings.forEach(System.out::println);
    }

    private static void export(String[] args) throws java.io.IOException {
        BerthHome home = new BerthHome(Path.of(args[1]));
        try (ImageStore store = home.openStore();
             java.io.OutputStream out = java.nio.file.Files.newOutputStream(Path.of(args[5]))) {
            dev.berth.layers.Image image = store.image(dev.berth.layers.Reference.parse(args[2]),
                    dev.berth.layers.Platform.host());
            ContainerChanges.export(image, Path.of(args[3]), rest(args, 6), Path.of(args[4]), out);
        }
    }
}
