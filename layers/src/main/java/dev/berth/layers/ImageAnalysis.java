package dev.berth.layers;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Why an image is the size it is ({@code berth analyze}): each layer streamed once, top to bottom of the
 * stack, with only an index of paths kept (no file content), so memory grows with the number of paths, not
 * their bytes. What it finds is an {@link AnalysisReport}.
 *
 * <p>Wasted bytes are content a layer ships that the final image does not show: deleted by a whiteout or
 * an opaque directory above, or overwritten. Hard links are one content: it is wasted only once no path
 * shows it. dive's figures ({@link AnalysisReport.Dive}) are computed as dive computes them, so the two can
 * be compared on one image: per path, the sizes of its every occurrence as a leaf of a layer (a whiteout
 * counting what it deleted, when that was a directory), summed over paths that occur more than once.
 */
public final class ImageAnalysis {
    private static final int ELF_HEAD = 4096;
    /** Programs up to this size are read whole, one at a time, for the libraries they name. */
    private static final long ELF_WHOLE = 16 << 20;

    /** A path of the stacked view: who put it there, its size, the content it shows. */
    private record Node(int layer, long size, boolean dir, int content, Optional<String> link) {}

    /** One layer's entry, read before any of them is applied (whiteouts apply to the layers below). */
    private record Entry(String path, long size, boolean dir, boolean whiteout, boolean opaque, Optional<String> link,
                         Optional<String> hardlink) {}

    /** Content a layer shipped: its size, the path it came as, and how many visible paths show it. */
    private static final class Content {
        final int layer;
        final long size;
        final String path;
        int shownBy;

        Content(int layer, long size, String path) {
            this.layer = layer;
            this.size = size;
            this.path = path;
        }
    }

    /** dive's per-path figures: the sum and smallest of its occurrences' sizes, and their number. */
    private static final class DivePath {
        long cumulative;
        long min = -1;
        int count;
    }

    private final NavigableMap<String, Node> view = new TreeMap<>();
    private final List<Content> contents = new ArrayList<>();
    private final List<AnalysisReport.Waste> waste = new ArrayList<>();
    private final Map<String, DivePath> dive = new HashMap<>();
    private final Map<String, AnalysisReport.Binary> binaries = new HashMap<>();

    private ImageAnalysis() {}

    /** Analyses {@code image}, reading its layers from its blob source. */
    public static AnalysisReport analyze(Image image) throws IOException {
        ImageAnalysis a = new ImageAnalysis();
        List<ImageConfig.History> history = image.config().value().history().stream()
                .filter(h -> !h.emptyLayer().orElse(false)).toList();
        List<AnalysisReport.Layer> layers = new ArrayList<>();
        List<Descriptor> blobs = image.layers();
        for (int i = 0; i < blobs.size(); i++) {
            // a history that does not match the layers (a squashed image's) names none of them
            String by = history.size() == blobs.size() ? history.get(i).createdBy().orElse("") : "";
            try (Counting counted = new Counting(Compression.decompress(image.blobs().open(blobs.get(i))))) {
                layers.add(a.layer(i, by, blobs.get(i), counted));
            } catch (IOException e) {
                throw new IOException("layer " + (i + 1) + " (" + blobs.get(i).digest() + "): " + e.getMessage(), e);
            }
        }
        return a.report(image, layers);
    }

    private AnalysisReport.Layer layer(int index, String by, Descriptor blob, Counting in) throws IOException {
        TarArchiveInputStream tar = new LayerTarInput(in);
        List<Entry> entries = new ArrayList<>();
        Map<String, AnalysisReport.Binary> found = new HashMap<>();
        for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
            String path = clean(e.getName());
            if (path.isEmpty()) {
                continue;
            }
            String name = path.substring(path.lastIndexOf('/') + 1);
            String parent = path.contains("/") ? path.substring(0, path.lastIndexOf('/')) : "";
            if (name.equals(".wh..wh..opq")) {
                entries.add(new Entry(parent, 0, true, false, true, Optional.empty(), Optional.empty()));
            } else if (name.startsWith(".wh.")) {
                String gone = (parent.isEmpty() ? "" : parent + "/") + name.substring(4);
                entries.add(new Entry(gone, 0, false, true, false, Optional.empty(), Optional.empty()));
            } else {
                boolean file = e.isFile() && !e.isLink();
                entries.add(new Entry(path, file ? e.getSize() : 0, e.isDirectory(), false, false,
                        e.isSymbolicLink() ? Optional.of(e.getLinkName()) : Optional.empty(),
                        e.isLink() ? Optional.of(clean(e.getLinkName())) : Optional.empty()));
                if (file && e.getSize() >= 64) {
                    byte[] head = tar.readNBytes(ELF_HEAD);
                    if (Elf.isElf(head) && e.getSize() <= ELF_WHOLE) { // its dynamic section is further in
                        byte[] rest = tar.readNBytes((int) e.getSize() - head.length);
                        byte[] whole = java.util.Arrays.copyOf(head, head.length + rest.length);
                        System.arraycopy(rest, 0, whole, head.length, rest.length);
                        head = whole;
                    }
                    Elf.sniff(path, e.getSize(), e.getMode(), head).ifPresent(b -> found.put(path, b));
                }
            }
        }
        int[] counts = new int[3]; // added, changed, removed
        long addedBytes = 0;
        diveLeaves(entries);
        for (Entry e : entries) { // the layers below first lose what this one deletes
            if (e.whiteout()) {
                counts[2] += remove(e.path(), true, index, "deleted");
            } else if (e.opaque()) {
                counts[2] += remove(e.path(), false, index, "deleted (opaque directory)");
            }
        }
        Map<String, Integer> shipped = new HashMap<>();
        for (Entry e : entries) {
            if (e.whiteout() || e.opaque()) {
                continue;
            }
            Node old = view.get(e.path());
            if (old != null && !(old.dir() && e.dir())) {
                remove(e.path(), true, index, "overwritten");
            }
            if (e.dir() && old != null && old.dir()) {
                view.put(e.path(), new Node(index, 0, true, -1, Optional.empty()));
                continue; // a directory's metadata: nothing shipped twice
            }
            counts[old == null ? 0 : 1]++;
            int content = -1;
            if (e.hardlink().isPresent()) {
                Integer same = shipped.get(e.hardlink().get());
                Node target = view.get(e.hardlink().get());
                content = same != null ? same : target != null ? target.content() : -1;
            } else if (!e.dir() && e.link().isEmpty()) {
                content = contents.size();
                contents.add(new Content(index, e.size(), e.path()));
                shipped.put(e.path(), content);
                addedBytes += e.size();
            }
            if (content >= 0) {
                contents.get(content).shownBy++;
            }
            long size = content >= 0 ? contents.get(content).size : 0;
            view.put(e.path(), new Node(index, size, e.dir(), content, e.link()));
        }
        binaries.putAll(found);
        in.drain();
        return new AnalysisReport.Layer(index + 1, by, blob.digest().toString(), blob.size(), in.count(), counts[0],
                counts[1], counts[2], addedBytes);
    }

    /**
     * Removes {@code path} (itself when {@code self}, else only what is below it) from the view; what it
     * showed, when nothing else shows it, is waste hidden by {@code layer}. Returns the paths removed.
     */
    private int remove(String path, boolean self, int layer, String how) {
        List<String> gone = new ArrayList<>(below(path).keySet());
        if (self && view.containsKey(path)) {
            gone.add(path);
        }
        for (String p : gone) {
            Node n = view.remove(p);
            if (n.content() >= 0) {
                Content c = contents.get(n.content());
                if (--c.shownBy == 0 && c.size > 0) {
                    waste.add(new AnalysisReport.Waste("/" + c.path, c.size, c.layer + 1, layer + 1, how));
                }
            }
            binaries.remove(p);
        }
        return gone.size();
    }

    /** The paths below {@code path} in the view ("/" sorts just before "0"). */
    private NavigableMap<String, Node> below(String path) {
        return path.isEmpty() ? view : view.subMap(path + "/", true, path + "0", false);
    }

    /** A tar name or a path as the view keys it (a {@code ..} at the root stays there). */
    static String clean(String name) {
        return LayerPath.clamped(name).value();
    }

    /** dive's figures for this layer's leaves: entries no other entry of the layer is below. */
    private void diveLeaves(List<Entry> entries) {
        List<Entry> sorted = entries.stream().filter(e -> !e.opaque())
                .sorted(Comparator.comparing(Entry::path)).toList();
        for (int i = 0; i < sorted.size(); i++) {
            Entry e = sorted.get(i);
            boolean leaf = i + 1 == sorted.size() || !sorted.get(i + 1).path().startsWith(e.path() + "/");
            if (!leaf) {
                continue;
            }
            long size = e.size();
            if (e.whiteout()) {
                Node was = view.get(e.path());
                size = 0;
                if (was != null && was.dir()) {
                    for (Node n : below(e.path()).values()) {
                        size += n.size();
                    }
                }
            }
            DivePath d = dive.computeIfAbsent(e.path(), k -> new DivePath());
            d.cumulative += size;
            d.min = d.min < 0 ? size : Math.min(d.min, size);
            d.count++;
        }
    }

    private AnalysisReport report(Image image, List<AnalysisReport.Layer> layers) {
        long compressed = layers.stream().mapToLong(AnalysisReport.Layer::compressed).sum();
        long uncompressed = layers.stream().mapToLong(AnalysisReport.Layer::uncompressed).sum();
        long shown = 0;
        List<AnalysisReport.Item> files = new ArrayList<>();
        Map<String, Long> dirs = new HashMap<>();
        for (Map.Entry<String, Node> e : view.entrySet()) {
            Node n = e.getValue();
            if (n.dir() || n.size() == 0) {
                continue;
            }
            shown += n.size();
            files.add(new AnalysisReport.Item("/" + e.getKey(), n.size()));
            String p = e.getKey();
            for (int slash = p.indexOf('/'), depth = 1; slash > 0 && depth <= 3; slash = p.indexOf('/', slash + 1), depth++) {
                dirs.merge("/" + p.substring(0, slash), n.size(), Long::sum);
            }
        }
        Comparator<AnalysisReport.Item> bySize = Comparator.comparingLong(AnalysisReport.Item::bytes).reversed()
                .thenComparing(AnalysisReport.Item::path);
        List<AnalysisReport.Item> largest = files.stream().sorted(bySize).limit(10).toList();
        List<AnalysisReport.Item> largestDirs = dirs.entrySet().stream()
                .map(e -> new AnalysisReport.Item(e.getKey(), e.getValue())).sorted(bySize).limit(10).toList();
        long wasted = waste.stream().mapToLong(AnalysisReport.Waste::bytes).sum();
        List<AnalysisReport.Waste> w = waste.stream().sorted(Comparator.comparingLong(AnalysisReport.Waste::bytes)
                .reversed().thenComparing(AnalysisReport.Waste::path)).toList();
        long cumulative = 0;
        long minimum = 0;
        long diveWasted = 0;
        for (DivePath d : dive.values()) {
            cumulative += d.cumulative;
            minimum += d.min;
            if (d.count > 1) {
                diveWasted += d.cumulative;
            }
        }
        double efficiency = cumulative == 0 ? 1.0 : (double) minimum / cumulative;
        List<AnalysisReport.Finding> findings = Habits.find(view.entrySet().stream()
                .filter(e -> !e.getValue().dir())
                .map(e -> new Habits.Shown("/" + e.getKey(), e.getValue().size(), e.getValue().layer() + 1)).toList());
        List<AnalysisReport.Binary> bins = binaries.values().stream()
                .sorted(Comparator.comparing(AnalysisReport.Binary::path)).toList();
        Optional<String> scratch = Habits.scratch(image.config().value().containerConfig(), bins, this::resolve, shown);
        return new AnalysisReport(image.digest().toString(), layers, compressed, uncompressed, shown, wasted, w,
                new AnalysisReport.Dive(efficiency, diveWasted), largest, largestDirs, findings, bins, scratch);
    }

    /** A path of the final view with its symlinks followed (inside the image), if it is there. */
    private Optional<String> resolve(String path) {
        String p = clean(path);
        for (int i = 0; i < 40; i++) {
            Node n = view.get(p);
            if (n == null) {
                return Optional.empty();
            }
            if (n.link().isEmpty()) {
                return Optional.of("/" + p);
            }
            String t = n.link().get();
            String parent = p.contains("/") ? p.substring(0, p.lastIndexOf('/')) : "";
            p = clean(t.startsWith("/") ? t : parent + "/" + t);
        }
        return Optional.empty();
    }

    /** Counts what is read through it, and reads to the end (the tar's padding) when drained. */
    private static final class Counting extends FilterInputStream {
        private long count;

        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = super.skip(n);
            count += s;
            return s;
        }

        void drain() throws IOException {
            byte[] buf = new byte[8192];
            while (read(buf, 0, buf.length) >= 0) {
                // the end of the tar and what a layer has after it
            }
        }

        long count() {
            return count;
        }
    }
}
