package dev.berth.layers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where berth keeps its data: {@code $BERTH_HOME}, by default {@code $XDG_DATA_HOME/berth}
 * ({@code ~/.local/share/berth}) and {@code /var/lib/berth} for root.
 *
 * <ul>
 *   <li>{@code store/}: an OCI image layout holding every image;
 *   <li>{@code snapshots/}: one extracted directory per layer diff_id;
 *   <li>{@code containers/}: per-container state;
 *   <li>{@code cache/}: the build cache index;
 *   <li>{@code tmp/}: temporary files, on the same filesystem so that finished files are renamed into place.
 * </ul>
 */
public record BerthHome(Path root) {

    public BerthHome {
        root = root.toAbsolutePath().normalize();
    }

    /**
     * The home named by the environment (see the class comment). A program that embeds berth may set the
     * system property {@code berth.home} instead, which wins.
     */
    public static BerthHome fromEnvironment() {
        String property = System.getProperty("berth.home");
        if (property != null && !property.isBlank()) {
            return new BerthHome(Path.of(property));
        }
        return fromEnvironment(System.getenv());
    }

    static BerthHome fromEnvironment(Map<String, String> env) {
        String explicit = env.get("BERTH_HOME");
        if (explicit != null && !explicit.isBlank()) {
            return new BerthHome(Path.of(explicit));
        }
        if (isRoot()) {
            return new BerthHome(Path.of("/var/lib/berth"));
        }
        String xdg = env.get("XDG_DATA_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            return new BerthHome(Path.of(xdg, "berth"));
        }
        return new BerthHome(Path.of(System.getProperty("user.home"), ".local", "share", "berth"));
    }

    /** Whether this process runs as uid 0. */
    public static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    public Path store() {
        return root.resolve("store");
    }

    public Path snapshots() {
        return root.resolve("snapshots");
    }

    public Path containers() {
        return root.resolve("containers");
    }

    public Path cache() {
        return root.resolve("cache");
    }

    public Path tmp() {
        return root.resolve("tmp");
    }

    /** Opens (creating when missing) the image store, with temporary files under {@link #tmp()}. */
    public ImageStore openStore() {
        try {
            Files.createDirectories(tmp());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ImageStore.open(store(), tmp());
    }
}
