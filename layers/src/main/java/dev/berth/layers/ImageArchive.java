package dev.berth.layers;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.berth.layers.internal.NonClosingOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Image archives: one tar that is both an OCI image layout ({@code oci-layout}, {@code index.json},
 * {@code blobs/}) and a docker-archive ({@code manifest.json} with {@code RepoTags}), as Docker 25+ writes
 * it. {@code docker load}, {@code podman load}, {@code skopeo copy docker-archive:} and
 * {@code oci-archive:} all read it.
 *
 * <p>Reading accepts that combined form, OCI archives (from skopeo, podman, buildkit) and docker-archives,
 * current and legacy ({@code <id>/layer.tar}), with layers plain or compressed, and the whole archive
 * plain or gzip/zstd-compressed.
 */
public final class ImageArchive {
    private static final FileTime EPOCH = FileTime.from(Instant.EPOCH);

    private ImageArchive() {}

    /** One {@code manifest.json} entry of a docker-archive. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    record DockerEntry(
            @JsonProperty("Config") String config,
            @JsonProperty("RepoTags") List<String> repoTags,
            @JsonProperty("Layers") List<String> layers) {}

    /** An image loaded from an archive: its name when the archive gave one, and its entry in the store. */
    public record Loaded(Optional<Reference> name, Descriptor descriptor) {}

    // ---------------------------------------------------------------- writing

    /**
     * Writes the named images of the store as one archive. Blobs are written once each, in sorted order,
     * with fixed times and modes, so the same images give the same archive. For a name that is an index,
     * every platform the store holds goes into the OCI view and {@code platform}'s image into
     * {@code manifest.json}.
     */
    public static void write(ImageStore store, List<Reference> names, Platform platform, OutputStream out)
            throws IOException {
        Map<Reference, Descriptor> images = new LinkedHashMap<>();
        for (Reference name : names) {
            images.put(name, store.resolve(name).orElseThrow(
                    () -> new LayersException("image " + name.familiar() + " is not in the store")));
        }
        write(store, images, platform, out);
    }

    /**
     * As {@link #write(ImageStore, List, Platform, OutputStream)}, for images of the store given by
     * descriptor with the names the archive gives them (which the store need not have: a build writes an
     * archive of an image it has not named in the store).
     */
    /**
     * Writes the archive to a file that appears complete or not at all (temp file beside it, fsync,
     * rename), replacing any file there.
     */
    public static void writeFile(ImageStore store, Map<Reference, Descriptor> images, Platform platform, Path file)
            throws IOException {
        dev.berth.layers.internal.AtomicFiles.write(file, out -> write(store, images, platform, out));
    }

    public static void write(ImageStore store, Map<Reference, Descriptor> images, Platform platform, OutputStream out)
            throws IOException {
        List<Descriptor> roots = new ArrayList<>();
        Map<Digest, DockerEntryBuilder> docker = new LinkedHashMap<>();
        for (Map.Entry<Reference, Descriptor> named : images.entrySet()) {
            Reference name = named.getKey();
            Descriptor d = named.getValue();
            String full = name.toString();
            roots.add(d.withAnnotations(Map.of(Descriptor.CONTAINERD_NAME, full, Descriptor.REF_NAME, full)));
            Image image = store.image(d, platform, name.familiar());
            docker.computeIfAbsent(image.digest(), k -> new DockerEntryBuilder(image)).tags.add(dockerTag(name));
        }
        TreeMap<String, Descriptor> blobs = new TreeMap<>();
        for (Descriptor d : store.reachable(roots)) {
            if (store.has(d)) {
                blobs.put("blobs/" + d.digest().algorithm() + "/" + d.digest().hex(), d);
            }
        }
        ImageIndex index = ImageIndex.of(MediaType.OCI_INDEX, roots);
        List<DockerEntry> manifest = docker.values().stream().map(DockerEntryBuilder::build).toList();

        TarArchiveOutputStream tar = new TarArchiveOutputStream(new NonClosingOutputStream(out), TarConstants.DEFAULT_RCDSIZE,
                UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        directory(tar, "blobs/");
        String lastDir = "";
        for (Map.Entry<String, Descriptor> e : blobs.entrySet()) {
            String dir = e.getKey().substring(0, e.getKey().lastIndexOf('/') + 1);
            if (!dir.equals(lastDir)) {
                directory(tar, dir);
                lastDir = dir;
            }
            Descriptor d = e.getValue();
            TarArchiveEntry t = entry(e.getKey(), TarConstants.LF_NORMAL, 0444);
            t.setSize(d.size());
            tar.putArchiveEntry(t);
            try (InputStream in = store.open(d, "save")) {
                in.transferTo(tar);
            }
            tar.closeArchiveEntry();
        }
        file(tar, "index.json", Json.write(index));
        file(tar, "manifest.json", Json.write(manifest));
        file(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(UTF_8));
        tar.finish();
        tar.close();
    }

    /**
     * docker-archive RepoTags carry the full name ({@code docker.io/library/busy:2}): docker normalises it
     * to its short form on load, while podman would file a short name under {@code localhost/}.
     */
    private static String dockerTag(Reference name) {
        return name.name() + ":" + name.tag().orElse("latest");
    }

    private static final class DockerEntryBuilder {
        final Image image;
        final List<String> tags = new ArrayList<>();

        DockerEntryBuilder(Image image) {
            this.image = image;
        }

        DockerEntry build() {
            return new DockerEntry(path(image.id()), tags,
                    image.layers().stream().map(l -> path(l.digest())).toList());
        }

        private static String path(Digest d) {
            return "blobs/" + d.algorithm() + "/" + d.hex();
        }
    }

    private static void directory(TarArchiveOutputStream tar, String name) throws IOException {
        tar.putArchiveEntry(entry(name, TarConstants.LF_DIR, 0755));
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] bytes) throws IOException {
        TarArchiveEntry t = entry(name, TarConstants.LF_NORMAL, 0644);
        t.setSize(bytes.length);
        tar.putArchiveEntry(t);
        tar.write(bytes);
        tar.closeArchiveEntry();
    }

    private static TarArchiveEntry entry(String name, byte type, int mode) {
        TarArchiveEntry t = new TarArchiveEntry(name, type, false);
        t.setMode(mode);
        t.setUserId(0);
        t.setGroupId(0);
        t.setUserName("");
        t.setGroupName("");
        t.setModTime(EPOCH);
        return t;
    }

    // ---------------------------------------------------------------- reading

    /**
     * Loads every image of an archive into the store and names them as the archive does (an OCI entry's
     * {@code io.containerd.image.name} or full {@code ref.name}, a docker-archive's {@code RepoTags}); an
     * image without a name is added unnamed. Every blob is verified; nothing is named until all of an
     * image's blobs are in the store. {@code file} may also be a directory holding what such an archive
     * holds: an OCI image layout ({@code skopeo copy ... oci:DIR}, {@code podman save --format oci-dir}).
     */
    public static List<Loaded> load(Path file, ImageStore store) throws IOException {
        return ArchiveReader.load(file, store);
    }
}
