package dev.berth.registry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.layers.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docker's and podman's credential files and docker's credential helper protocol (with a helper script). */
class CredentialStoreTest {
    @TempDir
    Path tmp;
    Map<String, String> env;

    @BeforeEach
    void environment() throws Exception {
        env = new HashMap<>();
        env.put("HOME", tmp.resolve("home").toString());
        env.put("PATH", tmp.resolve("bin") + ":/usr/bin:/bin");
        Files.createDirectories(tmp.resolve("home"));
        Files.createDirectories(tmp.resolve("bin"));
    }

    private static String auth(String user, String password) {
        return Base64.getEncoder().encodeToString((user + ":" + password).getBytes(UTF_8));
    }

    private Path dockerConfig(String json) throws Exception {
        Path f = tmp.resolve("home/.docker/config.json");
        Files.createDirectories(f.getParent());
        Files.writeString(f, json);
        return f;
    }

    /** A credential helper that keeps entries as files in {@code dir}, like the real ones keep them in a keychain. */
    private void helper(String name) throws Exception {
        Path store = tmp.resolve("helper-" + name);
        Files.createDirectories(store);
        Path script = tmp.resolve("bin/docker-credential-" + name);
        Files.writeString(script, """
                #!/bin/sh
                store=%s
                key() { printf %%s "$1" | sha256sum | cut -c1-16; }
                case "$1" in
                  get) read -r url; f="$store/$(key "$url")"
                       if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
                  store) json=$(cat); url=$(printf %%s "$json" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/')
                       printf %%s "$json" > "$store/$(key "$url")" ;;
                  erase) read -r url; f="$store/$(key "$url")"
                       if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
                esac
                """.formatted(store));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void dockerHubKeyAndPlainHostKeys() throws Exception {
        dockerConfig("{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"" + auth("hubuser", "p:w") + "\"},"
                + "\"http://reg.example:5000\": {\"auth\": \"" + auth("reguser", "rp") + "\"}}}");
        CredentialStore s = CredentialStore.fromEnvironment(env);
        assertThat(s.find("docker.io", "library/alpine")).contains(new Credentials.Basic("hubuser", "p:w"));
        assertThat(s.find("index.docker.io", "x/y")).contains(new Credentials.Basic("hubuser", "p:w"));
        assertThat(s.find("reg.example:5000", "app")).contains(new Credentials.Basic("reguser", "rp"));
        assertThat(s.find("reg.example", "app")).isEmpty();
    }

    @Test
    void dockerConfigVariableAndTokens() throws Exception {
        Path dir = tmp.resolve("elsewhere");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{\"auths\": {\"a.example\": {\"auth\": \"" + auth("u", "")
                + "\", \"identitytoken\": \"refresh-1\"}, \"b.example\": {\"registrytoken\": \"bearer-2\"}}}");
        env.put("DOCKER_CONFIG", dir.toString());
        CredentialStore s = CredentialStore.fromEnvironment(env);
        assertThat(s.dockerConfigFile()).isEqualTo(dir.resolve("config.json"));
        assertThat(s.find("a.example", "r")).contains(new Credentials.IdentityToken("u", "refresh-1"));
        assertThat(s.find("b.example", "r")).contains(new Credentials.RegistryToken("bearer-2"));
    }

    @Test
    void podmanAuthFileWithNamespacedKeysLongestFirst() throws Exception {
        Path runtime = tmp.resolve("run");
        Files.createDirectories(runtime.resolve("containers"));
        Files.writeString(runtime.resolve("containers/auth.json"), "{\"auths\": {"
                + "\"quay.io\": {\"auth\": \"" + auth("all", "1") + "\"},"
                + "\"quay.io/team\": {\"auth\": \"" + auth("team", "2") + "\"},"
                + "\"quay.io/team/app\": {\"auth\": \"" + auth("app", "3") + "\"},"
                + "\"docker.io\": {\"auth\": \"" + auth("podhub", "4") + "\"}}}");
        env.put("XDG_RUNTIME_DIR", runtime.toString());
        CredentialStore s = CredentialStore.fromEnvironment(env);
        assertThat(s.find("quay.io", "team/app")).contains(new Credentials.Basic("app", "3"));
        assertThat(s.find("quay.io", "team/other")).contains(new Credentials.Basic("team", "2"));
        assertThat(s.find("quay.io", "teamx/app")).contains(new Credentials.Basic("all", "1"));
        assertThat(s.find("docker.io", "library/alpine")).contains(new Credentials.Basic("podhub", "4"));
        env.put("REGISTRY_AUTH_FILE", tmp.resolve("missing.json").toString());
        assertThat(CredentialStore.fromEnvironment(env).find("quay.io", "x")).contains(new Credentials.Basic("all", "1"));
    }

    @Test
    void dockerConfigComesBeforePodman() throws Exception {
        dockerConfig("{\"auths\": {\"quay.io\": {\"auth\": \"" + auth("docker", "d") + "\"}}}");
        Path podman = tmp.resolve("home/.config/containers/auth.json");
        Files.createDirectories(podman.getParent());
        Files.writeString(podman, "{\"auths\": {\"quay.io\": {\"auth\": \"" + auth("podman", "p") + "\"}}}");
        assertThat(CredentialStore.fromEnvironment(env).find("quay.io", "x")).contains(new Credentials.Basic("docker", "d"));
    }

    @Test
    void credentialHelpersPerRegistryAndGlobalWithTheHubKey() throws Exception {
        helper("fake");
        helper("other");
        dockerConfig("{\"credsStore\": \"fake\", \"credHelpers\": {\"special.example\": \"other\"}}");
        CredentialStore s = CredentialStore.fromEnvironment(env);
        assertThat(s.store("docker.io", new Credentials.Basic("hub", "secret"))).isEqualTo("credential helper docker-credential-fake");
        assertThat(s.store("special.example", new Credentials.Basic("sp", "s2"))).isEqualTo("credential helper docker-credential-other");
        assertThat(s.find("docker.io", "library/alpine")).contains(new Credentials.Basic("hub", "secret"));
        assertThat(s.find("special.example", "a")).contains(new Credentials.Basic("sp", "s2"));
        assertThat(s.find("nothing.example", "a")).isEmpty();
        // the helper was asked with docker's key for the Hub, and config.json got docker's empty placeholder
        JsonNode config = Json.mapper().readTree(Files.readAllBytes(s.dockerConfigFile()));
        assertThat(config.path("auths").has(CredentialStore.DOCKER_HUB_KEY)).isTrue();
        assertThat(config.path("auths").path(CredentialStore.DOCKER_HUB_KEY).size()).isZero();
        assertThat(config.path("credsStore").asText()).isEqualTo("fake");
        assertThat(s.erase("docker.io")).isTrue();
        assertThat(s.find("docker.io", "library/alpine")).isEmpty();
        assertThat(s.erase("docker.io")).isFalse();
    }

    @Test
    void aHelperAnsweringTokenIsAnIdentityToken() throws Exception {
        helper("fake");
        dockerConfig("{\"credsStore\": \"fake\"}");
        CredentialStore s = CredentialStore.fromEnvironment(env);
        s.store("r.example", new Credentials.Basic("<token>", "refresh-9"));
        assertThat(s.find("r.example", "x")).contains(new Credentials.IdentityToken("<token>", "refresh-9"));
    }

    @Test
    void aMissingHelperIsAnErrorNotAnonymousAccess() throws Exception {
        dockerConfig("{\"credsStore\": \"desktop\"}");
        assertThatThrownBy(() -> CredentialStore.fromEnvironment(env).find("docker.io", "library/alpine"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("credential helper docker-credential-desktop")
                .hasMessageContaining("credsStore in " + tmp.resolve("home/.docker/config.json"))
                .hasMessageContaining("not on PATH");
    }

    @Test
    void loginWithoutHelperWritesAuthToANewPrivateConfigKeepingOtherSettings() throws Exception {
        CredentialStore s = CredentialStore.fromEnvironment(env);
        assertThat(s.store("reg.example:5000", new Credentials.Basic("u", "p"))).isEqualTo(s.dockerConfigFile().toString());
        assertThat(Files.getPosixFilePermissions(s.dockerConfigFile())).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(s.find("reg.example:5000", "x")).contains(new Credentials.Basic("u", "p"));

        Files.writeString(s.dockerConfigFile(), "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"" + auth("a", "b")
                + "\"}}, \"psFormat\": \"table {{.ID}}\", \"proxies\": {\"default\": {\"httpProxy\": \"http://p:1\"}}}");
        s.store("docker.io", new Credentials.Basic("new", "pw"));
        JsonNode config = Json.mapper().readTree(Files.readAllBytes(s.dockerConfigFile()));
        assertThat(config.path("psFormat").asText()).isEqualTo("table {{.ID}}");
        assertThat(config.path("proxies").path("default").path("httpProxy").asText()).isEqualTo("http://p:1");
        assertThat(s.find("docker.io", "library/x")).contains(new Credentials.Basic("new", "pw"));
        assertThat(s.erase("index.docker.io")).isTrue();
        assertThat(s.find("docker.io", "library/x")).isEmpty();
        assertThat(Json.mapper().readTree(Files.readAllBytes(s.dockerConfigFile())).path("psFormat").asText())
                .isEqualTo("table {{.ID}}");
    }

    @Test
    void brokenEntriesAreErrorsNamingTheFile() throws Exception {
        Path f = dockerConfig("{\"auths\": {\"r.example\": {\"auth\": \"not base64!\"}}}");
        assertThatThrownBy(() -> CredentialStore.fromEnvironment(env).find("r.example", "x"))
                .hasMessage(f + ": the auth entry for r.example is not valid base64");
        dockerConfig("{\"auths\": {\"r.example\": {}}}");
        assertThat(CredentialStore.fromEnvironment(env).find("r.example", "x")).isEqualTo(Optional.empty());
    }

    @Test
    void secretsAreNotInToString() {
        assertThat(new Credentials.Basic("u", "hunter2").toString()).doesNotContain("hunter2");
        assertThat(new Credentials.IdentityToken("u", "tok").toString()).doesNotContain("tok]").contains("hidden");
        assertThat(new Credentials.RegistryToken("tok").toString()).doesNotContain("tok]");
    }
}
