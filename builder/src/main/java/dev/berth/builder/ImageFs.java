package dev.berth.builder;

import dev.berth.layers.Compression;
import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.ImageStore;
import dev.berth.layers.LayerEntry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The merged file tree of an image's layers, read from the tar headers without extracting anything: what
 * COPY needs to know about the image it writes into (does the destination exist, is it a directory, what
 * are the attributes of the directories above it, where do its symlinks lead), and the files of a stage
 * or an image that {@code COPY --from} reads. File contents stay in the layer blobs and are streamed out
 * on request, one pass per layer.
 *
 * <p>Indexing is lazy: a build that never asks (a no-change rebuild, a {@code FROM scratch} image with one
 * COPY) never decompresses a layer. Layers this build wrote are indexed from the entries it wrote, never
 * read back. Whiteouts apply as in the image spec: {@code .wh.NAME} removes NAME from lower layers,
 * {@code .wh..wh..opq} empties its directory of lower-layer content.
 */
final class ImageFs {
    /** A layer of the image: its blob in the store and, for layers of this build, the entries it holds. */
    record Layer(Descriptor blob, Digest diffId, Optional<List<Node>> known) {}

    /**
     * One path of the merged tree.
     *
     * @param type {@code f} file, {@code d} directory, {@code l} symlink, {@code h} hard link (to {@code link},
     *     a path of the same layer), {@code c}/{@code b} devices, {@code p} FIFO
     * @param mode permission bits with setuid/setgid/sticky
     * @param layer the index of the layer holding it
     */
    record Node(String path, char type, int mode, int uid, int gid, String link, long size, Optional<Instant> mtime,
                int layer, int major, int minor) {
        boolean isDirectory() {
            return type == 'd';
        }

        boolean isSymlink() {
            return type == 'l';
        }

        boolean isFile() {
            return type == 'f' || type == 'h';
        }
    }

    private final ImageStore store;
    private final LazyBlobs lazy;
    private final List<Layer> layers;
    private final TreeMap<String, Node> nodes;
    private int indexed;

    private ImageFs(ImageStore store, LazyBlobs lazy, List<Layer> layers, TreeMap<String, Node> nodes, int indexed) {
        this.store = store;
        this.lazy = lazy;
        this.layers = layers;
        this.nodes = nodes;
        this.indexed = indexed;
    }

    static ImageFs of(ImageStore store, List<Layer> layers) {
        return of(store, layers, LazyBlobs.NONE);
    }

    /** A tree whose layers' blobs, when the store lacks them, come from {@code lazy} as they are read. */
    static ImageFs of(ImageStore store, List<Layer> layers, LazyBlobs lazy) {
        return new ImageFs(store, lazy, new ArrayList<>(layers), new TreeMap<>(), 0);
    }

    /** A copy that can grow separately (a stage built FROM this one). */
    ImageFs fork() {
        return new ImageFs(store, lazy, new ArrayList<>(layers), new TreeMap<>(nodes), indexed);
    }

    void addLayer(Layer layer) {
        layers.add(layer);
    }

    List<Layer> layers() {
        return List.copyOf(layers);
    }

    /** The node at exactly {@code path} (no symlink followed); the root is never a node. */
    Optional<Node> lstat(String path) {
        index();
        return Optional.ofNullable(nodes.get(path));
    }

    /** {@code path} with every symlink in it resolved inside the image (the last one too when asked). */
    String resolve(String path, boolean followFinal) {
        index();
        return ContextDir.resolve(path, followFinal, p -> {
            Node n = nodes.get(p);
            return n != null && n.isSymlink() ? Optional.of(n.link()) : Optional.empty();
        });
    }

    /** The node {@code path} leads to, symlinks followed. */
    Optional<Node> stat(String path) {
        String r = resolve(path, true);
        return r.isEmpty() ? Optional.of(rootNode()) : lstat(r);
    }

    /** Whether {@code path}, symlinks followed, is a directory (the root always is). */
    boolean isDirectory(String path) {
        return stat(path).map(Node::isDirectory).orElse(false);
    }

    static Node rootNode() {
        return new Node("", 'd', 0755, 0, 0, "", 0, Optional.empty(), -1, 0, 0);
    }

    /** The names directly inside a directory, sorted. */
    List<String> list(String dir) {
        index();
        String prefix = dir.isEmpty() ? "" : dir + "/";
        List<String> out = new ArrayList<>();
        for (String p : (dir.isEmpty() ? nodes : nodes.subMap(prefix, dir + "0")).keySet()) {
            String rest = p.substring(prefix.length());
            if (!rest.isEmpty() && rest.indexOf('/') < 0) {
                out.add(rest);
            }
        }
        return out;
    }

    /** Every node below {@code dir}, sorted by path (so parents come first). */
    List<Node> below(String dir) {
        index();
        return new ArrayList<>((dir.isEmpty() ? nodes : nodes.subMap(dir + "/", dir + "0")).values());
    }

    /** Reads the bytes of small files (for /etc/passwd and /etc/group); empty when it is not a regular file. */
    Optional<byte[]> readSmallFile(String path) {
        Optional<Node> n = stat(path);
        if (n.isEmpty() || !n.get().isFile()) {
            return Optional.empty();
        }
        byte[][] out = new byte[1][];
        contents(List.of(n.get()), (nodes, in) -> out[0] = in.readNBytes(1 << 20));
        return Optional.ofNullable(out[0]);
    }

    /** Receives a file's content, streamed from its layer, once for all the nodes (hard links) that share it. */
    interface ContentSink {
        void accept(List<Node> nodes, InputStream content) throws IOException;
    }

    /**
     * Streams the contents of regular files (and hard links, through their targets) to {@code sink}, reading
     * each layer that holds some of them once.
     */
    void contents(List<Node> files, ContentSink sink) {
        Map<Integer, Map<String, List<Node>>> byLayer = new TreeMap<>();
        for (Node n : files) {
            String name = n.type() == 'h' ? n.link() : n.path();
            byLayer.computeIfAbsent(n.layer(), k -> new HashMap<>()).computeIfAbsent(name, k -> new ArrayList<>()).add(n);
        }
        for (Map.Entry<Integer, Map<String, List<Node>>> e : byLayer.entrySet()) {
            Layer layer = layers.get(e.getKey());
            Map<String, List<Node>> wanted = e.getValue();
            String what = "layer " + layer.blob().digest();
            lazy.ensure(store, layer.blob());
            try (InputStream blob = store.open(layer.blob(), what);
                 TarArchiveInputStream tar = new dev.berth.layers.LayerTarInput(Compression.decompress(blob))) {
                for (TarArchiveEntry t; (t = tar.getNextEntry()) != null && !wanted.isEmpty(); ) {
                    List<Node> ns = wanted.remove(clean(t.getName()));
                    if (ns == null) {
                        continue;
                    }
                    if (!t.isFile()) {
                        throw new BuildException(what + ": " + t.getName() + " is not a regular file");
                    }
                    sink.accept(ns, tar);
                }
            } catch (IOException ex) {
                throw new BuildException("cannot read " + what + ": " + ex.getMessage(), ex);
            }
            if (!wanted.isEmpty()) {
                throw new BuildException("layer " + layer.blob().digest() + " lacks " + wanted.keySet().iterator().next());
            }
        }
    }

    /**
     * Writes the tree below directory {@code dir} (symlinks in {@code dir} followed) into {@code target},
     * an existing directory: directories, files, symlinks and hard links with their modes and, as root,
     * owners; devices and FIFOs are left out. For seeding a cache mount {@code from} a stage or image.
     */
    void extractTo(String dir, Path target) {
        String root = resolve(dir, true);
        if (!root.isEmpty() && !isDirectory(root)) {
            throw new BuildException("/" + dir + " is not a directory");
        }
        List<Node> nodes = below(root);
        String prefix = root.isEmpty() ? "" : root + "/";
        boolean asRoot = dev.berth.layers.BerthHome.isRoot();
        List<Node> files = new ArrayList<>();
        // A layer may put entries below a path a lower layer has as a symlink: those are left out, since
        // creating them would go through the symlink, perhaps out of the target.
        List<String> links = new ArrayList<>();
        List<Node> safe = new ArrayList<>();
        for (Node n : nodes) { // sorted: a symlink comes before whatever lies below its path
            if (links.stream().noneMatch(l -> n.path().startsWith(l + "/"))) {
                safe.add(n);
                if (n.isSymlink()) {
                    links.add(n.path());
                }
            }
        }
        nodes = safe;
        try {
            for (Node n : nodes) {
                Path p = target.resolve(n.path().substring(prefix.length()));
                switch (n.type()) {
                    case 'd' -> Files.createDirectories(p);
                    case 'l' -> Files.createSymbolicLink(p, Path.of(n.link()));
                    case 'f' -> files.add(n);
                    default -> { }
                }
            }
            contents(files, (ns, in) -> {
                Path first = target.resolve(ns.getFirst().path().substring(prefix.length()));
                Files.copy(in, first, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            });
            for (Node n : nodes) {
                Path p = target.resolve(n.path().substring(prefix.length()));
                if (n.type() == 'h' && n.link().startsWith(prefix)) {
                    Files.createLink(p, target.resolve(n.link().substring(prefix.length())));
                }
                if (n.type() == 'd' || n.type() == 'f' || n.type() == 'l') {
                    if (asRoot) {
                        dev.berth.layers.Posix.lchown(p, n.uid(), n.gid());
                    }
                    if (n.type() != 'l') {
                        dev.berth.layers.Posix.chmod(p, n.mode());
                    }
                }
            }
        } catch (IOException e) {
            throw new BuildException("cannot copy /" + dir + " into " + target + ": " + e.getMessage(), e);
        }
    }

    private static String clean(String tarName) {
        return ContextDir.clean(tarName);
    }

    // ---------------------------------------------------------------- indexing

    private void index() {
        while (indexed < layers.size()) {
            Layer l = layers.get(indexed);
            apply(indexed, l.known().isPresent() ? l.known().get() : scan(indexed, l));
            indexed++;
        }
    }

    private List<Node> scan(int index, Layer layer) {
        List<Node> out = new ArrayList<>();
        String what = "layer " + layer.blob().digest();
        lazy.ensure(store, layer.blob());
        try (InputStream blob = store.open(layer.blob(), what);
             TarArchiveInputStream tar = new dev.berth.layers.LayerTarInput(Compression.decompress(blob))) {
            for (TarArchiveEntry t; (t = tar.getNextEntry()) != null; ) {
                String p = clean(t.getName());
                if (p.isEmpty()) {
                    continue;
                }
                char type = t.isDirectory() ? 'd' : t.isSymbolicLink() ? 'l' : t.isLink() ? 'h'
                        : t.isCharacterDevice() ? 'c' : t.isBlockDevice() ? 'b' : t.isFIFO() ? 'p' : 'f';
                String link = type == 'h' ? clean(t.getLinkName()) : type == 'l' ? t.getLinkName() : "";
                out.add(new Node(p, type, t.getMode() & 07777, (int) t.getLongUserId(), (int) t.getLongGroupId(), link,
                        t.getSize(), Optional.of(t.getModTime().toInstant()), index, t.getDevMajor(), t.getDevMinor()));
            }
        } catch (IOException e) {
            throw new BuildException("cannot read " + what + ": " + e.getMessage(), e);
        }
        return out;
    }

    private void apply(int index, List<Node> entries) {
        // Whiteouts hide lower layers only, wherever they sit in this layer: remove first, then add.
        for (Node n : entries) {
            String name = n.path().substring(n.path().lastIndexOf('/') + 1);
            String dir = n.path().contains("/") ? n.path().substring(0, n.path().lastIndexOf('/')) : "";
            if (name.equals(".wh..wh..opq")) {
                removeBelow(dir);
            } else if (name.startsWith(".wh.")) {
                String target = dir.isEmpty() ? name.substring(4) : dir + "/" + name.substring(4);
                nodes.remove(target);
                removeBelow(target);
            }
        }
        for (Node n : entries) {
            String name = n.path().substring(n.path().lastIndexOf('/') + 1);
            if (name.startsWith(".wh.")) {
                continue;
            }
            Node previous = nodes.put(n.path(), new Node(n.path(), n.type(), n.mode(), n.uid(), n.gid(), n.link(),
                    n.size(), n.mtime(), index, n.major(), n.minor()));
            if (previous != null && previous.isDirectory() && !n.isDirectory()) {
                removeBelow(n.path());
            }
        }
    }

    private void removeBelow(String dir) {
        if (dir.isEmpty()) {
            nodes.clear();
        } else {
            nodes.subMap(dir + "/", dir + "0").clear();
        }
    }

    /** The nodes for the entries a layer of this build holds, so it need never be read back. */
    static List<Node> nodesOf(java.util.Collection<LayerEntry> entries, Instant layerTime) {
        List<Node> out = new ArrayList<>();
        for (LayerEntry e : entries) {
            LayerEntry.Attributes a = e.attributes();
            Optional<Instant> t = Optional.of(a.mtime().orElse(layerTime));
            String p = e.path().value();
            Node n = switch (e) {
                case LayerEntry.Directory d -> new Node(p, 'd', a.mode().orElse(0755), a.uid(), a.gid(), "", 0, t, 0, 0, 0);
                case LayerEntry.File f -> new Node(p, 'f', a.mode().orElse(0644), a.uid(), a.gid(), "", 0, t, 0, 0, 0);
                case LayerEntry.Content c -> new Node(p, 'f', a.mode().orElse(0644), a.uid(), a.gid(), "", c.bytes().length, t, 0, 0, 0);
                case LayerEntry.Symlink s -> new Node(p, 'l', 0777, a.uid(), a.gid(), s.target(), 0, t, 0, 0, 0);
                case LayerEntry.Hardlink h -> new Node(p, 'h', a.mode().orElse(0644), a.uid(), a.gid(), h.target().value(), 0, t, 0, 0, 0);
                case LayerEntry.Special s -> new Node(p, switch (s.kind()) {
                    case FIFO -> 'p';
                    case CHAR_DEVICE -> 'c';
                    case BLOCK_DEVICE -> 'b';
                }, a.mode().orElse(0644), a.uid(), a.gid(), "", 0, t, 0, s.major(), s.minor());
                case LayerEntry.Whiteout w -> new Node(w.path().parent().map(x -> x.isRoot() ? "" : x.value() + "/").orElse("")
                        + ".wh." + w.path().name(), 'f', 0, 0, 0, "", 0, t, 0, 0, 0);
                case LayerEntry.OpaqueWhiteout o -> new Node(o.path().isRoot() ? ".wh..wh..opq" : p + "/.wh..wh..opq",
                        'f', 0, 0, 0, "", 0, t, 0, 0, 0);
            };
            out.add(n);
        }
        return out;
    }

    /** The paths that match a wildcard pattern ({@code COPY --from} sources), in directory order. */
    List<String> glob(String pattern) {
        ImageFs fs = this;
        List<String> parts = List.of(pattern.split("/"));
        int first = 0;
        while (first < parts.size() && !ContextDir.hasWildcards(parts.get(first))) {
            first++;
        }
        String base = fs.resolve(String.join("/", parts.subList(0, first)), true);
        List<dev.berth.builder.context.Wildcard> rest = parts.subList(first, parts.size()).stream()
                .map(dev.berth.builder.context.Wildcard::compile).toList();
        List<String> out = new ArrayList<>();
        if (fs.isDirectory(base)) {
            glob(fs, base, rest, 0, out);
        }
        return out;
    }

    private static void glob(ImageFs fs, String dir, List<dev.berth.builder.context.Wildcard> rest, int depth,
                                  List<String> out) {
        for (String name : fs.list(dir)) {
            if (!rest.get(depth).matches(name)) {
                continue;
            }
            String p = dir.isEmpty() ? name : dir + "/" + name;
            if (depth == rest.size() - 1) {
                out.add(p);
            } else if (fs.lstat(p).map(ImageFs.Node::isDirectory).orElse(false)) {
                glob(fs, p, rest, depth + 1, out);
            }
        }
    }
}
