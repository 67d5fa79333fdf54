package dev.berth.layers.internal;

import dev.berth.layers.Digest;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;

/** Passes bytes through while counting them and hashing them with sha256. */
public final class HashingOutputStream extends FilterOutputStream {
    private final MessageDigest sha256 = Digest.sha256Hasher();
    private long count;

    public HashingOutputStream(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        sha256.update((byte) b);
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        sha256.update(b, off, len);
        count += len;
    }

    public long count() {
        return count;
    }

    /** The digest of everything written; call once, at the end. */
    public Digest digest() {
        return Digest.of(sha256.digest());
    }
}
