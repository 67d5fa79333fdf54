package dev.berth.builder;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Compression;
import dev.berth.layers.ContainerConfig;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Image;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A build context and a BERTH_HOME in a temporary directory, and ways to look at what a build made: the
 * config, the entries of each layer (tar headers), the merged tree.
 */
final class BuildFixture {
    final Path root;
    final Path context;
    final BerthHome home;
    final List<BuildEvent> events = new ArrayList<>();

    BuildFixture(Path tmp) {
        this(tmp, tmp.resolve("context"), new BerthHome(tmp.resolve("home")));
    }

    BuildFixture(Path root, Path context, BerthHome home) {
        this.root = root;
        this.context = context;
        this.home = home;
        try {
            Files.createDirectories(context);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a file of the context (parents created). */
    Path file(String path, String content) {
        try {
            Path p = context.resolve(path);
            Files.createDirectories(p.getParent());
            Files.writeString(p, content);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path file(String path, String content, int mode) {
        Path p = file(path, content);
        try {
            Files.setAttribute(p, "unix:mode", mode);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    void dockerfile(String... lines) {
        file("Dockerfile", String.join("\n", lines) + "\n");
    }

    BuildRequest.Builder request() {
        return BuildRequest.builder(context).sourceDateEpoch(Instant.ofEpochSecond(1700000000))
                .compression(new Compression.Gzip(1, 2));
    }

    BuildResult build(String... lines) {
        dockerfile(lines);
        return build(r -> r);
    }

    BuildResult build(UnaryOperator<BuildRequest.Builder> options) {
        events.clear();
        return Builder.create(home).build(options.apply(request()).build(), events::add);
    }

    List<String> warnings() {
        return events.stream().filter(e -> e instanceof BuildEvent.Warning).map(e -> ((BuildEvent.Warning) e).message()).toList();
    }

    Image image(BuildResult r) {
        try (ImageStore store = home.openStore()) {
            return store.image(r.manifest().withPlatform(java.util.Optional.empty()), Platform.host(), "built");
        }
    }

    ImageConfig config(BuildResult r) {
        return image(r).config().value();
    }

    ContainerConfig container(BuildResult r) {
        return config(r).containerConfig();
    }

    /** The entries of one layer, by path (directories with a trailing slash), in order. */
    Map<String, TarArchiveEntry> layer(BuildResult r, int index) {
        Image image = image(r);
        return entries(image, image.layers().get(index));
    }

    static Map<String, TarArchiveEntry> entries(Image image, Descriptor layer) {
        Map<String, TarArchiveEntry> out = new LinkedHashMap<>();
        try (InputStream in = image.blobs().open(layer);
             TarArchiveInputStream tar = new TarArchiveInputStream(Compression.decompress(in))) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                out.put(e.getName(), e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** The content of a file entry of a layer. */
    String content(BuildResult r, int index, String path) {
        Image image = image(r);
        try (InputStream in = image.blobs().open(image.layers().get(index));
             TarArchiveInputStream tar = new TarArchiveInputStream(Compression.decompress(in))) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                if (e.getName().equals(path)) {
                    return new String(tar.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError(path + " not in layer " + index);
    }

    /** Every path of the image after applying its layers: {@code path -> "type mode uid:gid"}. */
    Map<String, String> tree(BuildResult r) {
        Image image = image(r);
        Map<String, String> out = new java.util.TreeMap<>();
        for (Descriptor l : image.layers()) {
            entries(image, l).forEach((name, e) -> {
                String p = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
                out.put(p, (e.isDirectory() ? "d" : e.isSymbolicLink() ? "l->" + e.getLinkName() : e.isLink() ? "h" : "f")
                        + " " + Integer.toOctalString(e.getMode() & 07777) + " " + e.getLongUserId() + ":" + e.getLongGroupId());
            });
        }
        return out;
    }

    /** Names an image of the store, for FROM and COPY --from. */
    Descriptor tagged(String name) {
        try (ImageStore store = home.openStore()) {
            return store.resolve(Reference.parse(name)).orElseThrow();
        }
    }
}
