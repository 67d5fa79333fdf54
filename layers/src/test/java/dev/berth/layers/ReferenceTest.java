package dev.berth.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The distribution reference grammar with Docker Hub normalisation, as a table. */
class ReferenceTest {
    private static final String H = "a".repeat(64);
    private static final String D = "sha256:" + H;

    /** input -> the full normalised form. */
    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of("alpine", "docker.io/library/alpine:latest"),
                Arguments.of("alpine:3.20", "docker.io/library/alpine:3.20"),
                Arguments.of("library/alpine", "docker.io/library/alpine:latest"),
                Arguments.of("docker.io/alpine", "docker.io/library/alpine:latest"),
                Arguments.of("docker.io/library/alpine:edge", "docker.io/library/alpine:edge"),
                Arguments.of("index.docker.io/alpine", "docker.io/library/alpine:latest"),
                Arguments.of("index.docker.io/library/alpine:1", "docker.io/library/alpine:1"),
                Arguments.of("registry-1.docker.io/library/busybox", "docker.io/library/busybox:latest"),
                Arguments.of("user/app", "docker.io/user/app:latest"),
                Arguments.of("user/app:v1.2.3", "docker.io/user/app:v1.2.3"),
                Arguments.of("user/team/app", "docker.io/user/team/app:latest"),
                Arguments.of("ghcr.io/org/app:1", "ghcr.io/org/app:1"),
                Arguments.of("quay.io/coreos/etcd", "quay.io/coreos/etcd:latest"),
                Arguments.of("localhost/app", "localhost/app:latest"),
                Arguments.of("localhost:5000/app:dev", "localhost:5000/app:dev"),
                Arguments.of("127.0.0.1:5000/a/b/c:t", "127.0.0.1:5000/a/b/c:t"),
                Arguments.of("[::1]:5000/app", "[::1]:5000/app:latest"),
                Arguments.of("Registry.Example.com/app", "Registry.Example.com/app:latest"),
                Arguments.of("example.com:443/app", "example.com:443/app:latest"),
                Arguments.of("alpine@" + D, "docker.io/library/alpine@" + D),
                Arguments.of("alpine:3@" + D, "docker.io/library/alpine:3@" + D),
                Arguments.of("host:5000/app@" + D, "host:5000/app@" + D),
                Arguments.of("host:5000/app:1@" + D, "host:5000/app:1@" + D),
                Arguments.of("a_b/c__d", "docker.io/a_b/c__d:latest"),
                Arguments.of("a-b/c---d", "docker.io/a-b/c---d:latest"),
                Arguments.of("a.b/c", "a.b/c:latest"),
                Arguments.of("foo/a.b.c", "docker.io/foo/a.b.c:latest"),
                Arguments.of("app:TAG_upper", "docker.io/library/app:TAG_upper"),
                Arguments.of("app:_under", "docker.io/library/app:_under"),
                Arguments.of("app:" + "t".repeat(128), "docker.io/library/app:" + "t".repeat(128)),
                Arguments.of("xn--bcher-kva.example/app", "xn--bcher-kva.example/app:latest"),
                Arguments.of("sub.domain.example.com/path/to/repo:1.0-rc.1", "sub.domain.example.com/path/to/repo:1.0-rc.1"),
                Arguments.of("docker.io/" + H, "docker.io/" + H.substring(0, 0) + "library/" + H + ":latest"),
                Arguments.of(H + ":tag", "docker.io/library/" + H + ":tag"),
                Arguments.of("a", "docker.io/library/a:latest"),
                Arguments.of("0", "docker.io/library/0:latest"));
    }

    /** input -> why it is invalid (a fragment of the message). */
    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("", "empty reference"),                              // nothing at all
                Arguments.of(":tag", "empty repository name"),                     // tag without a name
                Arguments.of("@" + D, "empty repository name"),                    // digest without a name
                Arguments.of("Alpine", "must be lowercase"),                      // uppercase repository
                Arguments.of("user/App", "must be lowercase"),                    // uppercase path component
                Arguments.of("docker.io/Library/alpine", "must be lowercase"),    // uppercase under docker.io
                Arguments.of("alpine:", "empty tag"),                              // colon with no tag
                Arguments.of("alpine:-x", "invalid tag"),                          // tag starting with '-'
                Arguments.of("alpine:.x", "invalid tag"),                          // tag starting with '.'
                Arguments.of("alpine:a+b", "invalid tag"),                         // '+' not allowed in tags
                Arguments.of("alpine:" + "t".repeat(129), "invalid tag"),          // tag longer than 128
                Arguments.of("alpine@sha256:abc", "invalid digest"),               // short hex
                Arguments.of("alpine@md5:" + "a".repeat(32), "invalid digest"),    // unsupported algorithm
                Arguments.of("alpine@" + D.toUpperCase(), "invalid digest"),      // uppercase hex
                Arguments.of("alpine@", "invalid digest"),                         // '@' with nothing after
                Arguments.of("a//b", "empty path component"),                      // double slash
                Arguments.of("user/", "empty path component"),                     // trailing slash
                Arguments.of("/app", "empty path component"),                      // leading slash
                Arguments.of("-app", "invalid path component"),                    // leading separator
                Arguments.of("app-", "invalid path component"),                    // trailing separator
                Arguments.of("a..b", "invalid path component"),                    // double dot separator
                Arguments.of("a___b", "invalid path component"),                   // triple underscore
                Arguments.of("a._b", "invalid path component"),                    // mixed separator
                Arguments.of("user/a b", "invalid path component"),                // space
                Arguments.of("user/a%b", "invalid path component"),                // percent sign
                Arguments.of("host:abc/app", "invalid port"),                      // non-numeric port
                Arguments.of("host:/app", "invalid port"),                         // empty port
                Arguments.of("-host.com/app", "invalid registry host"),            // host component starting with '-'
                Arguments.of("host-.com/app", "invalid registry host"),            // host component ending with '-'
                Arguments.of("ho_st.com/app", "invalid registry host"),            // underscore in host
                Arguments.of("host..com/app", "invalid registry host"),            // empty host component
                Arguments.of("[::1/app", "invalid"),                               // unterminated IPv6
                Arguments.of("[zz::1]:5000/app", "invalid IPv6"),                  // not hex
                Arguments.of(H, "image id"),                                       // a bare 64-hex id is ambiguous
                Arguments.of("example.com/" + "a".repeat(250), "longer than 255"), // name too long
                Arguments.of("app:tag:more", "invalid"),                           // two tags
                Arguments.of("app@" + D + "@" + D, "invalid digest"));             // two digests
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void parsesAndNormalises(String input, String expected) {
        Reference ref = Reference.parse(input);
        assertThat(ref.toString()).isEqualTo(expected);
        assertThat(Reference.parse(ref.toString())).isEqualTo(ref);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("invalid")
    void rejects(String input, String why) {
        assertThatThrownBy(() -> Reference.parse(input))
                .isInstanceOf(LayersException.class)
                .hasMessageContaining("invalid reference format")
                .hasMessageContaining(why);
    }

    @org.junit.jupiter.api.Test
    void partsAndFamiliarForms() {
        Reference hub = Reference.parse("alpine:3.20");
        assertThat(hub.registry()).isEqualTo("docker.io");
        assertThat(hub.registryHost()).isEqualTo("registry-1.docker.io");
        assertThat(hub.repository()).isEqualTo("library/alpine");
        assertThat(hub.familiar()).isEqualTo("alpine:3.20");
        assertThat(hub.manifestReference()).isEqualTo("3.20");
        assertThat(Reference.parse("user/app").familiar()).isEqualTo("user/app:latest");
        assertThat(Reference.parse("docker.io/library/a/b").familiarName()).isEqualTo("library/a/b");
        Reference local = Reference.parse("localhost:5000/app@" + D);
        assertThat(local.registryHost()).isEqualTo("localhost:5000");
        assertThat(local.tag()).isEmpty();
        assertThat(local.manifestReference()).isEqualTo(D);
        assertThat(Reference.parseRepository("alpine").tag()).isEmpty();
        assertThat(Reference.parse("alpine").withTag("edge").toString()).isEqualTo("docker.io/library/alpine:edge");
    }
}
