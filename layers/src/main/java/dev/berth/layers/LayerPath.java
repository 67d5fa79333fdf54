package dev.berth.layers;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A path inside a layer: relative, {@code /}-separated, no {@code .} or {@code ..} components, no empty
 * components, no trailing slash. {@code ""} is the layer's root. Values are always normalised, so two
 * equal paths are equal strings.
 */
public record LayerPath(String value) implements Comparable<LayerPath> {
    public static final LayerPath ROOT = new LayerPath("");

    public LayerPath {
        if (!value.isEmpty()) {
            for (String c : value.split("/", -1)) {
                if (c.isEmpty() || c.equals(".") || c.equals("..")) {
                    throw new LayersException("invalid layer path \"" + value + "\"");
                }
            }
        }
        if (value.indexOf('\0') >= 0) {
            throw new LayersException("invalid layer path with a NUL byte");
        }
    }

    /**
     * Normalises a path as found in a tar entry or given by a user: leading {@code /} and {@code ./}
     * are dropped, {@code .} components and repeated slashes removed. A {@code ..} that would leave the
     * root is an error naming the path.
     */
    public static LayerPath of(String path) {
        List<String> out = new ArrayList<>();
        for (String c : path.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (out.isEmpty()) {
                    throw new LayersException("path \"" + path + "\" leaves the layer's root");
                }
                out.removeLast();
            } else {
                out.add(c);
            }
        }
        return new LayerPath(String.join("/", out));
    }

    public boolean isRoot() {
        return value.isEmpty();
    }

    public Optional<LayerPath> parent() {
        if (value.isEmpty()) {
            return Optional.empty();
        }
        int slash = value.lastIndexOf('/');
        return Optional.of(slash < 0 ? ROOT : new LayerPath(value.substring(0, slash)));
    }

    public String name() {
        return value.substring(value.lastIndexOf('/') + 1);
    }

    public LayerPath resolve(String child) {
        LayerPath c = LayerPath.of(child);
        if (c.isRoot()) {
            return this;
        }
        return new LayerPath(value.isEmpty() ? c.value : value + "/" + c.value);
    }

    /** Whether {@code other} is this path or below it. */
    public boolean contains(LayerPath other) {
        return value.isEmpty() || other.value.equals(value) || other.value.startsWith(value + "/");
    }

    /** The path as an absolute path in the image, {@code /a/b}. */
    public String absolute() {
        return "/" + value;
    }

    @Override
    public int compareTo(LayerPath o) {
        return value.compareTo(o.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
