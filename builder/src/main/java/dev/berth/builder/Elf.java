package dev.berth.builder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Reads the program interpreter ({@code PT_INTERP}, e.g. {@code /lib64/ld-linux-x86-64.so.2}) of an ELF
 * file: what the kernel runs first for a dynamically linked executable. A static binary has none.
 * Only the ELF header and the program headers are read.
 */
final class Elf {
    private static final int PT_INTERP = 3;

    private Elf() {}

    /** The interpreter of an ELF executable; empty for anything else (static binaries, scripts, data). */
    static Optional<String> interpreter(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer h = ByteBuffer.allocate(64);
            if (ch.read(h, 0) < 52) {
                return Optional.empty();
            }
            h.flip();
            if (h.get(0) != 0x7f || h.get(1) != 'E' || h.get(2) != 'L' || h.get(3) != 'F') {
                return Optional.empty();
            }
            boolean is64 = h.get(4) == 2;
            h.order(h.get(5) == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            long phoff = is64 ? h.getLong(32) : Integer.toUnsignedLong(h.getInt(28));
            int phentsize = Short.toUnsignedInt(h.getShort(is64 ? 54 : 42));
            int phnum = Short.toUnsignedInt(h.getShort(is64 ? 56 : 44));
            if (phnum == 0 || phentsize < (is64 ? 56 : 32) || phnum > 4096) {
                return Optional.empty();
            }
            ByteBuffer ph = ByteBuffer.allocate(phentsize * phnum).order(h.order());
            ch.read(ph, phoff);
            for (int i = 0; i < phnum; i++) {
                int base = i * phentsize;
                if (base + phentsize > ph.position()) {
                    break;
                }
                if (ph.getInt(base) != PT_INTERP) {
                    continue;
                }
                long offset = is64 ? ph.getLong(base + 8) : Integer.toUnsignedLong(ph.getInt(base + 4));
                long size = is64 ? ph.getLong(base + 32) : Integer.toUnsignedLong(ph.getInt(base + 16));
                if (size <= 0 || size > 4096) {
                    return Optional.empty();
                }
                ByteBuffer s = ByteBuffer.allocate((int) size);
                ch.read(s, offset);
                String interp = new String(s.array(), 0, s.position(), StandardCharsets.UTF_8);
                int nul = interp.indexOf('\0');
                return Optional.of(nul >= 0 ? interp.substring(0, nul) : interp).filter(x -> !x.isEmpty());
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
