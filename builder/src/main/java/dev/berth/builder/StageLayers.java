package dev.berth.builder;

import dev.berth.layers.Descriptor;
import dev.berth.layers.Digest;
import dev.berth.layers.GzipBlocks;
import dev.berth.layers.ImageConfig;
import dev.berth.layers.LayerEntry;
import dev.berth.layers.LayerPath;
import dev.berth.layers.LayerWriter;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the steps of one build add to their stages: layers (written here, or reused from a cache) and
 * history entries, each also appended to the build's recipe (what the image is a function of). History
 * entries carry {@link BuildRun#PENDING} as their time until the image is finished.
 */
final class StageLayers {
    private final BuildRun run;

    StageLayers(BuildRun run) {
        this.run = run;
    }

    /** A history entry for an instruction that adds no layer. */
    void history(StageState s, String createdBy) {
        s.config = s.config.withEmptyLayerHistory(ImageConfig.History.of(Optional.of(BuildRun.PENDING), createdBy,
                Optional.empty()));
    }

    /** Adds a layer (written by this build or reused from the cache) and its history entry. */
    void addLayer(StageState s, Descriptor blob, Digest diffId, Optional<List<ImageFs.Node>> known, String createdBy) {
        run.recipe().append("layer ").append(diffId).append(' ').append(blob.digest()).append(' ')
                .append(blob.mediaType()).append('\n');
        s.fs.addLayer(new ImageFs.Layer(blob, diffId, known));
        s.config = s.config.withLayer(diffId, ImageConfig.History.of(Optional.of(BuildRun.PENDING), createdBy,
                Optional.empty()));
    }

    /** Applies a cached result: its layer (if any) and its warnings. */
    void apply(StageState s, BuildCache.Result r, String createdBy) {
        r.warnings().forEach(run::warning);
        if (r.blob().isPresent()) {
            addLayer(s, r.blob().get(), r.diffId().orElseThrow(), Optional.empty(), createdBy);
        } else {
            history(s, createdBy);
        }
    }

    /** Writes entries as a layer into the store and adds it to the stage. */
    BuildCache.Result writeLayer(StageState s, Map<LayerPath, LayerEntry> entries, String createdBy, List<String> stepWarnings) {
        return writeLayer(s, entries, createdBy, stepWarnings, Optional.empty());
    }

    /**
     * As {@link #writeLayer(StageState, Map, String, List)}, for a step that made {@code previous} last time:
     * its gzip blocks that did not change are copied from it (the blob is the same as without), and the
     * new layer's block index is kept for the next time.
     */
    BuildCache.Result writeLayer(StageState s, Map<LayerPath, LayerEntry> entries, String createdBy,
                                 List<String> stepWarnings, Optional<Digest> previous) {
        LayerWriter writer = layerWriter(entries);
        LayerWriter.Result r;
        try {
            Optional<Digest> from = run.request().noCache() ? Optional.empty() : previous;
            r = writer.write(run.store(), run.request().compression(), false,
                    Optional.of(new GzipBlocks(run.cache().blockIndexes(), from)));
        } catch (IOException e) {
            throw new BuildException("writing the layer of " + createdBy + ": " + e.getMessage(), e);
        }
        addLayer(s, r.blob(), r.diffId(), Optional.of(ImageFs.nodesOf(entries.values(), run.layerTime())), createdBy);
        return new BuildCache.Result(Optional.of(r.diffId()), Optional.of(r.blob()), stepWarnings);
    }

    LayerWriter layerWriter(Map<LayerPath, LayerEntry> entries) {
        LayerWriter writer = LayerWriter.create(run.layerTime());
        entries.values().forEach(writer::add);
        return writer;
    }

    String compressionKey() {
        return run.request().compression().spec();
    }
}
