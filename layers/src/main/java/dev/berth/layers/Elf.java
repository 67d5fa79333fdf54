package dev.berth.layers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * ELF programs by their first bytes ({@link ImageAnalysis}, and the builder's check of a FROM scratch
 * image): an executable (not a shared library) and its interpreter, the dynamic linker named by
 * {@code PT_INTERP} (none: statically linked), and the libraries it names.
 */
public final class Elf {
    private static final int PT_LOAD = 1;
    private static final int PT_DYNAMIC = 2;
    private static final int PT_INTERP = 3;
    private static final long DT_NEEDED = 1;
    private static final long DT_STRTAB = 5;

    private Elf() {}

    /**
     * The program interpreter an ELF file's first bytes name (e.g. {@code /lib64/ld-linux-x86-64.so.2});
     * empty for a static binary, for anything that is not ELF, and when the bytes do not reach it.
     */
    public static Optional<String> interpreter(byte[] head) {
        if (!isElf(head)) {
            return Optional.empty();
        }
        return sniff("x", head.length, 0755, head).flatMap(AnalysisReport.Binary::interpreter)
                .filter(i -> !i.equals("?") && !i.isEmpty());
    }

    static boolean isElf(byte[] head) {
        return head.length >= 64 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F';
    }

    /** A program header's fields, 32- or 64-bit alike. */
    private record Segment(int type, long offset, long vaddr, long filesz) {}

    /** The program a file of {@code size} bytes and {@code mode} is, from its {@code head}, if it is one. */
    static Optional<AnalysisReport.Binary> sniff(String path, long size, int mode, byte[] head) {
        if (!isElf(head)) {
            return Optional.empty();
        }
        boolean wide = head[4] == 2;
        ByteBuffer b = ByteBuffer.wrap(head).order(head[5] == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(16) & 0xffff;
        long phoff = wide ? b.getLong(32) : b.getInt(28) & 0xffffffffL;
        int phentsize = b.getShort(wide ? 54 : 42) & 0xffff;
        int phnum = b.getShort(wide ? 56 : 44) & 0xffff;
        Optional<String> interpreter = Optional.empty();
        java.util.List<Segment> segments = new java.util.ArrayList<>();
        for (int i = 0; i < phnum && phentsize > 0; i++) {
            long at = phoff + (long) i * phentsize;
            if (at < 0 || at + phentsize > head.length) {
                break; // beyond what was read: no interpreter is that far in practice
            }
            int h = (int) at;
            segments.add(wide ? new Segment(b.getInt(h), b.getLong(h + 8), b.getLong(h + 16), b.getLong(h + 32))
                    : new Segment(b.getInt(h), b.getInt(h + 4) & 0xffffffffL, b.getInt(h + 8) & 0xffffffffL,
                            b.getInt(h + 16) & 0xffffffffL));
        }
        for (Segment g : segments) {
            if (g.type() == PT_INTERP) {
                interpreter = Optional.of(g.offset() >= 0 && g.filesz() > 1 && g.offset() + g.filesz() <= head.length
                        ? new String(head, (int) g.offset(), (int) g.filesz() - 1, StandardCharsets.UTF_8) : "?");
            }
        }
        String name = path.substring(path.lastIndexOf('/') + 1);
        boolean library = name.endsWith(".so") || name.contains(".so."); // libc.so.6 runs too, but is a library
        boolean executable = (mode & 0111) != 0;
        if (!(type == 2 || (type == 3 && executable && !library))) {
            return Optional.empty();
        }
        return Optional.of(new AnalysisReport.Binary("/" + path, size, interpreter.isEmpty(), interpreter,
                needed(b, head, wide, segments)));
    }

    /** The DT_NEEDED names of the dynamic section, when the bytes read hold it and its string table. */
    private static java.util.List<String> needed(ByteBuffer b, byte[] bytes, boolean wide, java.util.List<Segment> segments) {
        Segment dyn = segments.stream().filter(g -> g.type() == PT_DYNAMIC).findFirst().orElse(null);
        if (dyn == null || dyn.offset() < 0 || dyn.offset() + dyn.filesz() > bytes.length) {
            return java.util.List.of();
        }
        int entry = wide ? 16 : 8;
        java.util.List<Long> names = new java.util.ArrayList<>();
        long strtab = -1;
        for (long at = dyn.offset(); at + entry <= dyn.offset() + dyn.filesz(); at += entry) {
            long tag = wide ? b.getLong((int) at) : b.getInt((int) at);
            long val = wide ? b.getLong((int) at + 8) : b.getInt((int) at + 4) & 0xffffffffL;
            if (tag == 0) {
                break; // DT_NULL
            }
            if (tag == DT_NEEDED) {
                names.add(val);
            } else if (tag == DT_STRTAB) {
                strtab = val;
            }
        }
        long table = -1;
        for (Segment g : segments) { // the string table's address, as a file offset
            if (g.type() == PT_LOAD && strtab >= g.vaddr() && strtab < g.vaddr() + g.filesz()) {
                table = g.offset() + (strtab - g.vaddr());
            }
        }
        java.util.List<String> out = new java.util.ArrayList<>();
        for (long n : names) {
            long start = table + n;
            if (table < 0 || start < 0 || start >= bytes.length) {
                continue;
            }
            int end = (int) start;
            while (end < bytes.length && bytes[end] != 0) {
                end++;
            }
            out.add(new String(bytes, (int) start, end - (int) start, StandardCharsets.UTF_8));
        }
        return java.util.List.copyOf(out);
    }
}
