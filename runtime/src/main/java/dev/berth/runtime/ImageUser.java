package dev.berth.runtime;

import dev.berth.runtime.internal.LayeredFs;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The user a container runs as, resolved as docker resolves {@code USER} and {@code -u}: {@code name},
 * {@code uid}, {@code name:group}, {@code uid:gid} and mixes, with names looked up in the image's own
 * {@code /etc/passwd} and {@code /etc/group}. A numeric uid need not exist (gid 0, home /); a name must.
 * Without an explicit group, the groups of {@code /etc/group} that list the user are added; the primary
 * group is always the first supplementary group, as docker makes it.
 */
public record ImageUser(int uid, int gid, List<Integer> additionalGids, String home) {

    public ImageUser {
        additionalGids = List.copyOf(additionalGids);
    }

    /** Resolves {@code spec} (empty: root) against the image's files. */
    static ImageUser resolve(Optional<String> spec, LayeredFs image) {
        String s = spec.orElse("").trim();
        int colon = s.indexOf(':');
        String userArg = colon < 0 ? s : s.substring(0, colon);
        Optional<String> groupArg = colon < 0 ? Optional.empty() : Optional.of(s.substring(colon + 1));
        if (userArg.isEmpty()) {
            userArg = "0";
        }
        List<String[]> passwd = entries(image.readString("/etc/passwd"), 7);
        List<String[]> groups = entries(image.readString("/etc/group"), 4);

        Optional<Integer> numericUid = number(userArg, "user");
        String match = userArg;
        String[] pw = passwd.stream()
                .filter(e -> numericUid.isPresent() ? e[2].equals(Integer.toUnsignedString(numericUid.get()))
                        : e[0].equals(match))
                .findFirst().orElse(null);
        int uid;
        int gid;
        String home;
        Optional<String> name;
        if (pw != null) {
            uid = requireNumber(pw[2], "uid of " + pw[0] + " in /etc/passwd");
            gid = requireNumber(pw[3], "gid of " + pw[0] + " in /etc/passwd");
            home = pw[5].isEmpty() ? "/" : pw[5];
            name = Optional.of(pw[0]);
        } else if (numericUid.isPresent()) {
            uid = numericUid.get();
            gid = 0;
            home = "/";
            name = Optional.empty();
        } else {
            throw new ContainerException("unable to find user " + userArg + ": no matching entries in the image's "
                    + "/etc/passwd");
        }
        List<Integer> additional = new ArrayList<>();
        if (groupArg.isPresent()) {
            String g = groupArg.get();
            if (g.isEmpty()) {
                throw new ContainerException("invalid user \"" + s + "\": empty group");
            }
            Optional<Integer> numericGid = number(g, "group");
            if (numericGid.isPresent()) {
                gid = numericGid.get();
            } else {
                gid = groups.stream().filter(e -> e[0].equals(g)).findFirst()
                        .map(e -> requireNumber(e[2], "gid of " + e[0] + " in /etc/group"))
                        .orElseThrow(() -> new ContainerException("unable to find group " + g
                                + ": no matching entries in the image's /etc/group"));
            }
        } else if (name.isPresent()) {
            for (String[] e : groups) {
                if (List.of(e[3].split(",")).contains(name.get())) {
                    int g = requireNumber(e[2], "gid of " + e[0] + " in /etc/group");
                    if (g != gid && !additional.contains(g)) {
                        additional.add(g);
                    }
                }
            }
        }
        // As docker and containerd: the primary group is also the first supplementary one.
        List<Integer> all = new ArrayList<>(List.of(gid));
        additional.stream().filter(g -> !all.contains(g)).forEach(all::add);
        return new ImageUser(uid, gid, all, home);
    }

    /** The colon-separated entries of a passwd or group file, padded to {@code fields}; comments skipped. */
    private static List<String[]> entries(Optional<String> text, int fields) {
        List<String[]> out = new ArrayList<>();
        for (String line : text.orElse("").split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split(":", -1);
            String[] padded = new String[fields];
            for (int i = 0; i < fields; i++) {
                padded[i] = i < parts.length ? parts[i].trim() : "";
            }
            out.add(padded);
        }
        return out;
    }

    /** A uid or gid if the text is a decimal number (at most 2^31-1, as containerd requires); empty if it is a name. */
    private static Optional<Integer> number(String text, String what) {
        if (text.isEmpty() || !text.chars().allMatch(Character::isDigit)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Integer.parseInt(text));
        } catch (NumberFormatException e) {
            throw new ContainerException("invalid " + what + " " + text + ": too large");
        }
    }

    private static int requireNumber(String text, String what) {
        return number(text, what).orElseThrow(() -> new ContainerException("invalid " + what + ": \"" + text + "\""));
    }
}
