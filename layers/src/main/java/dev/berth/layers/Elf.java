package dev.berth.layers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * ELF programs by their first bytes ({@link ImageAnalysis}): an executable (not a shared library) and its
 * interpreter, the dynamic linker named by {@code PT_INTERP}; none means statically linked.
 */
final class Elf {
    private static final int PT_INTERP = 3;

    private Elf() {}

    /** The program a file of {@code size} bytes and {@code mode} is, from its {@code head}, if it is one. */
    static Optional<AnalysisReport.Binary> sniff(String path, long size, int mode, byte[] head) {
        if (head.length < 64 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') {
            return Optional.empty();
        }
        boolean wide = head[4] == 2;
        ByteBuffer b = ByteBuffer.wrap(head).order(head[5] == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(16) & 0xffff;
        long phoff = wide ? b.getLong(32) : b.getInt(28) & 0xffffffffL;
        int phentsize = b.getShort(wide ? 54 : 42) & 0xffff;
        int phnum = b.getShort(wide ? 56 : 44) & 0xffff;
        Optional<String> interpreter = Optional.empty();
        for (int i = 0; i < phnum && phentsize > 0; i++) {
            long at = phoff + (long) i * phentsize;
            if (at < 0 || at + phentsize > head.length) {
                break; // beyond what was read: no interpreter is that far in practice
            }
            int h = (int) at;
            if (b.getInt(h) != PT_INTERP) {
                continue;
            }
            long off = wide ? b.getLong(h + 8) : b.getInt(h + 4) & 0xffffffffL;
            long len = wide ? b.getLong(h + 32) : b.getInt(h + 16) & 0xffffffffL;
            if (off >= 0 && len > 1 && off + len <= head.length) {
                interpreter = Optional.of(new String(head, (int) off, (int) len - 1, StandardCharsets.UTF_8));
            } else {
                interpreter = Optional.of("?");
            }
        }
        String name = path.substring(path.lastIndexOf('/') + 1);
        boolean library = name.endsWith(".so") || name.contains(".so."); // libc.so.6 runs too, but is a library
        boolean executable = (mode & 0111) != 0;
        if (!(type == 2 || (type == 3 && executable && !library))) {
            return Optional.empty();
        }
        return Optional.of(new AnalysisReport.Binary("/" + path, size, interpreter.isEmpty(), interpreter));
    }
}
