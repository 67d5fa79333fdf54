package dev.berth.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * The seccomp profile a container runs under, {@code --security-opt seccomp=...}: berth's default (every
 * syscall but those docker's default profile refuses, which include new user namespaces for a container
 * without {@code CAP_SYS_ADMIN}), none ({@code unconfined}), or a profile file in docker's JSON format
 * (which also reads the {@code linux.seccomp} object of an OCI runtime config).
 */
public sealed interface Seccomp {
    /** berth's built-in profile (a resource in docker's format). */
    record Builtin() implements Seccomp {}

    /** No filter. */
    record Unconfined() implements Seccomp {}

    /** A profile's text, checked when it was made; {@code source} names it in errors. */
    record Profile(String source, String json) implements Seccomp {
        public Profile {
            SeccompProfile.parse(json, source);
        }
    }

    Seccomp BUILTIN = new Builtin();
    Seccomp UNCONFINED = new Unconfined();

    /** The largest profile file read. */
    long MAX_PROFILE = 1 << 20;

    /**
     * {@code --security-opt seccomp=VALUE}: {@code unconfined}, {@code builtin}, or a profile file (read now,
     * as docker does, so the container keeps what the file said when it was made).
     */
    static Seccomp parse(String value) {
        if (value.equals("unconfined")) {
            return UNCONFINED;
        }
        if (value.equals("builtin") || value.equals("default")) {
            return BUILTIN;
        }
        Path file = Path.of(value);
        try {
            if (Files.size(file) > MAX_PROFILE) {
                throw new ContainerException("seccomp profile " + value + ": larger than " + MAX_PROFILE + " bytes");
            }
            return new Profile(value, Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ContainerException("seccomp profile " + value + ": cannot read it: "
                    + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
    }

    /** As {@code run.json} keeps it: "builtin", "unconfined" or the profile's text. */
    default String text() {
        return switch (this) {
            case Builtin b -> "builtin";
            case Unconfined u -> "unconfined";
            case Profile p -> p.json();
        };
    }

    /** The inverse of {@link #text()}. */
    static Seccomp ofText(String text) {
        return switch (text) {
            case "builtin" -> BUILTIN;
            case "unconfined" -> UNCONFINED;
            default -> new Profile("the container's seccomp profile", text);
        };
    }

    /** The filter for a process with these capabilities on this machine; empty for none. */
    default Optional<SeccompFilter> filter(Set<Capability> caps) {
        return switch (this) {
            case Unconfined u -> Optional.empty();
            case Builtin b -> Optional.of(SeccompProfile.parse(builtinText(), "berth's default seccomp profile")
                    .resolve(caps, SeccompProfile.Host.current()));
            case Profile p -> Optional.of(SeccompProfile.parse(p.json(), p.source())
                    .resolve(caps, SeccompProfile.Host.current()));
        };
    }

    private static String builtinText() {
        try (InputStream in = Seccomp.class.getResourceAsStream("seccomp-default.json")) {
            if (in == null) {
                throw new IllegalStateException("seccomp-default.json is missing from berth's jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
