package dev.berth.layers;

import java.util.Arrays;

/**
 * A JSON document together with the exact bytes it was read from or written as. Its digest is always the
 * digest of those bytes, never of a re-serialisation, so an image read from anywhere keeps its identity.
 *
 * @param value the parsed record
 * @param bytes the document's bytes (not copied on access: callers must not modify them)
 * @param mediaType the type the document was stored or served as
 */
public record Document<T>(T value, byte[] bytes, MediaType mediaType, Digest digest) {

    public Document {
        if (!digest.matches(digest.newHasher().digest(bytes))) {
            throw new LayersException(mediaType + " " + digest + ": content does not match its digest");
        }
    }

    /** Serialises a record canonically and keeps the bytes. */
    public static <T> Document<T> of(T value, MediaType mediaType) {
        byte[] bytes = Json.write(value);
        return new Document<>(value, bytes, mediaType, Digest.sha256(bytes));
    }

    /** Parses bytes (hashing them with sha256); {@code what} names the document in errors. */
    public static <T> Document<T> parse(byte[] bytes, Class<T> type, MediaType mediaType, String what) {
        return new Document<>(Json.read(bytes, type, what), bytes, mediaType, Digest.sha256(bytes));
    }

    /**
     * Parses bytes that must hash to {@code expected}; a mismatch is an error naming {@code what} and the
     * digest, before any parsing.
     */
    public static <T> Document<T> parseVerified(byte[] bytes, Class<T> type, MediaType mediaType, Digest expected,
                                                String what) {
        if (!expected.matches(expected.newHasher().digest(bytes))) {
            throw new LayersException(what + ": content of " + expected + " does not match its digest");
        }
        return new Document<>(Json.read(bytes, type, what), bytes, mediaType, expected);
    }

    public long size() {
        return bytes.length;
    }

    public Descriptor descriptor() {
        return Descriptor.of(mediaType, digest, bytes.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Document<?> d && d.digest.equals(digest) && d.mediaType.equals(mediaType)
                && Arrays.equals(d.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return digest.hashCode();
    }

    @Override
    public String toString() {
        return "Document[" + mediaType + " " + digest + "]";
    }
}
