package dev.berth.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The distribution spec's error body: {@code {"errors": [{"code": ..., "message": ..., "detail": ...}]}}.
 * Anything else (an HTML page from a proxy, nothing at all) gives no errors.
 */
public record ErrorBody(List<Entry> errors) {

    /** One error: its code ({@code MANIFEST_UNKNOWN}) and message ({@code manifest unknown}). */
    public record Entry(String code, String message) {}


    public static ErrorBody parse(byte[] body) {
        if (body == null || body.length == 0) {
            return new ErrorBody(List.of());
        }
        try {
            JsonNode root = dev.berth.layers.Json.mapper().readTree(body);
            List<Entry> out = new ArrayList<>();
            JsonNode errors = root == null ? null : root.get("errors");
            if (errors != null && errors.isArray()) {
                for (JsonNode e : errors) {
                    String code = e.path("code").asText("");
                    String message = e.path("message").asText("");
                    if (message.isEmpty() && e.has("detail") && e.get("detail").isTextual()) {
                        message = e.get("detail").asText();
                    }
                    if (!code.isEmpty() || !message.isEmpty()) {
                        out.add(new Entry(code.toUpperCase(java.util.Locale.ROOT), message));
                    }
                }
            } else if (root != null && root.has("details") && root.get("details").isTextual()) {
                // Docker Hub's token service answers {"details": "incorrect username or password"}
                out.add(new Entry("", root.get("details").asText()));
            }
            return new ErrorBody(List.copyOf(out));
        } catch (IOException e) {
            return new ErrorBody(List.of());
        }
    }

    public Optional<String> firstCode() {
        return errors.stream().map(Entry::code).filter(c -> !c.isEmpty()).findFirst();
    }

    /** {@code manifest unknown (MANIFEST_UNKNOWN)}, several errors joined with {@code "; "}; empty when none. */
    public Optional<String> describe() {
        if (errors.isEmpty()) {
            return Optional.empty();
        }
        List<String> parts = new ArrayList<>();
        for (Entry e : errors) {
            String m = e.message().isEmpty() ? e.code().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') : e.message();
            parts.add(e.code().isEmpty() ? m : m + " (" + e.code() + ")");
        }
        return Optional.of(String.join("; ", parts.stream().distinct().toList()));
    }
}
