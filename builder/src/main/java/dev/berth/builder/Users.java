package dev.berth.builder;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Resolves {@code user[:group]} (names or numeric ids) to numeric ids with the image's {@code /etc/passwd}
 * and {@code /etc/group}, read from its layers (nothing is extracted), as buildkit does for
 * {@code COPY --chown} and for the owner of a WORKDIR made after USER: a user name takes its uid and its
 * primary group from {@code /etc/passwd}; a numeric user without a group gets the same number as gid.
 */
final class Users {
    /** Numeric owner. */
    record Ids(int uid, int gid) {
        @Override
        public String toString() {
            return uid + ":" + gid;
        }
    }

    private Users() {}

    /**
     * @param spec {@code user}, {@code user:group}, {@code uid}, {@code uid:gid} in any mix
     * @param what how errors name the setting, e.g. {@code COPY --chown=app}
     */
    static Ids resolve(String spec, ImageFs image, String what) {
        int colon = spec.indexOf(':');
        String user = colon < 0 ? spec : spec.substring(0, colon);
        Optional<String> group = colon < 0 ? Optional.empty() : Optional.of(spec.substring(colon + 1));
        if (user.isEmpty()) {
            throw new BuildException(what + ": no user given");
        }
        int uid;
        int gid;
        if (isNumber(user)) {
            uid = parseId(user, what);
            gid = uid;
        } else {
            String[] entry = find(image, "/etc/passwd", user, what, "user");
            uid = parseId(entry[2], what);
            gid = parseId(entry[3], what);
        }
        if (group.isPresent()) {
            String g = group.get();
            if (g.isEmpty()) {
                throw new BuildException(what + ": empty group");
            }
            gid = isNumber(g) ? parseId(g, what) : parseId(find(image, "/etc/group", g, what, "group")[2], what);
        }
        return new Ids(uid, gid);
    }

    private static String[] find(ImageFs image, String file, String name, String what, String kind) {
        byte[] bytes = image.readSmallFile(file.substring(1)).orElseThrow(() -> new BuildException(what + ": "
                + kind + " \"" + name + "\" not found: the image has no " + file + " (copy one in first, or use numeric ids)"));
        for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            String[] f = line.split(":", -1);
            if (f.length >= 3 && f[0].equals(name) && (kind.equals("group") || f.length >= 4)) {
                return f;
            }
        }
        throw new BuildException(what + ": " + kind + " \"" + name + "\" not found in " + file + " of the image");
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private static int parseId(String s, String what) {
        try {
            long v = Long.parseLong(s.trim());
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return (int) v;
        } catch (NumberFormatException e) {
            throw new BuildException(what + ": invalid id \"" + s + "\"");
        }
    }
}
