package dev.berth.layers.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a tar stream for a layer: a USTAR header per entry, preceded by a PAX extended header ({@code x})
 * only where USTAR cannot hold a value: a name or link target of 100 bytes or more or with non-ASCII
 * characters, a size of 8 GiB or more, an owner or device number above 07777777, a time before 1970 or
 * after 2242, extended attributes ({@code SCHILY.xattr.NAME}). The end is two zero records.
 *
 * <p>Why not commons-compress's {@code TarArchiveOutputStream}, which berth reads tars with: writing a
 * layer of thousands of small files spent more of its time in that stream's per-entry work than in the
 * files (each name went through a new charset encoder three times, every 512 bytes of content through a
 * {@code ByteBuffer}), and the JIT compiled that path while the layer was being compressed. The headers are
 * the ones it writes, byte for byte (a test compares the two); PAX records come in key order.
 *
 * <p>Contract: {@link #entry} then exactly {@code size} bytes of content ({@link #write}, {@link #copy}),
 * then {@link #endEntry}; {@link #finish} once. Output goes to {@code out} in 256 KiB writes; {@code out}
 * is flushed by {@link #finish} and never closed. Not thread-safe.
 *
 * <p>A writer given {@link Boundaries} tells them where each entry (its PAX header, if it has one) starts,
 * before any of the entry's bytes reach {@code out}: a compressor can then cut its blocks between entries.
 */
public final class TarWriter {
    private static final int RECORD = 512;
    private static final long MAX_ID = 07777777L;
    private static final long MAX_SIZE = 077777777777L;
    private static final int NAME_LENGTH = 100;
    private static final byte PAX_HEADER = 'x';
    private static final byte[] MAGIC = {'u', 's', 't', 'a', 'r', 0, '0', '0'};

    private final OutputStream out;
    private final Boundaries boundaries;
    private final byte[] buf = new byte[256 * 1024];
    private final ByteBuffer view = ByteBuffer.wrap(buf);
    private int pos;
    private long remaining;
    private long written;
    private boolean inEntry;

    /** One entry's header. {@code mode} is the permission bits (and file type bits where a tool put them). */
    public record Header(String name, byte type, int mode, long uid, long gid, long size, long mtime,
                         String linkName, int devMajor, int devMinor, Map<String, String> xattrs) {}

    /**
     * Where entries start, for the stream the tar goes to: {@link #entryAt} is called with the entry's
     * offset in the tar (never less than the bytes already written to the stream, and increasing) and a
     * fingerprint of its name, a number that depends on the name only.
     */
    public interface Boundaries {
        Boundaries NONE = (offset, fingerprint) -> { };

        void entryAt(long offset, int fingerprint);
    }

    public TarWriter(OutputStream out) {
        this(out, Boundaries.NONE);
    }

    public TarWriter(OutputStream out, Boundaries boundaries) {
        this.out = out;
        this.boundaries = boundaries;
    }

    /** Bytes of tar written so far (buffered ones included). */
    public long count() {
        return written + pos;
    }

    /** Writes an entry's header, and a PAX header before it when USTAR cannot hold one of its values. */
    public void entry(Header h) throws IOException {
        if (inEntry) {
            throw new IllegalStateException("entry " + h.name() + " started before the last one ended");
        }
        byte[] name = h.name().getBytes(StandardCharsets.UTF_8);
        byte[] link = h.linkName().getBytes(StandardCharsets.UTF_8);
        boundaries.entryAt(count(), Arrays.hashCode(name));
        Map<String, String> pax = paxRecords(h, name, link);
        if (pax != null) {
            byte[] records = paxData(pax);
            long mtime = h.mtime() < 0 || h.mtime() > MAX_SIZE ? 0 : h.mtime();
            header(paxName(h.name()), PAX_HEADER, 0100644, 0, 0, records.length, mtime, new byte[0], 0, 0);
            inEntry = true;
            remaining = records.length;
            write(records, 0, records.length);
            endEntry();
        }
        header(name, h.type(), h.mode(), h.uid(), h.gid(), h.size(), h.mtime(), link, h.devMajor(), h.devMinor());
        inEntry = true;
        remaining = h.size();
    }

    /** Writes content of the current entry. */
    public void write(byte[] b, int off, int len) throws IOException {
        if (len > remaining) {
            throw new IllegalStateException("more content than the entry's size");
        }
        remaining -= len;
        while (len > 0) {
            if (pos == buf.length) {
                drain();
            }
            int n = Math.min(len, buf.length - pos);
            System.arraycopy(b, off, buf, pos, n);
            pos += n;
            off += n;
            len -= n;
        }
    }

    /**
     * Reads the rest of the current entry's content from {@code source} straight into the stream's buffer,
     * and returns whether the source then ended: false when it ended early (fewer bytes than the entry's
     * size; the entry is then incomplete and the stream unusable) or had more bytes.
     */
    public boolean copy(FileChannel source) throws IOException {
        while (true) {
            if (pos == buf.length) {
                drain();
            }
            int space = buf.length - pos;
            // Asking one byte more than is left shows the end without another read: a regular file's read
            // returns less than asked only at its end.
            int ask = (int) Math.min(space, remaining + 1);
            view.limit(pos + ask).position(pos);
            int n = source.read(view);
            if (n < 0) {
                return remaining == 0;
            }
            if (n > remaining) {
                return false;
            }
            pos += n;
            remaining -= n;
            if (remaining == 0 && n < ask) {
                return true; // the extra byte asked for was not there
            }
        }
    }

    /** Ends the current entry: its content is complete; pads it to a whole record. */
    public void endEntry() throws IOException {
        if (!inEntry || remaining != 0) {
            throw new IllegalStateException(inEntry ? remaining + " bytes of content missing" : "no entry");
        }
        inEntry = false;
        int partial = (int) (count() % RECORD);
        if (partial != 0) {
            zeros(RECORD - partial);
        }
    }

    /** Writes the end of the archive (two zero records) and flushes. */
    public void finish() throws IOException {
        if (inEntry) {
            throw new IllegalStateException("the last entry has not ended");
        }
        zeros(2 * RECORD);
        drain();
        out.flush();
    }

    /** Writes what is buffered to {@code out} and flushes it; the stream goes on where it was. */
    public void flush() throws IOException {
        drain();
        out.flush();
    }

    private void zeros(int n) throws IOException {
        while (n > 0) {
            if (pos == buf.length) {
                drain();
            }
            int k = Math.min(n, buf.length - pos);
            Arrays.fill(buf, pos, pos + k, (byte) 0);
            pos += k;
            n -= k;
        }
    }

    private void drain() throws IOException {
        out.write(buf, 0, pos);
        written += pos;
        pos = 0;
    }

    /** The PAX records an entry needs, or null. */
    private static Map<String, String> paxRecords(Header h, byte[] name, byte[] link) {
        Map<String, String> pax = null;
        if (name.length >= NAME_LENGTH || name.length != h.name().length()) { // long, or not ASCII
            pax = put(pax, "path", h.name());
        }
        boolean isLink = h.type() == '1' || h.type() == '2';
        if (link.length >= NAME_LENGTH || isLink && link.length != h.linkName().length()) {
            pax = put(pax, "linkpath", h.linkName());
        }
        if (h.size() < 0 || h.size() > MAX_SIZE) {
            pax = put(pax, "size", Long.toString(h.size()));
        }
        if (h.uid() < 0 || h.uid() > MAX_ID) {
            pax = put(pax, "uid", Long.toString(h.uid()));
        }
        if (h.gid() < 0 || h.gid() > MAX_ID) {
            pax = put(pax, "gid", Long.toString(h.gid()));
        }
        if (h.mtime() < 0 || h.mtime() > MAX_SIZE) {
            pax = put(pax, "mtime", Long.toString(h.mtime()));
        }
        if (h.devMajor() < 0 || h.devMajor() > MAX_ID) {
            pax = put(pax, "SCHILY.devmajor", Integer.toString(h.devMajor()));
        }
        if (h.devMinor() < 0 || h.devMinor() > MAX_ID) {
            pax = put(pax, "SCHILY.devminor", Integer.toString(h.devMinor()));
        }
        for (Map.Entry<String, String> x : h.xattrs().entrySet()) {
            pax = put(pax, "SCHILY.xattr." + x.getKey(), x.getValue());
        }
        return pax;
    }

    private static Map<String, String> put(Map<String, String> pax, String key, String value) {
        Map<String, String> m = pax == null ? new TreeMap<>() : pax;
        m.put(key, value);
        return m;
    }

    /** PAX records, {@code "LEN KEY=VALUE\n"}, where LEN counts the whole record in bytes, itself included. */
    private static byte[] paxData(Map<String, String> pax) {
        StringBuilder s = new StringBuilder();
        pax.forEach((k, v) -> {
            int rest = k.getBytes(StandardCharsets.UTF_8).length + v.getBytes(StandardCharsets.UTF_8).length + 3;
            int len = rest + 1;
            while (len != rest + Integer.toString(len).length()) {
                len = rest + Integer.toString(len).length();
            }
            s.append(len).append(' ').append(k).append('=').append(v).append('\n');
        });
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The name of an entry's PAX header: {@code ./PaxHeaders.X/} and the name in 7 bits, no NUL or slash, cut to 99. */
    private static byte[] paxName(String name) {
        StringBuilder s = new StringBuilder("./PaxHeaders.X/");
        for (int i = 0; i < name.length() && s.length() < NAME_LENGTH - 1; i++) {
            char c = (char) (name.charAt(i) & 0x7f);
            s.append(c == 0 || c == '/' || c == '\\' ? '_' : c);
        }
        return s.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** One USTAR header record, written into the buffer. */
    private void header(byte[] name, byte type, int mode, long uid, long gid, long size, long mtime, byte[] link,
                        int devMajor, int devMinor) throws IOException {
        if (buf.length - pos < RECORD) {
            drain();
        }
        int o = pos;
        Arrays.fill(buf, o, o + RECORD, (byte) 0);
        text(name, o, NAME_LENGTH);
        octal(mode, o + 100, 8, MAX_ID);
        octal(uid, o + 108, 8, MAX_ID);
        octal(gid, o + 116, 8, MAX_ID);
        octal(size, o + 124, 12, MAX_SIZE);
        octal(mtime, o + 136, 12, MAX_SIZE);
        Arrays.fill(buf, o + 148, o + 156, (byte) ' ');
        buf[o + 156] = type;
        text(link, o + 157, NAME_LENGTH);
        System.arraycopy(MAGIC, 0, buf, o + 257, MAGIC.length);
        octal(devMajor, o + 329, 8, MAX_ID);
        octal(devMinor, o + 337, 8, MAX_ID);
        // the checksum: six octal digits, NUL, space
        digits(sum(buf, o, o + RECORD), o + 148, 6);
        buf[o + 154] = 0;
        buf[o + 155] = ' ';
        pos += RECORD;
    }

    /**
     * The sum of the bytes, unsigned. A method of its own so that its loop is compiled on its own: in
     * {@link #header} it made the JIT's top tier compile the whole header (70 ms of CPU) late in a layer.
     */
    private static long sum(byte[] b, int from, int to) {
        long sum = 0;
        for (int i = from; i < to; i++) {
            sum += b[i] & 0xff;
        }
        return sum;
    }

    /** A name field: the bytes, cut to the field at a character boundary; the rest stays NUL. */
    private void text(byte[] b, int at, int field) {
        int n = b.length;
        if (n > field) {
            n = field;
            while (n > 0 && (b[n] & 0xc0) == 0x80) {
                n--; // do not cut a UTF-8 sequence
            }
        }
        System.arraycopy(b, 0, buf, at, n);
    }

    /** A number field: octal digits filling all but the last byte, then a space; 0 when it does not fit. */
    private void octal(long value, int at, int field, long max) {
        digits(value < 0 || value > max ? 0 : value, at, field - 1);
        buf[at + field - 1] = ' ';
    }

    private void digits(long value, int at, int count) {
        long v = value;
        for (int i = at + count - 1; i >= at; i--) {
            buf[i] = (byte) ('0' + (v & 7));
            v >>>= 3;
        }
    }
}
