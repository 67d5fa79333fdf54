package dev.berth.cli;

import dev.berth.layers.testing.TestUser;
import dev.berth.layers.testing.Tools;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** berth run by a real user who is not root (a {@link TestUser}), for the rootless tests. */
final class AsUser {
    private final TestUser user;
    final String name;
    final int uid;
    final int gid;
    final Path home;

    private AsUser(TestUser user) {
        this.user = user;
        this.name = user.name;
        this.uid = user.uid;
        this.gid = user.gid;
        this.home = user.home;
    }

    /** The user {@code name}, made when missing, with the sub-id range {@code subStart}..+65536 or none (0). */
    static AsUser get(String name, long subStart) {
        return new AsUser(TestUser.get(name, subStart));
    }

    /** A fresh directory of this user's (a BERTH_HOME, a context). */
    Path dir(String what) {
        return user.dir(what);
    }

    /** Gives a tree to this user. */
    void own(Path tree) {
        user.own(tree);
    }

    /** Runs {@code berth ARGS...} as this user with BERTH_HOME {@code berthHome}. */
    Tools.Result berth(Path berthHome, String... args) {
        return berth(berthHome, Map.of(), args);
    }

    Tools.Result berth(Path berthHome, Map<String, String> env, String... args) {
        Map<String, String> all = new HashMap<>(env);
        all.put("BERTH_HOME", berthHome.toString());
        return user.java(all, Map.of(), Berth.class.getName(), List.of(args));
    }

    /** Runs {@code mainClass ARGS...} of the class path as this user. */
    Tools.Result java(Class<?> mainClass, String... args) {
        return user.java(Map.of(), Map.of(), mainClass.getName(), List.of(args));
    }

    /** Asserts a command succeeded, with its stderr in the message. */
    static Tools.Result ok(Tools.Result r) {
        return TestUser.ok(r);
    }
}
