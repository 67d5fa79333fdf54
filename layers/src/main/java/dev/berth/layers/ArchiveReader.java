package dev.berth.layers;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.berth.layers.internal.VerifyingInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;

/**
 * The reading half of {@link ImageArchive}: an archive (OCI or docker-archive, plain or compressed) loaded
 * into a store, every blob and every layer's entries checked before anything is named.
 */
final class ArchiveReader {
    private ArchiveReader() {}

    /**
     * Loads every image of an archive into the store and names them as the archive does (an OCI entry's
     * {@code io.containerd.image.name} or full {@code ref.name}, a docker-archive's {@code RepoTags}); an
     * image without a name is added unnamed. Every blob is verified; nothing is named until all of an
     * image's blobs are in the store.
     */
    static List<ImageArchive.Loaded> load(Path file, ImageStore store) throws IOException {
        String what = file.getFileName().toString();
        if (Files.isDirectory(file)) {
            return load(new Archive(file, what), store);
        }
        if (!Files.isRegularFile(file)) {
            throw new LayersException(what + ": no such file");
        }
        if (Files.size(file) == 0) {
            throw new LayersException(what + ": empty file, not an image archive");
        }
        Path plain = file;
        Path temp = null;
        try (BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            if (Compression.detect(in) != Compression.Kind.NONE) {
                temp = TempDirs.createFile(store.tempDirectory(), "archive-", ".tar");
                try (InputStream d = Compression.decompress(in)) {
                    Files.copy(d, temp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } catch (java.util.zip.ZipException | java.io.EOFException | com.github.luben.zstd.ZstdIOException e) {
                    throw new LayersException(what + ": not a valid compressed archive: " + e.getMessage(), e);
                }
                plain = temp;
            }
        }
        try (TarFile tar = open(plain, what)) {
            return load(new Archive(tar, what), store);
        } finally {
            if (temp != null) {
                Files.deleteIfExists(temp);
            }
        }
    }

    private static List<ImageArchive.Loaded> load(Archive archive, ImageStore store) throws IOException {
        if (archive.has("oci-layout") && archive.has("index.json")) {
            return archive.loadOci(store);
        }
        if (archive.has("manifest.json")) {
            return archive.loadDocker(store);
        }
        throw new LayersException(archive.what + ": not an image " + (archive.dir == null ? "archive" : "layout")
                + " (it has neither index.json nor manifest.json)");
    }

    private static TarFile open(Path file, String what) {
        try {
            return new TarFile(file);
        } catch (IOException | RuntimeException e) {
            throw new LayersException(what + ": not a valid tar archive: " + e.getMessage(), e);
        }
    }

    /**
     * Random access to the entries of a tar archive by normalised name, following links inside it; or to
     * the files of a directory (an OCI image layout, or an unpacked docker-archive, as podman's and
     * skopeo's {@code oci:} and {@code dir}-like outputs), where no name may pass through a symlink.
     */
    private static final class Archive {
        private final TarFile tar;
        private final Path dir;
        private final String what;
        private final Map<String, TarArchiveEntry> entries = new HashMap<>();

        Archive(TarFile tar, String what) {
            this.tar = tar;
            this.dir = null;
            this.what = what;
            for (TarArchiveEntry e : tar.getEntries()) {
                entries.put(normalise(e.getName()), e);
            }
        }

        Archive(Path dir, String what) {
            this.tar = null;
            this.dir = dir;
            this.what = what;
        }

        /** The file of a directory behind a name: inside it, reached through no symlink, or empty. */
        private Optional<Path> inDirectory(String name) {
            Optional<LayerPath> p = LayerPath.within(name);
            if (p.isEmpty() || p.get().value().isEmpty()) {
                return Optional.empty();
            }
            Path current = dir;
            for (String part : p.get().value().split("/")) {
                current = current.resolve(part);
                if (Files.isSymbolicLink(current)) {
                    throw new LayersException(what + ": \"" + name + "\" is reached through a symlink");
                }
            }
            return Files.isRegularFile(current, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    ? Optional.of(current) : Optional.empty();
        }

        private static String normalise(String name) {
            try {
                return LayerPath.of(name).value();
            } catch (LayersException e) {
                return name;
            }
        }

        boolean has(String name) {
            return dir == null ? entries.containsKey(name) : inDirectory(name).isPresent();
        }

        /** The regular file behind a name, following symlinks and hard links within the archive. */
        TarArchiveEntry file(String name) {
            String current = normalise(name);
            for (int hops = 0; hops < 16; hops++) {
                TarArchiveEntry e = entries.get(current);
                if (e == null) {
                    throw new LayersException(what + ": \"" + name + "\" is missing from the archive");
                }
                if (e.isSymbolicLink()) {
                    String base = current.contains("/") ? current.substring(0, current.lastIndexOf('/') + 1) : "";
                    current = normalise(e.getLinkName().startsWith("/") ? e.getLinkName() : base + e.getLinkName());
                } else if (e.isLink()) {
                    current = normalise(e.getLinkName());
                } else if (e.isFile()) {
                    return e;
                } else {
                    throw new LayersException(what + ": \"" + name + "\" is not a file");
                }
            }
            throw new LayersException(what + ": \"" + name + "\": too many links");
        }

        private Path fileInDirectory(String name) {
            return inDirectory(name).orElseThrow(() ->
                    new LayersException(what + ": \"" + name + "\" is missing from the layout"));
        }

        InputStream open(String name) throws IOException {
            return dir == null ? tar.getInputStream(file(name)) : Files.newInputStream(fileInDirectory(name));
        }

        byte[] read(String name, long max) throws IOException {
            if (dir != null) {
                Path f = fileInDirectory(name);
                if (Files.size(f) > max) {
                    throw new LayersException(what + ": \"" + name + "\" is too large (" + Files.size(f) + " bytes)");
                }
                return Files.readAllBytes(f);
            }
            TarArchiveEntry e = file(name);
            if (e.getSize() > max) {
                throw new LayersException(what + ": \"" + name + "\" is too large (" + e.getSize() + " bytes)");
            }
            try (InputStream in = tar.getInputStream(e)) {
                return in.readAllBytes();
            }
        }

        private BlobSource blobs() {
            return d -> {
                String path = "blobs/" + d.digest().algorithm() + "/" + d.digest().hex();
                if (!has(path)) {
                    throw new LayersException(what + ": blob " + d.digest() + " is missing from the "
                            + (dir == null ? "archive" : "layout"));
                }
                return new VerifyingInputStream(open(path), d.digest(), d.size(), what);
            };
        }

        List<ImageArchive.Loaded> loadOci(ImageStore store) throws IOException {
            ImageIndex index = Json.read(read("index.json", 64 << 20), ImageIndex.class, what + ": index.json");
            List<ImageArchive.Loaded> loaded = new ArrayList<>();
            for (Descriptor root : index.manifests()) {
                copyTree(root, store);
                Optional<Reference> name = nameOf(root);
                Descriptor plain = root.withAnnotations(Map.of());
                if (name.isPresent()) {
                    store.tag(name.get(), plain);
                } else {
                    store.addUnnamed(plain);
                }
                loaded.add(new ImageArchive.Loaded(name, plain));
            }
            return loaded;
        }

        /** Copies a manifest or index and what it references, children first. */
        private void copyTree(Descriptor d, ImageStore store) throws IOException {
            String path = "blobs/" + d.digest().algorithm() + "/" + d.digest().hex();
            if (d.mediaType().isIndex()) {
                byte[] bytes = verified(d);
                ImageIndex child = Json.read(bytes, ImageIndex.class, what + ": index " + d.digest());
                for (Descriptor m : child.manifests()) {
                    if (has("blobs/" + m.digest().algorithm() + "/" + m.digest().hex())) {
                        copyTree(m, store); // an index may list platforms the archive does not carry
                    }
                }
                store.put(bytes);
            } else if (d.mediaType().isManifest()) {
                byte[] bytes = verified(d);
                Manifest m = Json.read(bytes, Manifest.class, what + ": manifest " + d.digest());
                for (Descriptor layer : m.layers()) { // every layer's entries, before anything is stored
                    if (layer.mediaType().isLayer()) {
                        try (InputStream in = blobs().open(layer)) {
                            LayerCheck.check(in, what + ": layer " + layer.digest());
                        } catch (LayerCheck.Refused refused) {
                            try (InputStream again = blobs().open(layer)) { // a corrupt blob says so first
                                again.transferTo(java.io.OutputStream.nullOutputStream());
                            }
                            throw refused;
                        }
                    }
                }
                for (Descriptor blob : concat(m.config(), m.layers())) {
                    if (!store.has(blob)) {
                        try (InputStream in = blobs().open(blob)) {
                            store.put(in, Optional.of(blob.digest()), OptionalLong.of(blob.size()));
                        }
                    }
                }
                store.put(bytes);
            } else if (has(path)) {
                try (InputStream in = blobs().open(d)) {
                    store.put(in, Optional.of(d.digest()), OptionalLong.of(d.size()));
                }
            } else {
                throw new LayersException(what + ": unsupported media type " + d.mediaType());
            }
        }

        private byte[] verified(Descriptor d) throws IOException {
            try (InputStream in = blobs().open(d)) {
                return in.readAllBytes();
            }
        }

        /**
         * The name an OCI archive gives an entry: {@code io.containerd.image.name}, else {@code ref.name}
         * when it is a full reference. A bare tag ({@code latest}, as {@code skopeo copy ... oci-archive:F:latest}
         * writes) names no repository, so such an image is loaded unnamed.
         */
        private Optional<Reference> nameOf(Descriptor d) {
            Optional<String> full = d.annotation(Descriptor.CONTAINERD_NAME);
            if (full.isPresent()) {
                return Optional.of(Reference.parse(full.get()));
            }
            Optional<String> ref = d.annotation(Descriptor.REF_NAME);
            if (ref.isEmpty() || (!ref.get().contains("/") && !ref.get().contains(":") && !ref.get().contains("@"))) {
                return Optional.empty();
            }
            try {
                return Optional.of(Reference.parse(ref.get()));
            } catch (LayersException notAReference) {
                return Optional.empty();
            }
        }

        List<ImageArchive.Loaded> loadDocker(ImageStore store) throws IOException {
            List<ImageArchive.DockerEntry> entries;
            byte[] manifestJson = read("manifest.json", 64 << 20);
            try {
                entries = Json.mapper().readValue(manifestJson, new TypeReference<List<ImageArchive.DockerEntry>>() { });
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new LayersException(what + ": manifest.json: invalid JSON: " + e.getOriginalMessage(), e);
            } catch (IOException e) { // bytes that are no text in any encoding JSON allows
                throw new LayersException(what + ": manifest.json: invalid JSON: " + e.getMessage(), e);
            }
            if (entries == null) {
                throw new LayersException(what + ": manifest.json: null, expected a list of images");
            }
            List<ImageArchive.Loaded> loaded = new ArrayList<>();
            for (ImageArchive.DockerEntry entry : entries) {
                if (entry == null || entry.config() == null) {
                    throw new LayersException(what + ": manifest.json: an entry has no Config");
                }
                byte[] configBytes = read(entry.config(), 64 << 20);
                ImageConfig config = Json.read(configBytes, ImageConfig.class, what + ": " + entry.config());
                List<String> layerPaths = entry.layers() == null ? List.of() : entry.layers();
                List<Digest> diffIds = config.rootfs().diffIds();
                if (layerPaths.size() != diffIds.size()) {
                    throw new LayersException(what + ": " + entry.config() + " lists " + diffIds.size()
                            + " diff_ids but manifest.json lists " + layerPaths.size() + " layers");
                }
                List<Descriptor> layers = new ArrayList<>();
                List<Compression.Kind> kinds = new ArrayList<>();
                for (int i = 0; i < layerPaths.size(); i++) { // every layer checked before any is stored
                    kinds.add(checkLayer(layerPaths.get(i), diffIds.get(i)));
                }
                for (int i = 0; i < layerPaths.size(); i++) {
                    StoredLayer l = storeLayer(store, layerPaths.get(i), diffIds.get(i), kinds.get(i));
                    layers.add(Descriptor.of(MediaType.OCI_LAYER, l.blob().digest(), l.blob().size()));
                }
                // A docker-archive has no manifest to keep: the one made for it has OCI's types, which every
                // reader of an OCI layout (skopeo's and umoci's oci: transports) sees in the store's index.
                List<Descriptor> typed = new ArrayList<>();
                for (int i = 0; i < layers.size(); i++) {
                    typed.add(layers.get(i).withMediaType(MediaType.layer(kinds.get(i), false)));
                }
                Document<ImageConfig> configDoc = new Document<>(config, configBytes, MediaType.OCI_CONFIG,
                        Digest.sha256(configBytes));
                store.put(configDoc);
                MediaType manifestType = MediaType.OCI_MANIFEST;
                Document<Manifest> manifest = Document.of(
                        Manifest.of(manifestType, configDoc.descriptor(), typed, Map.of()), manifestType);
                Descriptor d = store.put(manifest);
                List<String> tags = entry.repoTags() == null ? List.of() : entry.repoTags();
                if (tags.isEmpty()) {
                    store.addUnnamed(d);
                    loaded.add(new ImageArchive.Loaded(Optional.empty(), d));
                }
                for (String tag : tags) {
                    Reference name = Reference.parse(tag);
                    store.tag(name, d);
                    loaded.add(new ImageArchive.Loaded(Optional.of(name), d));
                }
            }
            return loaded;
        }

        private record StoredLayer(StoredBlob blob, Compression.Kind kind) {}

        /**
         * Stores one docker-archive layer as it is (plain or compressed), after checking that its
         * uncompressed content hashes to the config's diff_id.
         */
        /**
         * Reads a layer of the archive once: its entries checked ({@link LayerCheck}) and its uncompressed
         * bytes against its diff_id; returns how it is compressed.
         */
        private Compression.Kind checkLayer(String path, Digest diffId) throws IOException {
            try (BufferedInputStream in = new BufferedInputStream(open(path), 1 << 16)) {
                Compression.Kind kind = Compression.detect(in);
                try (InputStream plain = new VerifyingInputStream(Compression.decompress(in), diffId, -1,
                        what + ": layer " + path)) {
                    LayerCheck.checkTar(plain, what + ": layer " + path);
                }
                return kind;
            } catch (LayerCheck.Refused refused) {
                throw refused;
            } catch (LayersException e) {
                throw new LayersException(what + ": layer " + path + " does not match its diff_id " + diffId, e);
            } catch (java.util.zip.ZipException | java.io.EOFException | com.github.luben.zstd.ZstdIOException e) {
                throw new LayersException(what + ": layer " + path + " is not a valid compressed layer: "
                        + e.getMessage(), e);
            }
        }

        /** Stores a layer {@link #checkLayer} passed, as its bytes are (a plain one verified again). */
        private StoredLayer storeLayer(ImageStore store, String path, Digest diffId, Compression.Kind kind)
                throws IOException {
            try (InputStream in = open(path)) {
                return new StoredLayer(store.put(in, kind == Compression.Kind.NONE ? Optional.of(diffId)
                        : Optional.empty(), OptionalLong.empty()), kind);
            }
        }

        private static List<Descriptor> concat(Descriptor first, List<Descriptor> rest) {
            List<Descriptor> all = new ArrayList<>();
            all.add(first);
            all.addAll(rest);
            return all;
        }
    }
}
