package dev.berth.builder;

import dev.berth.layers.Reference;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a build's cache goes ({@code --cache-to}) or comes from ({@code --cache-from}), as buildx spells
 * it: {@code type=registry,ref=REF[,mode=min|max]}, {@code type=local,dest=DIR} / {@code type=local,src=DIR},
 * {@code type=inline} (the keys in the image's own config), or a bare {@code REF} for
 * {@code type=registry,ref=REF} (which reads an artifact or an image's inline keys alike).
 */
public sealed interface CacheSpec {
    /** Which steps an export keeps: those whose layers are in the image ({@code min}), or every step ({@code max}). */
    enum Mode { MIN, MAX }

    /** A cache artifact in a registry repository (or, read, an image there with inline keys). */
    record Registry(Reference ref, Mode mode) implements CacheSpec {
        public Registry {
            Objects.requireNonNull(ref, "ref");
            Objects.requireNonNull(mode, "mode");
        }
    }

    /** A cache artifact in an OCI image layout directory, named {@code tag} in its index. */
    record Local(Path directory, Mode mode, String tag) implements CacheSpec {
        public Local {
            Objects.requireNonNull(directory, "directory");
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(tag, "tag");
        }
    }

    /** The keys in the built image's config (min mode only, as BuildKit's inline cache). */
    record Inline() implements CacheSpec {}

    /** Parses a {@code --cache-to} value; {@code compression} is the build's, which the cache's layers have. */
    static CacheSpec parseTo(String text, String compression) {
        return parse("--cache-to", text, true, compression);
    }

    /** Parses a {@code --cache-from} value. */
    static CacheSpec parseFrom(String text) {
        return parse("--cache-from", text, false, "");
    }

    private static CacheSpec parse(String option, String text, boolean export, String compression) {
        String what = option + " " + text;
        if (!text.contains("=")) {
            return new Registry(reference(what, text), Mode.MIN);
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new BuildException(what + ": expected KEY=VALUE, got \"" + part + "\"");
            }
            kv.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
        }
        String type = Optional.ofNullable(kv.remove("type")).orElse("registry");
        Mode mode = Mode.MIN;
        String m = kv.remove("mode");
        if (m != null) {
            if (!export) {
                throw new BuildException(what + ": mode= belongs to --cache-to");
            }
            mode = switch (m) {
                case "min" -> Mode.MIN;
                case "max" -> Mode.MAX;
                default -> throw new BuildException(what + ": mode must be min or max, not \"" + m + "\"");
            };
        }
        String c = kv.remove("compression");
        if (c != null) {
            if (!export) {
                throw new BuildException(what + ": compression= belongs to --cache-to");
            }
            // The cache keeps the build's own layers (their keys name the compression), so it has theirs.
            String kind = compression.contains(":") ? compression.substring(0, compression.indexOf(':')) : compression;
            if (!c.equals(compression) && !c.equals(kind)) {
                throw new BuildException(what + ": the cache keeps the build's layers, which are " + compression
                        + "; build with --compression " + c + " to cache " + c + " layers");
            }
        }
        kv.remove("ignore-error"); // a cache fault is never a failed build anyway
        CacheSpec spec = switch (type) {
            case "registry" -> new Registry(reference(what, required(kv, "ref", what)), mode);
            case "local" -> new Local(Path.of(required(kv, export ? "dest" : "src", what)), mode,
                    Optional.ofNullable(kv.remove("tag")).orElse("latest"));
            case "inline" -> {
                if (!export) {
                    throw new BuildException(what + ": type=inline is for --cache-to; read an image's inline "
                            + "cache with --cache-from IMAGE");
                }
                if (mode == Mode.MAX) {
                    throw new BuildException(what + ": an inline cache holds the image's own layers only (mode=min)");
                }
                yield new Inline();
            }
            default -> throw new BuildException(what + ": unknown type \"" + type + "\" (use registry, local or inline)");
        };
        if (!kv.isEmpty()) {
            throw new BuildException(what + ": unknown key \"" + kv.keySet().iterator().next() + "\"");
        }
        return spec;
    }

    private static String required(Map<String, String> kv, String key, String what) {
        String v = kv.remove(key);
        if (v == null || v.isEmpty()) {
            throw new BuildException(what + ": " + key + "= is missing");
        }
        return v;
    }

    private static Reference reference(String what, String text) {
        try {
            return Reference.parse(text);
        } catch (RuntimeException e) {
            throw new BuildException(what + ": " + e.getMessage());
        }
    }
}
