package dev.berth.layers.internal;

import dev.berth.layers.Digest;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;

/** Passes bytes through while counting them and hashing them (sha256 unless told otherwise). */
public final class HashingOutputStream extends FilterOutputStream {
    private final MessageDigest hasher;
    private final String algorithm;
    private long count;

    public HashingOutputStream(OutputStream out) {
        this(out, "sha256");
    }

    /** Hashes with {@code algorithm}, {@code sha256} or {@code sha512}. */
    public HashingOutputStream(OutputStream out, String algorithm) {
        super(out);
        this.algorithm = algorithm;
        this.hasher = Digest.hasher(algorithm);
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        hasher.update((byte) b);
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        hasher.update(b, off, len);
        count += len;
    }

    public long count() {
        return count;
    }

    /** The digest of everything written; call once, at the end. */
    public Digest digest() {
        return new Digest(algorithm, java.util.HexFormat.of().formatHex(hasher.digest()));
    }
}
