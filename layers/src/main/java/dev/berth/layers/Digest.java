package dev.berth.layers;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A content address, {@code algorithm:hex}, as in the OCI descriptor spec. Only sha256 and sha512 are
 * accepted, with lowercase hex of exactly the algorithm's length; a value of this type is always valid.
 */
public record Digest(String algorithm, String hex) implements Comparable<Digest> {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]+");

    public Digest {
        int length = switch (algorithm) {
            case "sha256" -> 64;
            case "sha512" -> 128;
            default -> throw new LayersException("invalid digest algorithm \"" + algorithm
                    + "\": berth supports sha256 and sha512");
        };
        if (hex.length() != length || !HEX.matcher(hex).matches()) {
            throw new LayersException("invalid digest \"" + algorithm + ":" + hex + "\": " + algorithm
                    + " needs " + length + " lowercase hex digits");
        }
    }

    // equals and hashCode are written out: a record's generated ones are bootstrapped through
    // invokedynamic on first use, which costs a cold JVM milliseconds the start-up cache does not save.
    @Override
    public boolean equals(Object o) {
        return o instanceof Digest d && d.hex.equals(hex) && d.algorithm.equals(algorithm);
    }

    @Override
    public int hashCode() {
        return 31 * algorithm.hashCode() + hex.hashCode();
    }

    /** Parses {@code algorithm:hex}; throws {@link LayersException} naming the value when it is invalid. */
    @JsonCreator
    public static Digest parse(String value) {
        int colon = value.indexOf(':');
        if (colon <= 0) {
            throw new LayersException("invalid digest \"" + value + "\": expected algorithm:hex");
        }
        return new Digest(value.substring(0, colon), value.substring(colon + 1));
    }

    /** The sha256 digest of the given bytes. */
    public static Digest sha256(byte[] bytes) {
        return of(sha256Hasher().digest(bytes));
    }

    /** The digest of a finished sha256 hasher's output. */
    public static Digest of(byte[] sha256) {
        return new Digest("sha256", HexFormat.of().formatHex(sha256));
    }

    /** A fresh hasher for this digest's algorithm. */
    public MessageDigest newHasher() {
        return hasher(algorithm);
    }

    /** Whether the finished hash equals this digest. */
    public boolean matches(byte[] hash) {
        return HexFormat.of().formatHex(hash).equals(hex);
    }

    public static MessageDigest sha256Hasher() {
        return hasher("sha256");
    }

    /** A fresh hasher for {@code sha256} or {@code sha512}. */
    public static MessageDigest hasher(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm.equals("sha256") ? "SHA-256" : "SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks " + algorithm, e);
        }
    }

    /** The first 12 hex digits, as docker shows image ids. */
    public String shortHex() {
        return hex.substring(0, 12);
    }

    @JsonValue
    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }

    @Override
    public int compareTo(Digest other) {
        return toString().compareTo(other.toString());
    }
}
