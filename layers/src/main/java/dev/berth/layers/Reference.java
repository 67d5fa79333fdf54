package dev.berth.layers;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An image reference per the distribution reference grammar, {@code [host[:port]/]path[:tag][@digest]},
 * normalised as docker does: a name without a registry is on Docker Hub ({@code docker.io}), a one-component
 * Docker Hub name is under {@code library/}, {@code index.docker.io} and {@code registry-1.docker.io} are
 * {@code docker.io}, and a reference with neither tag nor digest means {@code :latest}.
 *
 * <p>{@link #toString()} is the full normalised form ({@code docker.io/library/alpine:latest}); it is the
 * name images carry in the store. {@link #familiar()} is the short form docker shows.
 */
public record Reference(String registry, String repository, Optional<String> tag, Optional<Digest> digest) {
    public static final String DOCKER_HUB = "docker.io";
    /** The host berth connects to for Docker Hub. */
    public static final String DOCKER_HUB_HOST = "registry-1.docker.io";

    private static final String ALNUM = "[a-z0-9]+";
    private static final String SEPARATOR = "(?:[._]|__|-+)";
    private static final Pattern PATH_COMPONENT = Pattern.compile(ALNUM + "(?:" + SEPARATOR + ALNUM + ")*");
    private static final Pattern DOMAIN_COMPONENT = Pattern.compile("(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])");
    private static final Pattern IPV6 = Pattern.compile("\\[[a-fA-F0-9:]+\\]");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern HEX64 = Pattern.compile("[a-f0-9]{64}");
    private static final int NAME_MAX = 255;

    public Reference {
        tag = Optionals.orEmpty(tag);
        digest = Optionals.orEmpty(digest);
    }

    /**
     * Parses and normalises a reference. Throws {@link LayersException} with docker's reason
     * ({@code invalid reference format: repository name must be lowercase}, ...) naming the input.
     */
    public static Reference parse(String text) {
        return parse(text, true);
    }

    /** As {@link #parse(String)}, but without adding {@code :latest} when there is no tag or digest. */
    public static Reference parseRepository(String text) {
        return parse(text, false);
    }

    private static Reference parse(String text, boolean defaultTag) {
        if (text.isEmpty()) {
            throw invalid(text, "empty reference");
        }
        String rest = text;
        Optional<Digest> digest = Optional.empty();
        int at = rest.indexOf('@');
        if (at >= 0) {
            String d = rest.substring(at + 1);
            rest = rest.substring(0, at);
            try {
                digest = Optional.of(Digest.parse(d));
            } catch (LayersException e) {
                throw invalid(text, "invalid digest \"" + d + "\"");
            }
        }
        Optional<String> tag = Optional.empty();
        int lastSlash = rest.lastIndexOf('/');
        int colon = rest.lastIndexOf(':');
        if (colon > lastSlash) {
            String t = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(t).matches()) {
                throw invalid(text, t.isEmpty() ? "empty tag" : "invalid tag \"" + t + "\"");
            }
            tag = Optional.of(t);
        }
        if (rest.isEmpty()) {
            throw invalid(text, "empty repository name");
        }
        String registry;
        String path;
        int slash = rest.indexOf('/');
        String first = slash < 0 ? "" : rest.substring(0, slash);
        if (slash >= 0 && (first.contains(".") || first.contains(":") || first.equals("localhost")
                || !first.toLowerCase(Locale.ROOT).equals(first))) {
            registry = first;
            path = rest.substring(slash + 1);
            checkDomain(text, registry);
        } else {
            registry = DOCKER_HUB;
            path = rest;
        }
        if (registry.equals("index.docker.io") || registry.equals(DOCKER_HUB_HOST)) {
            registry = DOCKER_HUB;
        }
        if (!path.toLowerCase(Locale.ROOT).equals(path)) {
            throw invalid(text, "repository name must be lowercase");
        }
        if (registry.equals(DOCKER_HUB) && !path.contains("/")) {
            if (HEX64.matcher(path).matches() && tag.isEmpty() && digest.isEmpty() && slash < 0) {
                throw invalid(text, "a 64-character hex string is an image id, not a repository name");
            }
            path = "library/" + path;
        }
        for (String component : path.split("/", -1)) {
            if (component.isEmpty()) {
                throw invalid(text, "empty path component");
            }
            if (!PATH_COMPONENT.matcher(component).matches()) {
                throw invalid(text, "invalid path component \"" + component + "\"");
            }
        }
        if ((registry + "/" + path).length() > NAME_MAX) {
            throw invalid(text, "repository name longer than " + NAME_MAX + " characters");
        }
        if (defaultTag && tag.isEmpty() && digest.isEmpty()) {
            tag = Optional.of("latest");
        }
        return new Reference(registry, path, tag, digest);
    }

    private static void checkDomain(String text, String domain) {
        String host = domain;
        int colon = domain.lastIndexOf(':');
        if (colon >= 0 && !(domain.startsWith("[") && domain.endsWith("]"))) {
            String port = domain.substring(colon + 1);
            host = domain.substring(0, colon);
            if (!port.matches("[0-9]+")) {
                throw invalid(text, "invalid port \"" + port + "\"");
            }
        }
        if (host.startsWith("[")) {
            if (!IPV6.matcher(host).matches()) {
                throw invalid(text, "invalid IPv6 address \"" + host + "\"");
            }
            return;
        }
        for (String c : host.split("\\.", -1)) {
            if (!DOMAIN_COMPONENT.matcher(c).matches()) {
                throw invalid(text, "invalid registry host \"" + host + "\"");
            }
        }
    }

    private static LayersException invalid(String text, String why) {
        return new LayersException("invalid reference format \"" + text + "\": " + why);
    }

    /** {@code registry/repository}, no tag or digest. */
    public String name() {
        return registry + "/" + repository;
    }

    /** The host (and port) to connect to: Docker Hub's API host for {@code docker.io}. */
    public String registryHost() {
        return registry.equals(DOCKER_HUB) ? DOCKER_HUB_HOST : registry;
    }

    public boolean isDockerHub() {
        return registry.equals(DOCKER_HUB);
    }

    /** The tag, or the digest, that names the manifest to fetch: what goes after {@code /manifests/}. */
    public String manifestReference() {
        return digest.map(Digest::toString).orElseGet(() -> tag.orElse("latest"));
    }

    public Reference withTag(String newTag) {
        if (!TAG.matcher(newTag).matches()) {
            throw invalid(newTag, "invalid tag");
        }
        return new Reference(registry, repository, Optional.of(newTag), Optional.empty());
    }

    public Reference withDigest(Digest newDigest) {
        return new Reference(registry, repository, tag, Optional.of(newDigest));
    }

    /** The same repository with only the digest (what a pull by tag resolved to). */
    public Reference byDigest(Digest d) {
        return new Reference(registry, repository, Optional.empty(), Optional.of(d));
    }

    /** The short form docker shows: {@code alpine:3.20}, {@code user/app:1}, {@code host:5000/app:1}. */
    public String familiar() {
        return familiarName() + tag.map(t -> ":" + t).orElse("") + digest.map(d -> "@" + d).orElse("");
    }

    /** The repository as docker shows it: without {@code docker.io/} and {@code library/}. */
    public String familiarName() {
        if (!isDockerHub()) {
            return name();
        }
        return repository.startsWith("library/") && repository.indexOf('/', 8) < 0
                ? repository.substring("library/".length()) : repository;
    }

    @Override
    public String toString() {
        return name() + tag.map(t -> ":" + t).orElse("") + digest.map(d -> "@" + d).orElse("");
    }
}
