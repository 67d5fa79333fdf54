package dev.berth.layers;

import dev.berth.layers.internal.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code berth verify}: every blob every image of the store references, re-hashed from disk; and
 * {@code --repair}: an {@code index.json} that cannot be read rebuilt from the blobs the store holds.
 */
public final class StoreVerify {
    private StoreVerify() {}

    /** What is wrong with an image: a blob missing, of another size or another digest, or unreadable. */
    public record Problem(String image, String blob, String what) {
        @Override
        public String toString() {
            return image + ": " + blob + ": " + what;
        }
    }

    /**
     * Checks every image of the index (its manifest or index, config and layers) and reports each image as
     * it is done to {@code done} ("ok NAME" or its problems); returns the problems.
     */
    public static List<Problem> verify(ImageStore store, Consumer<String> done) {
        List<Problem> problems = new ArrayList<>();
        for (Descriptor entry : store.entries()) {
            String image = entry.annotation(Descriptor.CONTAINERD_NAME).or(() -> entry.annotation(Descriptor.REF_NAME))
                    .orElse(entry.digest().toString());
            List<Problem> mine = new ArrayList<>();
            List<Descriptor> blobs;
            try {
                blobs = store.reachable(List.of(entry.withAnnotations(java.util.Map.of())));
            } catch (LayersException e) {
                mine.add(new Problem(image, entry.digest().toString(), e.getMessage()));
                blobs = List.of();
            }
            for (Descriptor d : blobs) {
                check(store, d).ifPresent(w -> mine.add(new Problem(image, d.digest().toString(), w)));
            }
            problems.addAll(mine);
            if (mine.isEmpty()) {
                done.accept("ok " + image + " (" + blobs.size() + " blobs)");
            } else {
                mine.forEach(p -> done.accept("FAILED " + p));
            }
        }
        return problems;
    }

    /** What is wrong with a blob on disk, if anything. */
    private static java.util.Optional<String> check(ImageStore store, Descriptor d) {
        Path file = store.blobPath(d.digest());
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            long size = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
                size += n;
            }
            String hex = HexFormat.of().formatHex(sha.digest());
            if (!hex.equals(d.digest().hex())) {
                return java.util.Optional.of("its content has digest sha256:" + hex);
            }
            if (d.size() >= 0 && size != d.size()) {
                return java.util.Optional.of("it has " + size + " bytes, its descriptor says " + d.size());
            }
            return java.util.Optional.empty();
        } catch (NoSuchFileException e) {
            return java.util.Optional.of("missing");
        } catch (IOException e) {
            return java.util.Optional.of("unreadable: " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What {@link #repair} did: the images it listed again, where it kept the old index, what it could not recover. */
    public record Repair(int images, Path oldIndex, List<String> lost) {}

    /**
     * Rebuilds the layout's {@code index.json} from its blobs: every image manifest and index that no other
     * index lists becomes an entry again, unnamed (the names were in the index: tag them again). The old file
     * is kept beside it. The store must not be in use meanwhile.
     */
    public static Repair repair(Path root) throws IOException {
        Path blobs = root.resolve("blobs").resolve("sha256");
        List<Descriptor> roots = new ArrayList<>();
        Set<String> children = new HashSet<>();
        List<String> lost = new ArrayList<>();
        try (Stream<Path> files = Files.exists(blobs) ? Files.list(blobs) : Stream.empty()) {
            for (Path f : files.sorted().toList()) {
                long size = Files.size(f);
                if (size > 4 << 20 || size < 2) {
                    continue; // a layer, or not a document
                }
                byte[] bytes = Files.readAllBytes(f);
                if (bytes[0] != '{') {
                    continue;
                }
                Digest digest = Digest.sha256(bytes);
                if (!digest.hex().equals(f.getFileName().toString())) {
                    lost.add("sha256:" + f.getFileName() + ": its content does not match its name (left out)");
                    continue;
                }
                com.fasterxml.jackson.databind.JsonNode doc;
                try {
                    doc = Json.mapper().readTree(bytes);
                } catch (IOException notJson) {
                    continue;
                }
                String type = doc.path("mediaType").asText("");
                if (doc.has("manifests")) {
                    MediaType t = type.isEmpty() ? MediaType.OCI_INDEX : new MediaType(type);
                    roots.add(Descriptor.of(t, digest, size));
                    doc.get("manifests").forEach(m -> children.add(m.path("digest").asText()));
                } else if (doc.has("config") && doc.has("layers") && doc.path("config").path("mediaType").asText("")
                        .contains("config")) {
                    MediaType t = type.isEmpty() ? MediaType.OCI_MANIFEST : new MediaType(type);
                    roots.add(Descriptor.of(t, digest, size));
                }
            }
        }
        List<Descriptor> entries = roots.stream().filter(d -> !children.contains(d.digest().toString())).toList();
        Path index = root.resolve("index.json");
        Path old = root.resolve("index.json.broken-" + Instant.now().getEpochSecond());
        if (Files.exists(index)) {
            Files.move(index, old);
        }
        AtomicFiles.write(index, Json.write(ImageIndex.of(MediaType.OCI_INDEX, entries)));
        if (!entries.isEmpty()) {
            lost.add("the names of the " + entries.size() + " images (they were in index.json): they are listed as"
                    + " <none>; name them again with berth tag");
        }
        return new Repair(entries.size(), old, lost);
    }
}
