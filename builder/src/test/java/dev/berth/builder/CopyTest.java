package dev.berth.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.layers.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** COPY's rules, checked on the layers it writes. */
class CopyTest {
    @TempDir
    Path tmp;

    private static String mode(TarArchiveEntry e) {
        return Integer.toOctalString(e.getMode() & 07777) + " " + e.getLongUserId() + ":" + e.getLongGroupId();
    }

    @Test
    void severalSourcesWildcardsAndDirectoryContents() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        f.file("b.txt", "b");
        f.file("c.md", "c");
        f.file("dir/one", "1");
        f.file("dir/sub/two", "2");
        BuildResult r = f.build("FROM scratch", "COPY *.txt c.md /files/", "COPY dir /d", "COPY d?r/sub /s/");
        assertThat(f.layer(r, 0)).containsOnlyKeys("files/", "files/a.txt", "files/b.txt", "files/c.md");
        assertThat(f.layer(r, 1)).containsOnlyKeys("d/", "d/one", "d/sub/", "d/sub/two");
        assertThat(f.layer(r, 2)).containsOnlyKeys("s/", "s/two");
        assertThat(f.content(r, 1, "d/sub/two")).isEqualTo("2");
        assertThat(mode(f.layer(r, 0).get("files/a.txt"))).isEqualTo("644 0:0");
        assertThat(f.layer(r, 0).get("files/a.txt").getModTime().toInstant().getEpochSecond()).isEqualTo(1700000000L);
    }

    /** Symlink loops in the context: copied as links, and a source that goes through one is a one-line error. */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void symlinkLoopsInTheContextAreCopiedAsLinksAndCannotBeFollowed() throws java.io.IOException {
        BuildFixture f = new BuildFixture(tmp);
        f.file("d/x", "x");
        Files.createSymbolicLink(f.context.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(f.context.resolve("b"), Path.of("a"));
        Files.createSymbolicLink(f.context.resolve("d/up"), Path.of(".."));
        Files.createSymbolicLink(f.context.resolve("self"), Path.of("self"));
        BuildResult r = f.build("FROM scratch", "COPY . /c/");
        Map<String, TarArchiveEntry> layer = f.layer(r, 0);
        assertThat(layer).containsKeys("c/a", "c/b", "c/d/up", "c/self", "c/d/x");
        assertThat(layer.get("c/d/up").getLinkName()).isEqualTo("..");
        assertThat(layer.get("c/a").getLinkName()).isEqualTo("b");
        for (String source : List.of("a", "self", "d/up/a")) {
            assertThatThrownBy(() -> f.build("FROM scratch", "COPY " + source + " /y"))
                    .isInstanceOf(BuildException.class)
                    .hasMessageStartingWith("Dockerfile:2: ")
                    .satisfies(e -> assertThat(e.getMessage()).contains(source).doesNotContain("\n"));
        }
    }

    @Test
    void destinationRules() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        f.file("b.txt", "b");
        BuildResult r = f.build("FROM scratch",
                "COPY a.txt /renamed",          // no slash: the file is written at the destination
                "COPY a.txt /dir/",             // a slash: into the directory
                "COPY b.txt /dir",              // an existing directory: into it
                "WORKDIR /work",
                "COPY a.txt rel/",              // relative to WORKDIR
                "COPY b.txt .");
        assertThat(f.tree(r)).containsKeys("renamed", "dir/a.txt", "dir/b.txt", "work/rel/a.txt", "work/b.txt");
        assertThat(f.tree(r).get("renamed")).startsWith("f ");
        assertThatThrownBy(() -> f.build("FROM scratch", "COPY a.txt b.txt /dir"))
                .hasMessage("Dockerfile:2: When using COPY with more than one source file, the destination must be a "
                        + "directory and end with a /");
        assertThatThrownBy(() -> f.build("FROM scratch", "COPY *.txt /dir"))
                .hasMessageContaining("the destination must be a directory and end with a /");
    }

    @Test
    void createdParentsAre0755AndTakeTheChownOwnerWhileExistingOnesKeepTheirAttributes() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        f.file("opt/keep", "k");
        try {
            Files.setAttribute(f.context.resolve("opt"), "unix:mode", 0700);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        BuildResult r = f.build("FROM scratch", "COPY --chown=7:8 a.txt /x/y/z/", "COPY opt /opt", "COPY a.txt /opt/new/a.txt");
        Map<String, TarArchiveEntry> first = f.layer(r, 0);
        assertThat(mode(first.get("x/"))).isEqualTo("755 7:8");
        assertThat(mode(first.get("x/y/z/"))).isEqualTo("755 7:8");
        assertThat(mode(first.get("x/y/z/a.txt"))).isEqualTo("644 7:8");
        assertThat(mode(f.layer(r, 1).get("opt/"))).isEqualTo("700 0:0");
        Map<String, TarArchiveEntry> third = f.layer(r, 2);
        assertThat(third).containsOnlyKeys("opt/", "opt/new/", "opt/new/a.txt");
        assertThat(mode(third.get("opt/"))).isEqualTo("700 0:0");
        assertThat(mode(third.get("opt/new/"))).isEqualTo("755 0:0");
    }

    @Test
    void chownResolvesNamesInTheImagesPasswdAndGroup() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:App:/home/app:/bin/sh\n");
        f.file("etc/group", "root:x:0:\napp:x:1001:\nstaff:x:50:app\n");
        f.file("a.txt", "a");
        BuildResult r = f.build("FROM scratch", "COPY etc /etc", "COPY --chown=app a.txt /1", "COPY --chown=app:staff a.txt /2",
                "COPY --chown=5 a.txt /3", "COPY --chown=app:7 a.txt /4");
        assertThat(mode(f.layer(r, 1).get("1"))).isEqualTo("644 1000:1001");
        assertThat(mode(f.layer(r, 2).get("2"))).isEqualTo("644 1000:50");
        assertThat(mode(f.layer(r, 3).get("3"))).isEqualTo("644 5:5");
        assertThat(mode(f.layer(r, 4).get("4"))).isEqualTo("644 1000:7");
        assertThatThrownBy(() -> f.build("FROM scratch", "COPY etc /etc", "COPY --chown=nobody a.txt /"))
                .hasMessage("Dockerfile:3: COPY --chown=nobody: user \"nobody\" not found in /etc/passwd of the image");
        assertThatThrownBy(() -> f.build("FROM scratch", "COPY etc /etc", "COPY --chown=app:wheel a.txt /"))
                .hasMessage("Dockerfile:3: COPY --chown=app:wheel: group \"wheel\" not found in /etc/group of the image");
        assertThatThrownBy(() -> f.build("FROM scratch", "COPY --chown=app a.txt /"))
                .hasMessage("Dockerfile:2: COPY --chown=app: user \"app\" not found: the image has no /etc/passwd "
                        + "(copy one in first, or use numeric ids)");
    }

    @Test
    void chmodOctalAndSymbolicApplyToFilesAndDirectoriesButNotSymlinks() throws Exception {
        BuildFixture f = new BuildFixture(tmp);
        f.file("d/script", "#!/bin/sh\n", 0640);
        f.file("d/exec", "x", 0750);
        Files.createSymbolicLink(f.context.resolve("d/link"), Path.of("script"));
        BuildResult r = f.build("FROM scratch", "COPY --chmod=0755 d /octal", "COPY --chmod=go=rX,u+w d /symbolic");
        Map<String, TarArchiveEntry> octal = f.layer(r, 0);
        assertThat(mode(octal.get("octal/"))).isEqualTo("755 0:0");
        assertThat(mode(octal.get("octal/script"))).isEqualTo("755 0:0");
        assertThat(octal.get("octal/link").isSymbolicLink()).isTrue();
        assertThat(octal.get("octal/link").getLinkName()).isEqualTo("script");
        assertThat(octal.get("octal/link").getMode() & 0777).isEqualTo(0777);
        Map<String, TarArchiveEntry> sym = f.layer(r, 1);
        assertThat(mode(sym.get("symbolic/script"))).isEqualTo("644 0:0");
        assertThat(mode(sym.get("symbolic/exec"))).isEqualTo("755 0:0");
        assertThat(mode(sym.get("symbolic/"))).isEqualTo("755 0:0");
    }

    @Test
    void chmodSyntax() {
        assertThat(Chmod.parse("644").apply(0777, false)).isEqualTo(0644);
        assertThat(Chmod.parse("u+x").apply(0644, false)).isEqualTo(0744);
        assertThat(Chmod.parse("+x").apply(0644, false)).isEqualTo(0755);
        assertThat(Chmod.parse("a=rX").apply(0600, false)).isEqualTo(0444);
        assertThat(Chmod.parse("a=rX").apply(0700, true)).isEqualTo(0555);
        assertThat(Chmod.parse("go-w,u=rw").apply(0777, false)).isEqualTo(0655);
        assertThat(Chmod.parse("g=u").apply(0750, false)).isEqualTo(0770);
        assertThat(Chmod.parse("u+s,+t").apply(0755, false)).isEqualTo(05755);
        assertThatThrownBy(() -> Chmod.parse("u*x")).hasMessageStartingWith("invalid chmod parameter: 'u*x'");
        assertThatThrownBy(() -> Chmod.parse("99999")).hasMessageContaining("between 0 and 07777");
    }

    @Test
    void symlinksAreCopiedAsSymlinksAndNoSourceLeavesTheContext() throws Exception {
        BuildFixture f = new BuildFixture(tmp);
        Files.writeString(tmp.resolve("secret"), "outside");
        f.file("dir/file", "in");
        Files.createSymbolicLink(f.context.resolve("dir/abs"), Path.of("/etc/passwd"));
        Files.createSymbolicLink(f.context.resolve("dir/up"), Path.of("../../secret"));
        Files.createSymbolicLink(f.context.resolve("tofile"), Path.of("dir/file"));
        Files.createSymbolicLink(f.context.resolve("escape"), Path.of("../secret"));
        BuildResult r = f.build("FROM scratch", "COPY dir /dir", "COPY tofile /followed", "COPY ../../dir/file /dotdot");
        Map<String, TarArchiveEntry> dir = f.layer(r, 0);
        assertThat(dir.get("dir/abs").getLinkName()).isEqualTo("/etc/passwd");
        assertThat(dir.get("dir/up").getLinkName()).isEqualTo("../../secret");
        // A source that is a symlink is followed, inside the context.
        assertThat(f.content(r, 1, "followed")).isEqualTo("in");
        assertThat(f.content(r, 2, "dotdot")).isEqualTo("in");
        // ../secret resolves to CONTEXT/secret, which does not exist: never to the file outside.
        assertThatThrownBy(() -> f.build("FROM scratch", "COPY escape /x"))
                .hasMessage("Dockerfile:2: COPY source \"escape\" not found in build context");
        assertThatThrownBy(() -> f.build("FROM scratch", "COPY /../secret /x"))
                .hasMessage("Dockerfile:2: COPY source \"/../secret\" not found in build context");
    }

    @Test
    void dockerignoreWithExceptions() {
        BuildFixture f = new BuildFixture(tmp);
        f.file(".dockerignore", "docs\n!docs/README.md\n*.log\n**/tmp\n");
        f.file("docs/README.md", "r");
        f.file("docs/other.md", "o");
        f.file("app.log", "l");
        f.file("src/main.c", "m");
        f.file("src/tmp/junk", "j");
        BuildResult r = f.build("FROM scratch", "COPY . /ctx/");
        assertThat(f.layer(r, 0).keySet()).contains("ctx/docs/README.md", "ctx/src/main.c", "ctx/Dockerfile")
                .doesNotContain("ctx/docs/other.md", "ctx/app.log", "ctx/src/tmp/", "ctx/src/tmp/junk");
        assertThatThrownBy(() -> f.build("FROM scratch", "COPY app.log /"))
                .hasMessage("Dockerfile:2: COPY source \"app.log\" not found in build context (excluded by .dockerignore)");
        // A Dockerfile's own NAME.dockerignore wins over .dockerignore.
        f.file("build/app.Dockerfile", "FROM scratch\nCOPY . /ctx/\n");
        f.file("build/app.Dockerfile.dockerignore", "src\n");
        BuildResult named = f.build(o -> o.dockerfile(f.context.resolve("build/app.Dockerfile")));
        assertThat(f.layer(named, 0).keySet()).contains("ctx/app.log", "ctx/docs/other.md").doesNotContain("ctx/src/");
    }

    @Test
    void excludeAndParents() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("home.txt", "t");
        f.file("homer.md", "m");
        f.file("src/a/keep.go", "k");
        f.file("src/a/skip_test.go", "s");
        f.file("src/b/keep.go", "k");
        BuildResult r = f.build("FROM scratch", "COPY --exclude=*.txt hom* /mydir/", "COPY --exclude=**/*_test.go src /src",
                "COPY --parents src/*/keep.go /p/", "COPY --parents src/./a/keep.go /pivot/");
        assertThat(f.layer(r, 0)).containsOnlyKeys("mydir/", "mydir/homer.md");
        assertThat(f.layer(r, 1).keySet()).contains("src/a/keep.go", "src/b/keep.go").doesNotContain("src/a/skip_test.go");
        assertThat(f.layer(r, 2).keySet()).contains("p/src/a/keep.go", "p/src/b/keep.go").doesNotContain("p/keep.go");
        assertThat(f.layer(r, 3).keySet()).contains("pivot/a/keep.go").doesNotContain("pivot/src/");
    }

    @Test
    void linkLayersDoNotDependOnTheImageBelow() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("a.txt", "a");
        f.file("b.txt", "b");
        BuildResult one = f.build("FROM scratch", "COPY --link a.txt /app/");
        BuildResult two = f.build("FROM scratch", "COPY b.txt /other/", "COPY --link a.txt /app/");
        assertThat(f.image(two).layers().get(1).digest()).isEqualTo(f.image(one).layers().get(0).digest());
        assertThat(two.steps().get(2).cached()).isTrue();
    }

    @Test
    void heredocsAreFiles() {
        BuildFixture f = new BuildFixture(tmp);
        BuildResult r = f.build("FROM scratch", "ARG WHO=world", "COPY <<EOF /greeting", "hello $WHO", "EOF",
                "COPY --chmod=755 <<run.sh <<'raw' /bin/", "echo $WHO", "run.sh", "$WHO", "raw");
        assertThat(f.content(r, 0, "greeting")).isEqualTo("hello world\n");
        assertThat(f.content(r, 1, "bin/run.sh")).isEqualTo("echo world\n");
        assertThat(f.content(r, 1, "bin/raw")).isEqualTo("$WHO\n");
        assertThat(mode(f.layer(r, 1).get("bin/run.sh"))).isEqualTo("755 0:0");
        assertThat(f.config(r).history().get(0).createdBy()).contains("ARG WHO=world");
        assertThat(f.config(r).history().get(2).createdBy()).contains("COPY --chmod=755 <<run.sh <<raw /bin/");
    }

    @Test
    void copyFromAnImageKeepsOwnersAndTimesAndReadsOnlyWhatItNeeds() {
        BuildFixture f = new BuildFixture(tmp);
        f.file("etc/passwd", "app:x:1000:1000::/:/bin/sh\n");
        f.file("tool", "bin");
        f.build("FROM scratch", "COPY etc /etc", "COPY --chown=app tool /usr/bin/tool");
        f.build(r -> r.tag("tools:1"));
        BuildResult r = f.build("FROM scratch", "COPY --from=tools:1 /usr/bin/tool /etc/passwd /out/",
                "COPY --from=tools:1 /usr /usr2");
        assertThat(mode(f.layer(r, 0).get("out/tool"))).isEqualTo("644 1000:1000");
        assertThat(f.content(r, 0, "out/tool")).isEqualTo("bin");
        assertThat(f.layer(r, 1)).containsOnlyKeys("usr2/", "usr2/bin/", "usr2/bin/tool");
    }

    @Test
    void aMissingSourceNamesThePathAndTheLine() {
        BuildFixture f = new BuildFixture(tmp);
        assertThatThrownBy(() -> f.build("FROM scratch", "", "COPY app /app"))
                .isInstanceOf(BuildException.class)
                .hasMessage("Dockerfile:3: COPY source \"app\" not found in build context");
        BuildResult r = f.build("FROM scratch", "COPY nothing* /opt/");
        assertThat(f.warnings()).contains("Dockerfile:2: COPY source \"nothing*\" matches no files in the build context");
        assertThat(f.layer(r, 0)).containsOnlyKeys("opt/");
    }

    @Test
    void dynamicallyLinkedExecutablesInAnImageWithoutTheirInterpreterAreReported() {
        Tools.require("gcc");
        BuildFixture f = new BuildFixture(tmp);
        f.file("hello.c", "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n");
        Tools.run("gcc", "-o", f.context.resolve("dynamic").toString(), f.context.resolve("hello.c").toString()).ok();
        Tools.run("gcc", "-static", "-o", f.context.resolve("static").toString(), f.context.resolve("hello.c").toString()).ok();
        f.build("FROM scratch", "COPY static /app");
        assertThat(f.warnings()).isEmpty();
        f.build("FROM scratch", "COPY dynamic /app");
        String interp = Elf.interpreter(f.context.resolve("dynamic")).orElseThrow();
        assertThat(f.warnings()).containsExactly("/app: dynamically linked, needs " + interp + ", which the image lacks");
        assertThat(Elf.interpreter(f.context.resolve("static"))).isEmpty();
        // The warning comes back with a cached layer too.
        f.build("FROM scratch", "COPY dynamic /app");
        assertThat(f.warnings()).hasSize(1);
    }

    @Test
    void theDestinationFollowsTheImagesSymlinks() throws Exception {
        BuildFixture f = new BuildFixture(tmp);
        Files.createDirectories(f.context.resolve("root/usr/lib"));
        Files.createSymbolicLink(f.context.resolve("root/lib"), Path.of("usr/lib"));
        f.file("x.so", "x");
        BuildResult r = f.build("FROM scratch", "COPY root /", "COPY x.so /lib/");
        assertThat(f.layer(r, 1)).containsOnlyKeys("usr/", "usr/lib/", "usr/lib/x.so");
    }

    @Test
    void anInterpreterTheImageHasSilencesTheWarning() {
        Tools.require("gcc");
        BuildFixture f = new BuildFixture(tmp);
        f.file("hello.c", "int main(void) { return 0; }\n");
        Tools.run("gcc", "-o", f.context.resolve("dynamic").toString(), f.context.resolve("hello.c").toString()).ok();
        String interp = Elf.interpreter(f.context.resolve("dynamic")).orElseThrow();
        f.file("ld/" + interp.substring(interp.lastIndexOf('/') + 1), "loader", 0755);
        f.build("FROM scratch", "COPY ld " + interp.substring(0, interp.lastIndexOf('/') + 1), "COPY dynamic /app");
        assertThat(f.warnings()).isEmpty();
    }

    @Test
    void hardLinksAreKeptInsideALayerAndReadOnceFromAnImage() throws Exception {
        BuildFixture f = new BuildFixture(tmp);
        f.file("d/one", "same");
        Files.createLink(f.context.resolve("d/two"), f.context.resolve("d/one"));
        BuildResult r = f.build("FROM scratch", "COPY d /d");
        assertThat(f.layer(r, 0).get("d/two").isLink()).isTrue();
        f.build(o -> o.tag("linked:1"));
        BuildResult copied = f.build("FROM scratch", "COPY --from=linked:1 /d /copy");
        assertThat(f.content(copied, 0, "copy/one")).isEqualTo("same");
        assertThat(f.content(copied, 0, "copy/two")).isEqualTo("same");
    }
}
