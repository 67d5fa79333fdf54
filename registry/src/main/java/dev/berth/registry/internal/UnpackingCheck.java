package dev.berth.registry.internal;

import dev.berth.layers.Descriptor;
import dev.berth.layers.LayerCheck;
import dev.berth.registry.LayerUnpacker;
import java.io.IOException;
import java.io.InputStream;

/**
 * A layer's check beside its download that also unpacks it ({@link LayerUnpacker}): the unpacker reads the
 * blob once for both. When the unpacker fails, the layer's own check ({@link LayerCheck}) decides, on the
 * whole blob once it has downloaded, and the layer is not unpacked. Used by one download at a time.
 */
final class UnpackingCheck implements BlobDownloader.Check {
    private final LayerUnpacker unpacker;
    private final Descriptor layer;
    private final String what;
    private LayerUnpacker.Unpacked unpacked;
    private boolean checkOnly;

    UnpackingCheck(LayerUnpacker unpacker, Descriptor layer, String what) {
        this.unpacker = unpacker;
        this.layer = layer;
        this.what = what;
    }

    @Override
    public void check(InputStream blob) throws IOException {
        discard();
        if (checkOnly) {
            LayerCheck.check(blob, what);
            return;
        }
        try {
            unpacked = unpacker.unpack(layer, blob);
        } catch (IOException | RuntimeException failed) {
            for (Throwable t = failed; t != null; t = t.getCause()) {
                if (t instanceof GrowingFile.Restarted restarted) {
                    throw restarted; // called again from the start
                }
            }
            checkOnly = true;
            throw new BlobDownloader.Check.Again(failed);
        }
    }

    /** The blob is stored: what was unpacked is kept. */
    void keep() {
        if (unpacked != null) {
            unpacked.keep();
            unpacked = null;
        }
    }

    /** The download failed (or starts over): what was unpacked goes. */
    void discard() {
        if (unpacked != null) {
            unpacked.discard();
            unpacked = null;
        }
    }
}
