package dev.berth.builder.dockerfile;

import java.util.Objects;

/** One {@code key=value} of ENV or LABEL. Before expansion both may still hold quotes and variables. */
public record KeyValue(String key, String value) {
    public KeyValue {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
        return key + "=" + value;
    }
}
