package dev.berth.runtime;

import dev.berth.layers.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether this machine runs programs of another architecture: QEMU user emulation registered with the
 * kernel's binfmt_misc, as qemu-user-static and binfmt-support register it. The handler needs the F
 * ("fix binary") flag: the kernel then opens the interpreter when it is registered, so it works inside a
 * container's root, where {@code /usr/libexec/qemu-binfmt/...} does not exist. Nothing else is needed:
 * the container's process is exec'd as on the host and the kernel hands it to QEMU.
 */
public final class Emulation {
    private static final Path BINFMT = Path.of("/proc/sys/fs/binfmt_misc");

    /** OCI architecture names to QEMU's (and binfmt handler names, {@code qemu-NAME}). */
    private static final Map<String, String> QEMU = Map.ofEntries(Map.entry("amd64", "x86_64"),
            Map.entry("386", "i386"), Map.entry("arm64", "aarch64"), Map.entry("arm", "arm"),
            Map.entry("riscv64", "riscv64"), Map.entry("ppc64le", "ppc64le"), Map.entry("s390x", "s390x"),
            Map.entry("mips64le", "mips64el"), Map.entry("mips64", "mips64"), Map.entry("mipsle", "mipsel"),
            Map.entry("mips", "mips"), Map.entry("loong64", "loongarch64"));

    /** Architectures a host runs natively besides its own (a 64-bit x86 kernel runs 32-bit x86 programs). */
    private static final Map<String, List<String>> NATIVE = Map.of("amd64", List.of("386"));

    private Emulation() {}

    /** Whether programs for {@code platform} run on this machine without emulation. */
    public static boolean isNative(Platform platform) {
        return isNative(platform, Platform.host());
    }

    private static boolean isNative(Platform platform, Platform hostPlatform) {
        String host = hostPlatform.architecture();
        return platform.architecture().equals(host) || NATIVE.getOrDefault(host, List.of()).contains(platform.architecture());
    }

    /**
     * Why programs for {@code platform} cannot run here, as one sentence in the user's terms (what to
     * install); empty when they run natively or through a registered QEMU handler with the F flag.
     */
    public static Optional<String> missing(Platform platform) {
        return missing(platform, Platform.host(), BINFMT);
    }

    /** As {@link #missing(Platform)} on a {@code host} whose binfmt_misc is mounted at {@code binfmt}. */
    static Optional<String> missing(Platform platform, Platform host, Path binfmt) {
        if (!platform.os().equals("linux")) {
            return Optional.of("running " + platform + " programs needs a " + platform.os() + " kernel; this machine runs "
                    + host);
        }
        if (isNative(platform, host)) {
            return Optional.empty();
        }
        String qemu = QEMU.get(platform.architecture());
        if (qemu == null) {
            return Optional.of("berth knows no QEMU emulator for the architecture " + platform.architecture());
        }
        String install = "install qemu-user-static and binfmt-support (apt-get install qemu-user-static binfmt-support)";
        Path handler = binfmt.resolve("qemu-" + qemu);
        if (!Files.exists(binfmt.resolve("status"))) {
            return Optional.of("running " + platform + " programs on " + host + " needs QEMU user emulation, "
                    + "and binfmt_misc is not mounted at " + binfmt + " (mount -t binfmt_misc binfmt_misc " + binfmt + ")");
        }
        String text;
        try {
            text = Files.readString(handler);
        } catch (IOException e) {
            return Optional.of("running " + platform + " programs on " + host + " needs QEMU user emulation "
                    + "registered with binfmt_misc, and " + handler + " is missing: " + install + ", which register it "
                    + "(without systemd: grep -v '^#' /usr/lib/binfmt.d/qemu-" + qemu + ".conf > " + binfmt.resolve("register")
                    + ")");
        }
        if (!text.startsWith("enabled")) {
            return Optional.of("running " + platform + " programs needs the binfmt_misc handler " + handler
                    + ", which is disabled (update-binfmts --enable qemu-" + qemu + ")");
        }
        String flags = text.lines().filter(l -> l.startsWith("flags:")).findFirst().orElse("flags:").substring(6).trim();
        if (!flags.contains("F")) {
            return Optional.of("running " + platform + " programs in a container needs the binfmt_misc handler " + handler
                    + " registered with the F flag (it has \"" + flags + "\"): " + install
                    + ", whose handlers have it");
        }
        return Optional.empty();
    }
}
