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
        if (value.indexOf('\0') >= 0) {
            throw new LayersException("invalid layer path with a NUL byte");
        }
        if (!isNormal(value)) {
            throw new LayersException("invalid layer path \"" + value + "\"");
        }
    }

    /**
     * Whether a path is already in normal form: empty, or components separated by single slashes, none of
     * them {@code .} or {@code ..}. One pass over the characters (layers of trees make many paths).
     */
    private static boolean isNormal(String path) {
        int n = path.length();
        int start = 0;
        for (int i = 0; i <= n; i++) {
            if (i == n || path.charAt(i) == '/') {
                int len = i - start;
                if (n > 0 && (len == 0 || len == 1 && path.charAt(start) == '.'
                        || len == 2 && path.charAt(start) == '.' && path.charAt(start + 1) == '.')) {
                    return false;
                }
                start = i + 1;
            }
        }
        return true;
    }

    /**
     * Normalises a path as found in a tar entry or given by a user: leading {@code /} and {@code ./}
     * are dropped, {@code .} components and repeated slashes removed. A {@code ..} that would leave the
     * root is an error naming the path.
     */
    public static LayerPath of(String path) {
        return within(path).orElseThrow(() -> new LayersException("path \"" + path + "\" leaves the layer's root"));
    }

    /** The path normalised as by {@link #of}, or empty when a {@code ..} would leave the root. */
    public static Optional<LayerPath> within(String path) {
        return Optional.ofNullable(normalise(path, false));
    }

    /**
     * The path normalised as a file system does below its root ({@code filepath.Join("/", p)}): as
     * {@link #of}, except that a {@code ..} at the root stays at the root.
     */
    public static LayerPath clamped(String path) {
        return normalise(path, true);
    }

    /** The normal form of {@code path}; null when a {@code ..} leaves the root and {@code clamp} is false. */
    private static LayerPath normalise(String path, boolean clamp) {
        if (isNormal(path) && path.indexOf('\0') < 0) {
            return new LayerPath(path);
        }
        List<String> out = new ArrayList<>();
        for (String c : path.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (out.isEmpty()) {
                    if (clamp) {
                        continue;
                    }
                    return null;
                }
                out.removeLast();
            } else {
                out.add(c);
            }
        }
        return new LayerPath(String.join("/", out));
    }

    /** The components of the path, root first ({@code []} for the root). */
    public List<String> components() {
        return value.isEmpty() ? List.of() : List.of(value.split("/"));
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

    // equals and hashCode are written out: a record's generated ones are bootstrapped through
    // invokedynamic on first use, which costs a cold JVM milliseconds the start-up cache does not save.
    @Override
    public boolean equals(Object o) {
        return o instanceof LayerPath p && p.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
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
