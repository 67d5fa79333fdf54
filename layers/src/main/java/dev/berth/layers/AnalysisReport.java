package dev.berth.layers;

import java.util.List;
import java.util.Optional;

/**
 * What {@link ImageAnalysis} found in an image: its layers, its sizes, what it ships and does not show
 * (wasted), dive's figures for the same image, its largest files and directories, caches and toolchains
 * left in it, its ELF programs and whether it is one static binary away from {@code FROM scratch}.
 *
 * @param compressed   the layers' blobs, as a registry stores them
 * @param uncompressed the layers' tars
 * @param content      the bytes of the files the final image shows
 * @param wasted       bytes a layer ships that the final image does not show
 */
public record AnalysisReport(String image, List<Layer> layers, long compressed, long uncompressed, long content,
                             long wasted, List<Waste> waste, Dive dive, List<Item> largestFiles,
                             List<Item> largestDirectories, List<Finding> findings, List<Binary> binaries,
                             Optional<String> scratch) {

    /** A layer: its number (1 is the lowest), the instruction that made it (history), sizes, its changes. */
    public record Layer(int number, String createdBy, String digest, long compressed, long uncompressed, int added,
                        int changed, int removed, long addedBytes) {}

    /** Content {@code layer} ships as {@code path} that {@code hiddenBy} deletes or overwrites. */
    public record Waste(String path, long bytes, int layer, int hiddenBy, String how) {}

    /** dive's efficiency score (1.0: nothing wasted) and its "potential wasted space". */
    public record Dive(double efficiency, long wastedBytes) {}

    /** A path and its bytes. */
    public record Item(String path, long bytes) {}

    /**
     * A cache or toolchain in the final image, its bytes, the layers its files come from (1: the lowest; a
     * base image's layers are the image's too), and the Dockerfile habit that avoids it.
     */
    public record Finding(String path, long bytes, List<Integer> layers, String what, String advice) {}

    /**
     * An ELF program: static, or the dynamic linker it needs and the libraries it names ({@code DT_NEEDED};
     * read for programs up to 16 MB, empty beyond).
     */
    public record Binary(String path, long bytes, boolean staticallyLinked, Optional<String> interpreter,
                         List<String> libraries) {}
}
