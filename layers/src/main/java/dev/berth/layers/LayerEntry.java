package dev.berth.layers;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One entry of a layer being written. Ownership defaults to 0:0 and the time to the layer's fixed time;
 * a mode given here wins over the mode on disk.
 */
public sealed interface LayerEntry {

    LayerPath path();

    Attributes attributes();

    /** Mode (permission bits with setuid/setgid/sticky), owner, time and extended attributes. */
    record Attributes(OptionalInt mode, int uid, int gid, Optional<Instant> mtime, Map<String, String> xattrs) {
        public static final Attributes DEFAULT =
                new Attributes(OptionalInt.empty(), 0, 0, Optional.empty(), Map.of());

        public Attributes {
            if (mode.isPresent() && (mode.getAsInt() & ~07777) != 0) {
                throw new LayersException("invalid mode " + Integer.toOctalString(mode.getAsInt()));
            }
            if (uid < 0 || gid < 0) {
                throw new LayersException("invalid owner " + uid + ":" + gid);
            }
            xattrs = Map.copyOf(xattrs);
        }

        public static Attributes of(int mode, int uid, int gid) {
            return new Attributes(OptionalInt.of(mode), uid, gid, Optional.empty(), Map.of());
        }

        public Attributes withMode(int newMode) {
            return new Attributes(OptionalInt.of(newMode), uid, gid, mtime, xattrs);
        }

        public Attributes withOwner(int newUid, int newGid) {
            return new Attributes(mode, newUid, newGid, mtime, xattrs);
        }
    }

    /** A regular file whose bytes are read from {@code source} when the layer is written. */
    record File(LayerPath path, Path source, Attributes attributes) implements LayerEntry {}

    /** A regular file with the given bytes. */
    record Content(LayerPath path, byte[] bytes, Attributes attributes) implements LayerEntry {}

    record Directory(LayerPath path, Attributes attributes) implements LayerEntry {}

    record Symlink(LayerPath path, String target, Attributes attributes) implements LayerEntry {}

    /** A hard link to another regular file entry of the same layer. */
    record Hardlink(LayerPath path, LayerPath target, Attributes attributes) implements LayerEntry {}

    /** A FIFO or a device node. */
    record Special(LayerPath path, Kind kind, int major, int minor, Attributes attributes) implements LayerEntry {
        public enum Kind { FIFO, CHAR_DEVICE, BLOCK_DEVICE }
    }

    /** Deletes {@code path} from the layers below: written as {@code .wh.<name>}. */
    record Whiteout(LayerPath path) implements LayerEntry {
        @Override
        public Attributes attributes() {
            return Attributes.DEFAULT;
        }
    }

    /** Hides everything the layers below have in directory {@code path}: written as {@code path/.wh..wh..opq}. */
    record OpaqueWhiteout(LayerPath path) implements LayerEntry {
        @Override
        public Attributes attributes() {
            return Attributes.DEFAULT;
        }
    }
}
