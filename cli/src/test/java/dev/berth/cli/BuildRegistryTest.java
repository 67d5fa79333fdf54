package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.layers.BerthHome;
import dev.berth.layers.Image;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Platform;
import dev.berth.layers.Reference;
import dev.berth.layers.testing.Jvm;
import dev.berth.layers.testing.Tools;
import dev.berth.registry.testing.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth build} with a real registry: {@code --push}, and a FROM image the store lacks pulled on the way. */
class BuildRegistryTest {
    @TempDir
    static Path shared;
    static LocalRegistry registry;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        registry = LocalRegistry.open(shared.resolve("registry"));
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    private Tools.Result berth(Path home, String... args) {
        Map<String, String> env = new HashMap<>();
        env.put("BERTH_HOME", home.toString());
        env.put("BERTH_CONFIG_DIR", tmp.resolve("config").toString());
        env.put("DOCKER_CONFIG", tmp.resolve("docker").toString());
        env.put("HOME", tmp.resolve("user").toString());
        return Tools.run(Jvm.command(Berth.class, args), env, null);
    }

    @Test
    void pushesWhatItBuildsAndPullsABaseImageTheStoreLacks() throws Exception {
        Path base = Files.createDirectories(tmp.resolve("base"));
        Files.writeString(base.resolve("a.txt"), "a");
        Files.writeString(base.resolve("Dockerfile"), "FROM scratch\nCOPY a.txt /\nLABEL base=1\n");
        String name = registry.host() + "/team/base:1";
        Tools.Result pushed = berth(tmp.resolve("home-1"), "build", "--progress", "plain", "--push", "-t", name,
                base.toString()).ok();
        assertThat(pushed.stderr()).contains("naming to " + name + "\n", "pushing " + name + "\n");

        Path app = Files.createDirectories(tmp.resolve("app"));
        Files.writeString(app.resolve("b.txt"), "b");
        Files.writeString(app.resolve("Dockerfile"), "FROM " + name + "\nCOPY b.txt /\n");
        Path home = tmp.resolve("home-2");
        Tools.Result built = berth(home, "build", "--progress", "plain", "-t", "app:1", app.toString()).ok();
        assertThat(built.stderr()).contains("pulling " + name + "\n");
        try (ImageStore store = new BerthHome(home).openStore()) {
            Image image = store.image(Reference.parse("app:1"), Platform.host());
            assertThat(image.layers()).hasSize(2);
            assertThat(image.config().value().containerConfig().labels()).containsEntry("base", "1");
            assertThat(image.manifest().value().annotations())
                    .containsEntry("org.opencontainers.image.base.name", Reference.parse(name).toString());
            assertThat(store.resolve(Reference.parse(name))).isPresent(); // the pulled base stays, as docker keeps it
        }
        Tools.Result missing = berth(home, "build", "--progress", "plain", app.resolveSibling("nothing").toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        Files.writeString(app.resolve("Dockerfile"), "FROM " + registry.host() + "/team/nothing:1\n");
        Tools.Result unknown = berth(home, "build", app.toString());
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.stderr()).endsWith("berth: Dockerfile:1: pull " + registry.host()
                + "/team/nothing:1: manifest unknown (MANIFEST_UNKNOWN)\n");
    }
}
