package dev.berth.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The container's environment, as docker builds it: {@code PATH} (when the image has none),
 * {@code HOSTNAME} and, with a terminal, {@code TERM=xterm}; then the image's {@code Env}; then
 * {@code --env-file} and {@code -e} in order, the last value of a name winning; finally {@code HOME} from
 * the user's passwd entry unless set. {@code -e NAME} without a value copies NAME from berth's own
 * environment, or drops it when berth has none.
 */
final class Environment {
    private Environment() {}

    static List<String> build(List<String> imageEnv, List<Path> envFiles, List<String> env, String hostname,
                              ImageUser user, boolean tty, Map<String, String> hostEnv) {
        return withHome(configured(imageEnv, envFiles, env, hostname, tty, hostEnv), user);
    }

    /** {@link #build} but for {@code HOME}: what a container keeps for its execs, whose user may differ. */
    static List<String> configured(List<String> imageEnv, List<Path> envFiles, List<String> env, String hostname,
                                   boolean tty, Map<String, String> hostEnv) {
        LinkedHashMap<String, String> out = new LinkedHashMap<>();
        out.put("PATH", Defaults.PATH);
        out.put("HOSTNAME", hostname);
        if (tty) {
            out.put("TERM", "xterm");
        }
        for (String e : imageEnv) {
            put(out, e, "image Env", Map.of());
        }
        for (Path file : envFiles) {
            List<String> lines;
            try {
                lines = Files.readAllLines(file);
            } catch (IOException e) {
                throw new ContainerException("cannot read --env-file " + file + ": " + e.getMessage(), e);
            }
            for (String line : lines) {
                String l = line.stripLeading();
                if (!l.isEmpty() && !l.startsWith("#")) {
                    put(out, l, "--env-file " + file, hostEnv);
                }
            }
        }
        for (String e : env) {
            put(out, e, "-e", hostEnv);
        }
        List<String> list = new ArrayList<>(out.size());
        out.forEach((k, v) -> list.add(k + "=" + v));
        return list;
    }

    /** The environment with {@code HOME} from the user's passwd entry, unless it has one. */
    static List<String> withHome(List<String> env, ImageUser user) {
        if (get(env, "HOME").isPresent()) {
            return env;
        }
        List<String> list = new ArrayList<>(env);
        list.add("HOME=" + user.home());
        return list;
    }

    private static void put(Map<String, String> out, String entry, String where, Map<String, String> hostEnv) {
        int eq = entry.indexOf('=');
        String name = eq < 0 ? entry : entry.substring(0, eq);
        if (name.isEmpty() || name.chars().anyMatch(Character::isWhitespace) || entry.indexOf('\0') >= 0) {
            throw new ContainerException("invalid environment variable \"" + entry + "\" in " + where);
        }
        if (eq >= 0) {
            out.put(name, entry.substring(eq + 1));
        } else {
            Optional.ofNullable(hostEnv.get(name)).ifPresent(v -> out.put(name, v));
        }
    }

    /** The value of a variable in a built environment. */
    static Optional<String> get(List<String> env, String name) {
        for (String e : env.reversed()) {
            if (e.startsWith(name + "=")) {
                return Optional.of(e.substring(name.length() + 1));
            }
        }
        return Optional.empty();
    }
}
