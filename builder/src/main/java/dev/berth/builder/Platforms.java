package dev.berth.builder;

import dev.berth.layers.LayersException;
import dev.berth.layers.Platform;
import java.util.List;

/**
 * Platforms as a build takes them ({@code --platform}, {@code FROM --platform=}): {@code os/arch[/variant]}
 * with an os and architecture that Go and the OCI image spec name (BuildKit's {@code platforms.Parse} of
 * containerd checks the same), so a typo ({@code linux/arm65}) is an error, not an image no one can run.
 */
public final class Platforms {
    /** GOOS values (the image spec's os). */
    static final List<String> OS = List.of("linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris",
            "illumos", "aix", "android", "dragonfly", "plan9", "js", "wasip1", "ios", "zos");

    /** GOARCH values (the image spec's architecture). */
    static final List<String> ARCH = List.of("amd64", "arm64", "arm", "386", "riscv64", "ppc64le", "ppc64", "s390x",
            "mips", "mipsle", "mips64", "mips64le", "loong64", "wasm", "sparc64");

    private Platforms() {}

    /** Parses and checks one platform; errors start with {@code what} ({@code --platform linux/arm65}). */
    public static Platform parse(String text, String what) {
        Platform p;
        try {
            p = Platform.parse(text);
        } catch (LayersException e) {
            throw new BuildException(what + ": " + e.getMessage());
        }
        if (!text.contains("/") && OS.contains(p.architecture())) {
            throw new BuildException(what + ": invalid platform \"" + text + "\": expected os/arch[/variant]");
        }
        if (!OS.contains(p.os())) {
            throw new BuildException(what + ": unknown operating system \"" + p.os() + "\" in \"" + text + "\"");
        }
        if (!ARCH.contains(p.architecture())) {
            throw new BuildException(what + ": unknown architecture \"" + p.architecture() + "\" in \"" + text
                    + "\" (known: " + String.join(", ", ARCH) + ")");
        }
        return p;
    }
}
