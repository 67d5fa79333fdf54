package dev.berth.registry.internal;

/** Byte counts for messages: {@code 8 MiB}, {@code 1 KiB}, {@code 1500 bytes}. */
final class Sizes {
    private Sizes() {}

    static String human(long n) {
        if (n >= 1 << 20 && n % (1 << 20) == 0) {
            return (n >> 20) + " MiB";
        }
        if (n >= 1 << 10 && n % (1 << 10) == 0) {
            return (n >> 10) + " KiB";
        }
        return n + (n == 1 ? " byte" : " bytes");
    }
}
