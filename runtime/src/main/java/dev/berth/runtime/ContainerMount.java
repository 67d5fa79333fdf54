package dev.berth.runtime;

import dev.berth.layers.BlobSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A mount a caller adds to a container beyond {@code -v} volumes: what a build's {@code RUN --mount} needs.
 * Targets are absolute container paths, resolved inside the container's root when it starts. Whatever a
 * mount brings lives outside the container's upper directory, so none of it ends up in a layer made from
 * that directory; the mount points the runtime had to create are removed from it too.
 */
public sealed interface ContainerMount {
    /** The absolute container path it is mounted on. */
    String target();

    /** A host file or directory, bound as it is (a socket or a file of secrets as well as a directory). */
    record Bind(String target, Path source, boolean readOnly) implements ContainerMount {
        public Bind {
            target = ContainerPaths.normalize(target, "mount target");
            Objects.requireNonNull(source, "source");
        }
    }

    /** A fresh tmpfs, of at most {@code size} bytes when given. */
    record Tmpfs(String target, OptionalLong size) implements ContainerMount {
        public Tmpfs {
            target = ContainerPaths.normalize(target, "mount target");
            Objects.requireNonNull(size, "size");
        }
    }

    /**
     * The directory or file {@code path} of the merged tree of image layers (base first), read-only, or
     * writable with the writes thrown away when the container ends.
     */
    record Layers(String target, List<ContainerImage.Layer> layers, BlobSource blobs, String path, boolean writable)
            implements ContainerMount {
        public Layers {
            target = ContainerPaths.normalize(target, "mount target");
            layers = List.copyOf(layers);
            Objects.requireNonNull(blobs, "blobs");
            path = ContainerPaths.normalize(path, "mount source");
        }
    }

    /**
     * A host directory without the entries {@code hidden} names (paths relative to it, e.g. what a
     * {@code .dockerignore} excludes), read-only, or writable with the writes thrown away: the directory
     * itself is never written.
     */
    record Directory(String target, Path source, List<String> hidden, boolean writable) implements ContainerMount {
        public Directory {
            target = ContainerPaths.normalize(target, "mount target");
            Objects.requireNonNull(source, "source");
            hidden = List.copyOf(hidden);
        }
    }
}
