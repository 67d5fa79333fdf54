package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.LayerEntry.Attributes;
import dev.berth.layers.testing.TestImages;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The figures of {@link ImageAnalysis} on images whose waste is known by construction, against values
 * worked out by hand from berth's definition and from dive's (see {@code dive/filetree/efficiency.go}).
 */
class ImageAnalysisTest {
    @TempDir
    Path dir;

    private static LayerEntry file(String path, int bytes) {
        return new LayerEntry.Content(LayerPath.of(path), new byte[bytes], Attributes.DEFAULT.withMode(0644));
    }

    private static LayerEntry dir(String path) {
        return new LayerEntry.Directory(LayerPath.of(path), Attributes.DEFAULT.withMode(0755));
    }

    private AnalysisReport analyze(List<LayerWriter> layers, ContainerConfig config) throws Exception {
        try (ImageStore store = ImageStore.open(dir.resolve("store"), dir.resolve("tmp"))) {
            java.nio.file.Files.createDirectories(dir.resolve("tmp"));
            Descriptor d = TestImages.store(store, "waste:1", layers, config);
            return ImageAnalysis.analyze(store.image(d, Platform.parse("linux/amd64"), "waste:1"));
        }
    }

    @Test
    void addedThenDeletedOverwrittenOpaqueAndHardlinked() throws Exception {
        LayerWriter base = LayerWriter.create().add(dir("a")).add(file("a/gone", 1000)).add(file("a/over", 300))
                .add(dir("d")).add(file("d/x", 50)).add(file("d/y", 70)).add(file("keep", 10))
                .add(file("h/one", 400)).add(new LayerEntry.Hardlink(LayerPath.of("h/two"), LayerPath.of("h/one"),
                        Attributes.DEFAULT.withMode(0644)));
        LayerWriter top = LayerWriter.create()
                .add(new LayerEntry.Whiteout(LayerPath.of("a/gone")))        // 1000 wasted
                .add(file("a/over", 200))                                     // 300 wasted
                .add(new LayerEntry.OpaqueWhiteout(LayerPath.of("d")))        // 50 + 70 wasted
                .add(file("d/z", 5))
                .add(new LayerEntry.Whiteout(LayerPath.of("h/one")));         // still shown by h/two: none
        AnalysisReport r = analyze(List.of(base, top), ContainerConfig.EMPTY);
        assertThat(r.wasted()).isEqualTo(1000 + 300 + 50 + 70);
        assertThat(r.waste()).containsExactly(
                new AnalysisReport.Waste("/a/gone", 1000, 1, 2, "deleted"),
                new AnalysisReport.Waste("/a/over", 300, 1, 2, "overwritten"),
                new AnalysisReport.Waste("/d/y", 70, 1, 2, "deleted (opaque directory)"),
                new AnalysisReport.Waste("/d/x", 50, 1, 2, "deleted (opaque directory)"));
        assertThat(r.content()).isEqualTo(200 + 5 + 10 + 400);
        AnalysisReport.Layer l2 = r.layers().get(1);
        assertThat(l2.number()).isEqualTo(2);
        assertThat(l2.removed()).as("a/gone, d/x, d/y, h/one").isEqualTo(4);
        assertThat(l2.changed()).as("a/over").isEqualTo(1);
        assertThat(l2.added()).as("d/z").isEqualTo(1);
        assertThat(l2.createdBy()).isEqualTo("layer 1");
        // dive: paths seen as leaves in both layers: a/gone (1000 + 0), a/over (300 + 200), h/one (400 + 0);
        // the opaque marker is not a path of its own.
        assertThat(r.dive().wastedBytes()).isEqualTo(1000 + 500 + 400);
        // a/gone, a/over, d/x, d/y, keep, h/one, h/two (a link entry: 0 bytes), d/z
        long cumulative = (1000 + 0) + (300 + 200) + 50 + 70 + 10 + (400 + 0) + 0 + 5;
        long minimum = 0 + 200 + 50 + 70 + 10 + 0 + 0 + 5;
        assertThat(r.dive().efficiency()).isCloseTo((double) minimum / cumulative, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(r.largestFiles().getFirst()).isEqualTo(new AnalysisReport.Item("/h/two", 400));
    }

    @Test
    void aDeletedDirectoryIsWastedWholeAndCountedForDiveAsWhatItHeld() throws Exception {
        LayerWriter base = LayerWriter.create().add(dir("cache")).add(file("cache/1", 100)).add(file("cache/2", 200));
        LayerWriter top = LayerWriter.create().add(new LayerEntry.Whiteout(LayerPath.of("cache")));
        AnalysisReport r = analyze(List.of(base, top), ContainerConfig.EMPTY);
        assertThat(r.wasted()).isEqualTo(300);
        assertThat(r.content()).isZero();
        // dive: "cache" is a leaf of layer 2 only (a whiteout of a directory: 300); cache/1, cache/2 once each
        assertThat(r.dive().wastedBytes()).isZero();
        assertThat(r.dive().efficiency()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void cachesToolchainsAndAStaticProgram() throws Exception {
        byte[] elf = new byte[200];
        elf[0] = 0x7f;
        elf[1] = 'E';
        elf[2] = 'L';
        elf[3] = 'F';
        elf[4] = 2; // 64-bit
        elf[5] = 1; // little-endian
        elf[16] = 2; // ET_EXEC
        LayerWriter l = LayerWriter.create().add(dir("var")).add(dir("var/lib")).add(dir("var/lib/apt"))
                .add(dir("var/lib/apt/lists")).add(file("var/lib/apt/lists/deb.debian.org_Packages", 5000))
                .add(dir("app")).add(new LayerEntry.Content(LayerPath.of("app/server"), elf,
                        Attributes.DEFAULT.withMode(0755)));
        ContainerConfig.Builder c = ContainerConfig.EMPTY.toBuilder();
        c.entrypoint = Optional.of(List.of("/app/server"));
        AnalysisReport r = analyze(List.of(l), c.build());
        assertThat(r.findings()).singleElement().satisfies(f -> {
            assertThat(f.layers()).containsExactly(1);
            assertThat(f.path()).isEqualTo("/var/lib/apt/lists");
            assertThat(f.bytes()).isEqualTo(5000);
            assertThat(f.advice()).contains("--mount=type=cache");
        });
        assertThat(r.binaries()).containsExactly(new AnalysisReport.Binary("/app/server", 200, true, Optional.empty(), List.of()));
        assertThat(r.scratch()).hasValueSatisfying(s -> assertThat(s).contains("/app/server is statically linked")
                .contains("FROM scratch"));
    }
}
