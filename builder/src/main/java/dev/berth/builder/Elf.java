package dev.berth.builder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads the program interpreter ({@code PT_INTERP}, e.g. {@code /lib64/ld-linux-x86-64.so.2}) of an ELF
 * file: what the kernel runs first for a dynamically linked executable. A static binary has none. Only the
 * file's first page is read (the ELF header and the program headers are there), and parsed by the layers'
 * {@link dev.berth.layers.Elf}.
 */
final class Elf {
    private static final int HEAD = 4096;

    private Elf() {}

    /** The interpreter of an ELF executable; empty for anything else (static binaries, scripts, data). */
    static Optional<String> interpreter(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return dev.berth.layers.Elf.interpreter(in.readNBytes(HEAD));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
