package dev.berth.runtime;

import java.util.List;

/** Absolute paths inside a container: normalised, {@code /}-separated, with no {@code .} or {@code ..}. */
final class ContainerPaths {
    private ContainerPaths() {}

    /** Normalises an absolute container path; {@code what} names it in errors. */
    static String normalize(String path, String what) {
        if (!path.startsWith("/")) {
            throw new ContainerException(what + " \"" + path + "\" must be an absolute path");
        }
        if (path.indexOf('\0') >= 0) {
            throw new ContainerException(what + " contains a NUL byte");
        }
        return "/" + dev.berth.layers.LayerPath.clamped(path).value();
    }

    /** The components of a normalised path ({@code /} has none). */
    static List<String> components(String normalized) {
        return normalized.equals("/") ? List.of() : List.of(normalized.substring(1).split("/"));
    }

    /** Whether {@code path} is {@code dir} or inside it. */
    static boolean isUnder(String path, String dir) {
        return path.equals(dir) || dir.equals("/") || path.startsWith(dir + "/");
    }
}
