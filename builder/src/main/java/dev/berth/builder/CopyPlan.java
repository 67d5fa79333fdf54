package dev.berth.builder;

import dev.berth.builder.context.DockerIgnore;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerPath;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The entries of one COPY or ADD layer, following buildkit's copy rules (fsutil's {@code copy.Copy} with
 * dockerfile2llb's options):
 * <ul>
 *   <li>a destination ending in {@code /} (or {@code .}) is a directory, created with its missing parents;
 *       otherwise only its parents are created; a file copied onto an existing directory goes inside it;
 *   <li>a directory source copies its contents; the destination directory, when this COPY creates it,
 *       takes the source directory's attributes; nested directories always do;
 *   <li>directories the COPY creates on the way ({@code mkdir -p}) get mode 0755 (buildkit: the octal
 *       {@code --chmod} when one is given) and the {@code --chown} owner; directories that exist in the
 *       image keep their attributes and are written into the layer unchanged (an extractor needs every
 *       parent), and nothing else of the image is written again;
 *   <li>{@code --chmod} applies to every copied file and directory, never to symlinks; {@code --chown} to
 *       every entry; without it context files are 0:0 and files of a stage or image keep their owners;
 *   <li>context files get the layer's fixed time; files of an image or an archive keep theirs.
 * </ul>
 * With {@code --link} the layer does not depend on the image below: the destination is not resolved
 * through it and every parent counts as created.
 */
final class CopyPlan {
    /** One file-system object to copy, from the context, an image or an instruction. */
    record Source(String rel, char type, int mode, int uid, int gid, String link, Optional<Instant> mtime,
                  int major, int minor, Object data) {}

    private final ImageFs image;
    private final boolean link;
    private final Optional<Users.Ids> chown;
    private final Optional<Chmod> chmod;
    private final Path scratch;
    private final TreeMap<LayerPath, LayerEntry> entries = new TreeMap<>();
    private final Map<String, Path> extracted = new LinkedHashMap<>();
    private final List<ImageFs.Node> toExtract = new ArrayList<>();
    private ImageFs extractFrom;
    private int counter;

    CopyPlan(ImageFs image, boolean link, Optional<Users.Ids> chown, Optional<Chmod> chmod, Path scratch) {
        this.image = image;
        this.link = link;
        this.chown = chown;
        this.chmod = chmod;
        this.scratch = scratch;
    }

    Map<LayerPath, LayerEntry> entries() {
        return entries;
    }

    /** The path a destination names, symlinks of the image resolved (not with --link). */
    String resolve(String path) {
        String clean = ContextDir.clean(path);
        return link ? clean : image.resolve(clean, true);
    }

    /** The attributes of a directory this COPY creates on the way. */
    LayerEntry.Attributes created() {
        int mode = chmod.flatMap(c -> c.octal().isPresent() ? Optional.of(c.octal().getAsInt()) : Optional.empty()).orElse(0755);
        return new LayerEntry.Attributes(OptionalInt.of(mode), chown.map(Users.Ids::uid).orElse(0),
                chown.map(Users.Ids::gid).orElse(0), Optional.empty(), Map.of());
    }

    /** What is at {@code path}: an entry of this layer, else of the image ({@code 'd'} for the root). */
    Optional<Character> typeAt(String path) {
        if (path.isEmpty()) {
            return Optional.of('d');
        }
        LayerEntry e = entries.get(new LayerPath(path));
        if (e != null) {
            return Optional.of(e instanceof LayerEntry.Directory ? 'd' : 'f');
        }
        return link ? Optional.empty() : image.lstat(path).map(ImageFs.Node::type);
    }

    boolean isDirectory(String path) {
        return typeAt(path).map(t -> t == 'd').orElse(false);
    }

    /** {@code mkdir -p}: creates what is missing of {@code path} with {@link #created()}. */
    void mkdirAll(String path) {
        if (path.isEmpty()) {
            return;
        }
        String[] parts = path.split("/");
        StringBuilder p = new StringBuilder();
        for (String part : parts) {
            if (!p.isEmpty()) {
                p.append('/');
            }
            p.append(part);
            String s = p.toString();
            Optional<Character> t = typeAt(s);
            if (t.isEmpty()) {
                entries.put(new LayerPath(s), new LayerEntry.Directory(new LayerPath(s), created()));
            } else if (t.get() != 'd') {
                throw new BuildException("cannot copy to non-directory: /" + s);
            }
        }
    }

    /**
     * Copies one source to {@code target}: a directory's contents merge into it (created with the source
     * directory's attributes when missing), anything else is written at it.
     */
    void copy(Source top, List<Source> below, String target, DockerIgnore excludes) {
        if (top.type() == 'd') {
            Optional<Character> t = typeAt(target);
            if (t.isEmpty()) {
                mkdirAll(parentOf(target));
                put(top, target);
            } else if (t.get() != 'd') {
                throw new BuildException("cannot copy to non-directory: /" + target);
            }
            for (Source s : below) {
                if (!excludes.isEmpty() && excludes.excludes(s.rel())) {
                    continue;
                }
                String p = target.isEmpty() ? s.rel() : target + "/" + s.rel();
                if (s.type() == 'd') {
                    Optional<Character> existing = typeAt(p);
                    if (existing.isPresent() && existing.get() != 'd') {
                        throw new BuildException("cannot copy to non-directory: /" + p);
                    }
                }
                put(s, p);
            }
        } else {
            mkdirAll(parentOf(target));
            if (target.isEmpty() || isDirectory(target)) {
                throw new BuildException("cannot replace to directory /" + target + " with file");
            }
            put(top, target);
        }
    }

    /** Creates the directories of a --parents path with the source's attributes, as buildkit does. */
    void parentDirectories(List<Source> dirs, String targetBase) {
        for (Source d : dirs) {
            String p = targetBase.isEmpty() ? d.rel() : targetBase + "/" + d.rel();
            if (typeAt(p).isEmpty()) {
                put(d, p);
            }
        }
    }

    /** Adds an archive's entries (already made). */
    void putAll(Map<LayerPath, LayerEntry> archive) {
        entries.putAll(archive);
    }

    private void put(Source s, String path) {
        LayerPath p = new LayerPath(path);
        int mode = s.type() == 'l' ? 0777 : chmod.map(c -> c.apply(s.mode(), s.type() == 'd')).orElse(s.mode());
        LayerEntry.Attributes a = new LayerEntry.Attributes(OptionalInt.of(mode & 07777),
                chown.map(Users.Ids::uid).orElse(s.uid()), chown.map(Users.Ids::gid).orElse(s.gid()), s.mtime(), Map.of());
        LayerEntry e = switch (s.type()) {
            case 'd' -> new LayerEntry.Directory(p, a);
            case 'l' -> new LayerEntry.Symlink(p, s.link(), a);
            case 'p' -> new LayerEntry.Special(p, LayerEntry.Special.Kind.FIFO, 0, 0, a);
            case 'c' -> new LayerEntry.Special(p, LayerEntry.Special.Kind.CHAR_DEVICE, s.major(), s.minor(), a);
            case 'b' -> new LayerEntry.Special(p, LayerEntry.Special.Kind.BLOCK_DEVICE, s.major(), s.minor(), a);
            default -> switch (s.data()) {
                case Path file -> new LayerEntry.File(p, file, a);
                case byte[] bytes -> new LayerEntry.Content(p, bytes, a);
                case ImageFs.Node node -> new LayerEntry.File(p, extractLater(node), a);
                default -> throw new IllegalStateException("no content for " + path);
            };
        };
        entries.put(p, e);
    }

    /** Files of a stage or an image are streamed out of their layers into scratch files, all at once. */
    private Path extractLater(ImageFs.Node node) {
        return extracted.computeIfAbsent(node.layer() + ":" + node.path(), k -> {
            toExtract.add(node);
            return scratch.resolve("from-" + counter++);
        });
    }

    void sourceImage(ImageFs from) {
        this.extractFrom = from;
    }

    /** Writes the contents of the files taken from a stage or an image into their scratch files. */
    void extract() {
        if (toExtract.isEmpty()) {
            return;
        }
        extractFrom.contents(toExtract, (nodes, in) -> {
            Path first = extracted.get(nodes.getFirst().layer() + ":" + nodes.getFirst().path());
            try (OutputStream out = Files.newOutputStream(first)) {
                in.transferTo(out);
            }
            for (ImageFs.Node other : nodes.subList(1, nodes.size())) { // hard links to the same content
                Files.copy(first, extracted.get(other.layer() + ":" + other.path()));
            }
        });
    }

    /**
     * Adds every parent directory that no entry names: from the image with its attributes when it has it,
     * else as created. Extractors need every parent of an entry in the layer.
     */
    void fillParents() {
        for (LayerPath p : List.copyOf(entries.keySet())) {
            Optional<LayerPath> parent = p.parent();
            while (parent.isPresent() && !parent.get().isRoot() && !entries.containsKey(parent.get())) {
                LayerPath d = parent.get();
                Optional<ImageFs.Node> existing = link ? Optional.empty() : image.lstat(d.value());
                if (existing.isPresent() && existing.get().isDirectory()) {
                    ImageFs.Node n = existing.get();
                    entries.put(d, new LayerEntry.Directory(d, new LayerEntry.Attributes(OptionalInt.of(n.mode()),
                            n.uid(), n.gid(), n.mtime(), Map.of())));
                } else if (existing.isPresent()) {
                    throw new BuildException("cannot copy to non-directory: /" + d.value());
                } else {
                    entries.put(d, new LayerEntry.Directory(d, created()));
                }
                parent = d.parent();
            }
        }
    }

    /**
     * Warnings for dynamically linked ELF executables whose interpreter the image (with this layer) lacks:
     * the classic trap of {@code FROM scratch}. Only files with an execute bit are opened.
     */
    List<String> elfWarnings() {
        List<String> out = new ArrayList<>();
        int more = 0;
        for (LayerEntry e : entries.values()) {
            if (!(e instanceof LayerEntry.File f) || (f.attributes().mode().orElse(0) & 0111) == 0) {
                continue;
            }
            Optional<String> interp = Elf.interpreter(f.source());
            if (interp.isEmpty() || hasFile(interp.get())) {
                continue;
            }
            if (out.size() < 5) {
                out.add(f.path().absolute() + ": dynamically linked, needs " + interp.get() + ", which the image lacks");
            } else {
                more++;
            }
        }
        if (more > 0) {
            out.add("... and " + more + " more dynamically linked executables whose interpreter the image lacks");
        }
        return out;
    }

    /** Whether {@code path} exists in the image with this layer on top, symlinks followed. */
    private boolean hasFile(String path) {
        String r = ContextDir.resolve(path, true, p -> {
            LayerEntry e = entries.get(new LayerPath(p));
            if (e != null) {
                return e instanceof LayerEntry.Symlink s ? Optional.of(s.target()) : Optional.empty();
            }
            return image.lstat(p).filter(ImageFs.Node::isSymlink).map(ImageFs.Node::link);
        });
        if (r.isEmpty()) {
            return false;
        }
        LayerEntry e = entries.get(new LayerPath(r));
        if (e != null) {
            return !(e instanceof LayerEntry.Directory);
        }
        return image.lstat(r).map(n -> !n.isDirectory()).orElse(false);
    }

    static String parentOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }

    static String baseName(String path) {
        String c = ContextDir.clean(path);
        return c.substring(c.lastIndexOf('/') + 1);
    }

    /** The source for a context entry (a file, directory, symlink or FIFO), 0:0 and the layer's time. */
    static Source fromContext(ContextDir ctx, String rel, String relToTop, ContextDir.Stat st) throws IOException {
        int type = st.mode() & 0170000;
        Path file = ctx.file(rel);
        return switch (type) {
            case 0040000 -> new Source(relToTop, 'd', st.mode() & 07777, 0, 0, "", Optional.empty(), 0, 0, file);
            case 0120000 -> new Source(relToTop, 'l', 0777, 0, 0, Files.readSymbolicLink(file).toString(),
                    Optional.empty(), 0, 0, file);
            case 0100000 -> new Source(relToTop, 'f', st.mode() & 07777, 0, 0, "", Optional.empty(), 0, 0, file);
            case 0010000 -> new Source(relToTop, 'p', st.mode() & 07777, 0, 0, "", Optional.empty(), 0, 0, file);
            case 0020000, 0060000 -> {
                long rdev = (Long) Files.getAttribute(file, "unix:rdev", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                yield new Source(relToTop, type == 0020000 ? 'c' : 'b', st.mode() & 07777, 0, 0, "", Optional.empty(),
                        (int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfffL)),
                        (int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xffL)), file);
            }
            default -> null; // sockets have no place in an image
        };
    }

    /** The source for a node of a stage or an image: its owner and time kept. */
    static Source fromImage(ImageFs.Node n, String relToTop) {
        char type = n.type() == 'h' ? 'f' : n.type();
        return new Source(relToTop, type, n.mode(), n.uid(), n.gid(), n.link(), n.mtime(), n.major(), n.minor(), n);
    }
}
