package dev.berth.layers.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A real user who is not root, for the rootless tests: the account is made when missing (as root, with
 * {@code useradd}), with a range of sub-ids in /etc/subuid and /etc/subgid, or explicitly without one; a
 * JVM runs as that user (with {@code setpriv}) from a copy of the test class path the user can read.
 */
public final class TestUser {
    private static final Path DIR = Path.of(System.getProperty("user.dir"), "target", "test-users");
    private static String classPath;

    public final String name;
    public final int uid;
    public final int gid;
    public final Path home;

    private TestUser(String name, int uid, int gid, Path home) {
        this.name = name;
        this.uid = uid;
        this.gid = gid;
        this.home = home;
    }

    /** The user {@code name}, made when missing, with the sub-id range {@code subStart}..+65536 or none (0). */
    public static synchronized TestUser get(String name, long subStart) {
        Tools.requireRoot();
        Tools.require("setpriv");
        Tools.require("newuidmap");
        if (Tools.run("id", "-u", name).exitCode() != 0) {
            Tools.run("useradd", "--create-home", "--shell", "/bin/sh", "--no-user-group", "--gid", "users", name).ok();
        }
        subIds(Path.of("/etc/subuid"), name, subStart);
        subIds(Path.of("/etc/subgid"), name, subStart);
        int uid = Integer.parseInt(Tools.run("id", "-u", name).ok().stdout().trim());
        int gid = Integer.parseInt(Tools.run("id", "-g", name).ok().stdout().trim());
        Path home = Path.of(Tools.run("sh", "-c", "getent passwd " + name + " | cut -d: -f6").ok().stdout().trim());
        return new TestUser(name, uid, gid, home);
    }

    /** The user's line in a sub-id file: exactly {@code name:start:65536}, or none when {@code start} is 0. */
    private static void subIds(Path file, String name, long start) {
        try {
            List<String> lines = new ArrayList<>(Files.exists(file) ? Files.readAllLines(file) : List.of());
            lines.removeIf(l -> l.startsWith(name + ":"));
            if (start > 0) {
                lines.add(name + ":" + start + ":65536");
            }
            Files.write(file, lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh directory of this user's (a BERTH_HOME, a context). */
    public Path dir(String what) {
        Path d = DIR.resolve(name).resolve(what);
        try {
            if (Files.exists(d)) {
                Tools.run("rm", "-rf", d.toString()).ok(); // as root: it may hold files of the user's sub-ids
            }
            Files.createDirectories(d);
            Tools.run("chmod", "a+rx", DIR.toString(), DIR.resolve(name).toString()).ok();
            Tools.run("chown", "-R", uid + ":" + gid, d.toString()).ok();
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Gives a tree to this user. */
    public void own(Path tree) {
        Tools.run("chown", "-R", uid + ":" + gid, tree.toString()).ok();
    }

    /**
     * Runs {@code mainClass ARGS...} as this user, in a JVM of its own on the test class path, with HOME and
     * USER of the user's, {@code env} added, and {@code properties} as {@code -D} options.
     */
    public Tools.Result java(Map<String, String> env, Map<String, String> properties, String mainClass,
            List<String> args) {
        return java(List.of(), env, properties, mainClass, args);
    }

    /**
     * {@link #java(Map, Map, String, List)} in the cgroups {@code cgroups} (directories of cgroupfs): the
     * JVM is moved into each, as root, before it becomes the user, as a login moves a session.
     */
    public Tools.Result java(List<Path> cgroups, Map<String, String> env, Map<String, String> properties,
            String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        if (!cgroups.isEmpty()) {
            cmd.addAll(List.of("sh", "-c", "n=$1; shift; while [ $n -gt 0 ]; do echo $$ > \"$1/cgroup.procs\" || exit 125; "
                    + "shift; n=$((n - 1)); done; exec \"$@\"", "sh", Integer.toString(cgroups.size())));
            cgroups.forEach(c -> cmd.add(c.toString()));
        }
        cmd.addAll(List.of(Tools.require("setpriv").toString(), "--reuid=" + uid,
                "--regid=" + gid, "--init-groups", "--",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.addAll(List.of("-cp", classPath(), mainClass));
        cmd.addAll(args);
        Map<String, String> all = new HashMap<>(env);
        all.put("HOME", home.toString());
        all.put("USER", name);
        return Tools.run(cmd, all, null);
    }

    /** A copy of the test class path that every user can read (the build's own files may be root's only). */
    private static synchronized String classPath() {
        if (classPath == null) {
            Path cp = DIR.resolve("classpath");
            Tools.run("rm", "-rf", cp.toString()).ok();
            List<String> entries = new ArrayList<>();
            int n = 0;
            for (String e : System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                    .split(File.pathSeparator)) {
                Path from = Path.of(e);
                if (!Files.exists(from)) {
                    continue;
                }
                Path to = cp.resolve(n++ + (Files.isDirectory(from) ? "" : ".jar"));
                try {
                    Files.createDirectories(cp);
                } catch (IOException x) {
                    throw new UncheckedIOException(x);
                }
                Tools.run("cp", "-r", from.toString(), to.toString()).ok();
                entries.add(to.toString());
            }
            Tools.run("chmod", "-R", "a+rX", DIR.toString()).ok();
            classPath = String.join(File.pathSeparator, entries);
        }
        return classPath;
    }

    /** Asserts a command succeeded, with its stderr in the message. */
    public static Tools.Result ok(Tools.Result r) {
        assertThat(r.exitCode()).as("exit code; stderr: %s", r.stderr()).isZero();
        return r;
    }
}
