package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.Descriptor;
import dev.berth.layers.ImageStore;
import dev.berth.layers.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where images go, and what a failed build leaves behind: no names, no partial blobs. */
class OutputsTest {
    @TempDir
    Path tmp;

    @Test
    void theStoreNamesTheImageWithEveryTagOrKeepsItUnnamed() {
        BuildFixture f = new BuildFixture(tmp);
        f.dockerfile("FROM scratch", "LABEL a=1");
        BuildResult r = f.build(o -> o.tag("one:1").tag("example.com/two:latest"));
        assertThat(f.tagged("one:1").digest()).isEqualTo(r.digest());
        assertThat(f.tagged("example.com/two").digest()).isEqualTo(r.digest());
        f.dockerfile("FROM scratch", "LABEL a=2");
        BuildResult unnamed = f.build(o -> o);
        try (ImageStore store = f.home.openStore()) {
            assertThat(store.entries()).anyMatch(d -> d.digest().equals(unnamed.digest())
                    && d.annotation(Descriptor.REF_NAME).isEmpty());
        }
    }

    @Test
    void aFailedBuildNamesNothingAndLeavesNoPartialBlobs() throws Exception {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        BuildResult good = f.build(o -> o.tag("app:1").dockerfile(f.file("good.Dockerfile", "FROM scratch\nCOPY a.txt /\n")));
        f.file("bad.Dockerfile", "FROM scratch\nCOPY a.txt /b.txt\nCOPY missing /\n");
        assertThatThrownBy(() -> f.build(o -> o.tag("app:1").dockerfile(f.context.resolve("bad.Dockerfile"))))
                .hasMessageStartingWith(f.context.resolve("bad.Dockerfile") + ":3: COPY source \"missing\"");
        assertThat(f.tagged("app:1").digest()).isEqualTo(good.digest());
        try (Stream<Path> temp = Files.walk(f.home.root())) {
            assertThat(temp.filter(p -> p.getFileName().toString().endsWith(".tmp"))).isEmpty();
        }
        try (Stream<Path> scratch = Files.list(f.home.tmp())) {
            assertThat(scratch).isEmpty();
        }
    }

    @Test
    void pushGoesThroughThePusherAndIsRefusedBeforeBuildingWithoutOne() {
        BuildFixture f = new BuildFixture(tmp);
        f.dockerfile("FROM scratch", "LABEL a=1");
        assertThatThrownBy(() -> f.build(o -> o.tag("registry.example:5000/app:1").output(new BuildOutput.Push())))
                .hasMessageStartingWith("--push needs a registry: this builder was made without a pusher");
        List<String> pushed = new ArrayList<>();
        BuildResult r = Builder.create(f.home).withPusher((store, image, target) -> pushed.add(target + " " + image.digest()))
                .build(f.request().tag("registry.example:5000/app:1").output(new BuildOutput.Push()).build(), e -> { });
        assertThat(pushed).containsExactly("registry.example:5000/app:1 " + r.digest());
        // The push sends what the store names: the name is there when the pusher runs.
        assertThat(f.tagged("registry.example:5000/app:1").digest()).isEqualTo(r.digest());
        assertThatThrownBy(() -> Builder.create(f.home).withPusher((s, i, t) -> { })
                .build(f.request().output(new BuildOutput.Push()).build(), e -> { }))
                .hasMessage("--push needs a name to push to: add -t REGISTRY/NAME:TAG");
    }

    @Test
    void aDockerArchiveNeedsAName() {
        BuildFixture f = new BuildFixture(tmp);
        f.dockerfile("FROM scratch", "LABEL a=1");
        assertThatThrownBy(() -> f.build(o -> o.output(new BuildOutput.DockerArchive(tmp.resolve("x.tar")))))
                .hasMessageContaining("needs a name (docker load names images by it): add -t NAME:TAG");
    }

    @Test
    void outputSyntax() {
        assertThat(BuildOutput.parse("oci:out")).isEqualTo(new BuildOutput.OciLayout(Path.of("out")));
        assertThat(BuildOutput.parse("docker-archive:a.tar")).isEqualTo(new BuildOutput.DockerArchive(Path.of("a.tar")));
        assertThat(BuildOutput.parse("type=oci,dest=d")).isEqualTo(new BuildOutput.OciLayout(Path.of("d")));
        assertThat(BuildOutput.parse("type=docker,dest=f.tar")).isEqualTo(new BuildOutput.DockerArchive(Path.of("f.tar")));
        assertThatThrownBy(() -> BuildOutput.parse("registry:x")).hasMessage(
                "--output registry:x: expected oci:DIR or docker-archive:FILE");
    }

    @Test
    void aSecondStoreSeesTheNameWrittenByTheFirst() {
        BuildFixture f = new BuildFixture(tmp);
        f.dockerfile("FROM scratch", "LABEL a=1");
        BuildResult r = f.build(o -> o.tag("x:1"));
        try (ImageStore store = f.home.openStore()) {
            store.untag(Reference.parse("x:1"));
        }
        // The names were changed behind the cache's back: the rebuild names the image again.
        f.build(o -> o.tag("x:1"));
        assertThat(f.tagged("x:1").digest()).isEqualTo(r.digest());
    }
}
