package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.Platform;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link Emulation} says about binfmt_misc as the kernel shows it (a directory written here). */
class EmulationTest {
    private static final Platform AMD64 = Platform.parse("linux/amd64");
    private static final Platform ARM64 = Platform.parse("linux/arm64");

    @TempDir
    Path binfmt;

    @Test
    void nativeArchitecturesNeedNothing() {
        assertThat(Emulation.missing(AMD64, AMD64, binfmt)).isEmpty();
        assertThat(Emulation.missing(Platform.parse("linux/386"), AMD64, binfmt)).isEmpty();
        assertThat(Emulation.missing(Platform.parse("windows/amd64"), AMD64, binfmt))
                .contains("running windows/amd64 programs needs a windows kernel; this machine runs linux/amd64");
    }

    @Test
    void aForeignArchitectureNeedsARegisteredHandlerWithTheFixBinaryFlag() throws Exception {
        assertThat(Emulation.missing(ARM64, AMD64, binfmt)).hasValueSatisfying(m -> assertThat(m)
                .isEqualTo("running linux/arm64 programs on linux/amd64 needs QEMU user emulation, and binfmt_misc is "
                        + "not mounted at " + binfmt + " (mount -t binfmt_misc binfmt_misc " + binfmt + ")"));
        Files.writeString(binfmt.resolve("status"), "enabled\n");
        assertThat(Emulation.missing(ARM64, AMD64, binfmt)).hasValueSatisfying(m -> assertThat(m)
                .startsWith("running linux/arm64 programs on linux/amd64 needs QEMU user emulation registered with "
                        + "binfmt_misc, and " + binfmt.resolve("qemu-aarch64") + " is missing: install qemu-user-static "
                        + "and binfmt-support").doesNotContain("\n"));
        Files.writeString(binfmt.resolve("qemu-aarch64"), "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"
                + "flags: PO\noffset 0\n");
        assertThat(Emulation.missing(ARM64, AMD64, binfmt)).hasValueSatisfying(m -> assertThat(m)
                .contains("registered with the F flag (it has \"PO\")"));
        Files.writeString(binfmt.resolve("qemu-aarch64"), "disabled\nflags: POF\n");
        assertThat(Emulation.missing(ARM64, AMD64, binfmt)).hasValueSatisfying(m -> assertThat(m)
                .endsWith("which is disabled (update-binfmts --enable qemu-aarch64)"));
        Files.writeString(binfmt.resolve("qemu-aarch64"), "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"
                + "flags: POF\noffset 0\n");
        assertThat(Emulation.missing(ARM64, AMD64, binfmt)).isEmpty();
        assertThat(Emulation.missing(Platform.parse("linux/arm/v7"), AMD64, binfmt)).hasValueSatisfying(m ->
                assertThat(m).contains("qemu-arm is missing"));
    }
}
