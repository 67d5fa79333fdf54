package dev.berth.layers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Regular files as an extraction creates them ({@link LayerExtractor}): new (never over an existing one),
 * with their permission bits given at creation (so that no chmod follows when the umask leaves them
 * whole), their content written in writes of up to 256 KiB, a sixteenth of the system calls that
 * {@code transferTo}'s 16 KiB make. One instance per extraction: its buffer is reused. Not thread-safe.
 */
final class RegularFiles {
    /** This process's umask, from /proc (022 when it cannot be read). */
    static final int UMASK = umask();

    private static final int BUFFER = 1 << 18;
    private static final Set<StandardOpenOption> CREATE = EnumSet.of(StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);

    private byte[] buffer;

    /** The file attribute for each of the 512 permission sets, made once, when first extracting. */
    private static final class Permissions {
        static final FileAttribute<?>[] OF = new FileAttribute<?>[512];

        static {
            for (int mode = 0; mode < 512; mode++) {
                StringBuilder rwx = new StringBuilder();
                for (int bit = 8; bit >= 0; bit--) {
                    rwx.append((mode & (1 << bit)) == 0 ? '-' : "rwx".charAt((8 - bit) % 3));
                }
                OF[mode] = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(rwx.toString()));
            }
        }
    }

    /**
     * Creates {@code dest} with the permission bits of {@code mode} (less the umask) and {@code content}
     * (read to its end); returns the bytes written.
     */
    long create(Path dest, int mode, InputStream content) throws IOException {
        if (buffer == null) {
            buffer = new byte[BUFFER];
        }
        long total = 0;
        try (FileChannel out = FileChannel.open(dest, CREATE, Permissions.OF[mode & 0777])) {
            int n;
            while ((n = content.readNBytes(buffer, 0, BUFFER)) > 0) {
                ByteBuffer b = ByteBuffer.wrap(buffer, 0, n);
                while (b.hasRemaining()) {
                    out.write(b);
                }
                total += n;
            }
        }
        return total;
    }

    private static int umask() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Umask:")) {
                    return Integer.parseInt(line.substring(6).trim(), 8);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through
        }
        return 022;
    }
}
