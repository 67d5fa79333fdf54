package dev.berth.registry;

import dev.berth.layers.Descriptor;
import java.io.IOException;
import java.io.InputStream;

/**
 * A port: what a pull does with each layer it downloads besides storing it. The cli wires the runtime's
 * snapshots here, so that a pulled image runs without extracting its layers first: one decompression of
 * each layer, beside its download, does both the layer's check and its extraction.
 *
 * <p>Contract: {@link #unpack} reads the layer's blob, as the registry serves it, to its end (the pull's
 * thread still verifies the blob's digest from the bytes it writes). It may refuse the layer by throwing;
 * the pull then checks the layer itself ({@link dev.berth.layers.LayerCheck}) and fails only if that check
 * refuses it too, so an unpacker's own trouble (a full disk, say) costs the unpacking, never the pull. It
 * may be called again for the same layer, from the start, when a download starts over; the pull discards
 * what an earlier call returned. Calls for different layers run at once.
 */
@FunctionalInterface
public interface LayerUnpacker {
    Unpacked unpack(Descriptor layer, InputStream blob) throws IOException;

    /**
     * A layer unpacked aside, not yet where anything reads it: {@link #keep} once its blob is verified and
     * stored, {@link #discard} otherwise. Neither throws; each is called at most once.
     */
    interface Unpacked {
        void keep();

        void discard();
    }
}
