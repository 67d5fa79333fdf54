package dev.berth.layers.internal;

import dev.berth.layers.Digest;
import dev.berth.layers.LayersException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Passes a blob through while hashing it; at the end of the stream (or when it grows past its size) it
 * throws a {@link LayersException} naming {@code what} and the digest unless size and digest both match.
 * Consumers must read to the end to get the check; a stream closed early is not verified.
 */
public final class VerifyingInputStream extends FilterInputStream {
    private final Digest expected;
    private final long expectedSize;
    private final String what;
    private final MessageDigest hasher;
    private long count;
    private boolean verified;

    /** @param expectedSize the size, or -1 when unknown (then only the digest is checked) */
    public VerifyingInputStream(InputStream in, Digest expected, long expectedSize, String what) {
        super(in);
        this.expected = expected;
        this.expectedSize = expectedSize;
        this.what = what;
        this.hasher = expected.newHasher();
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b < 0) {
            verify();
        } else {
            hasher.update((byte) b);
            counted(1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n < 0) {
            verify();
        } else {
            hasher.update(b, off, n);
            counted(n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 8192)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void counted(int n) {
        count += n;
        if (expectedSize >= 0 && count > expectedSize) {
            throw new LayersException(what + ": blob " + expected + " is larger than its expected "
                    + expectedSize + " bytes");
        }
    }

    private void verify() {
        if (verified) {
            return;
        }
        verified = true;
        if (expectedSize >= 0 && count != expectedSize) {
            throw new LayersException(what + ": blob " + expected + " has " + count + " bytes, expected "
                    + expectedSize + " (truncated or corrupt)");
        }
        if (!expected.matches(hasher.digest())) {
            throw new LayersException(what + ": blob " + expected + " is corrupt: its content does not match its digest");
        }
    }
}
