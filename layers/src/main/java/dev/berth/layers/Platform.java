package dev.berth.layers;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An image's platform as in an index entry: os, architecture, optional variant and OS version. Parsed from
 * and shown as {@code os/arch[/variant]}, as docker's {@code --platform} takes it.
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record Platform(
        @JsonProperty("architecture") String architecture,
        @JsonProperty("os") String os,
        @JsonProperty("os.version") Optional<String> osVersion,
        @JsonProperty("os.features") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> osFeatures,
        @JsonProperty("variant") Optional<String> variant,
        @JsonAnyGetter @JsonAnySetter Map<String, Object> extra) {

    public Platform {
        osVersion = Optionals.orEmpty(osVersion);
        variant = Optionals.orEmpty(variant);
        osFeatures = Optionals.list(osFeatures);
        extra = Optionals.frozen(extra);
    }

    public static Platform of(String os, String architecture, Optional<String> variant) {
        return new Platform(architecture, os, Optional.empty(), List.of(), variant, Map.of());
    }

    /** Go's architecture names (and containerd's aliases of them) that a platform of one part may be. */
    private static final java.util.Set<String> ARCHITECTURES = java.util.Set.of("386", "amd64", "arm", "arm64",
            "loong64", "mips", "mipsle", "mips64", "mips64le", "ppc64", "ppc64le", "riscv64", "s390x", "wasm",
            "x86_64", "x86-64", "aarch64", "armhf", "i386");
    private static final java.util.Set<String> SYSTEMS = java.util.Set.of("linux", "windows", "darwin", "freebsd");

    /**
     * Parses {@code os/arch[/variant]}, as containerd does: one part is an architecture (on linux) or an
     * operating system (on this machine's architecture), anything else of one part is an error. Architecture
     * aliases are normalised: x86_64 to amd64, aarch64 to arm64 (variant v8 is dropped for arm64).
     */
    public static Platform parse(String text) {
        String[] parts = text.trim().toLowerCase(java.util.Locale.ROOT).split("/", -1);
        List<String> p = new ArrayList<>(List.of(parts));
        if (p.isEmpty() || p.size() > 3 || p.stream().anyMatch(s -> !s.matches("[a-z0-9_.-]+"))) {
            throw new LayersException("invalid platform \"" + text + "\": expected os/arch[/variant]");
        }
        if (p.size() == 1 && SYSTEMS.contains(p.getFirst())) {
            p.add(host().architecture());
        } else if (p.size() == 1 && ARCHITECTURES.contains(p.getFirst())) {
            p.addFirst("linux");
        } else if (p.size() == 1) {
            throw new LayersException("invalid platform \"" + text + "\": unknown operating system or architecture");
        }
        String arch = switch (p.get(1)) {
            case "x86_64", "x86-64" -> "amd64";
            case "aarch64" -> "arm64";
            case "armhf" -> "arm";
            case "i386" -> "386";
            default -> p.get(1);
        };
        Optional<String> variant = p.size() == 3 ? Optional.of(p.get(2)) : Optional.empty();
        if (arch.equals("arm64") && variant.equals(Optional.of("v8"))) {
            variant = Optional.empty();
        }
        if (arch.equals("arm") && variant.isEmpty() && p.get(1).equals("armhf")) {
            variant = Optional.of("v7");
        }
        return of(p.get(0), arch, variant);
    }

    /**
     * The platform of the machine berth runs on. The JVM's {@code os.arch} is mapped to OCI names; arm
     * variants are not detectable from the JVM and are left empty.
     */
    public static Platform host() {
        String arch = System.getProperty("os.arch", "amd64");
        return parse("linux/" + arch);
    }

    /**
     * Whether an index entry with this platform can serve a request for {@code wanted}: same os and
     * architecture, and the same variant when the request names one (arm64's v8 is the default).
     */
    public boolean satisfies(Platform wanted) {
        if (!os.equals(wanted.os) || !architecture.equals(wanted.architecture)) {
            return false;
        }
        if (wanted.variant.isEmpty()) {
            return true;
        }
        Optional<String> mine = variant;
        if (architecture.equals("arm64") && mine.isEmpty()) {
            mine = Optional.of("v8");
        }
        Optional<String> theirs = wanted.variant;
        return mine.equals(theirs);
    }

    @Override
    public String toString() {
        return os + "/" + architecture + variant.map(v -> "/" + v).orElse("");
    }
}
