package dev.berth.builder;

import dev.berth.builder.dockerfile.Csv;
import dev.berth.builder.dockerfile.WordExpander;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One {@code RUN --mount=...}, read as BuildKit reads it ({@code instructions/commands_runmount.go} and
 * {@code dockerfile2llb/convert_runmount.go}): CSV fields, keys case-insensitive, values expanded with the
 * stage's variables, targets relative to WORKDIR, read-only by default except cache and tmpfs mounts.
 */
sealed interface RunMount {
    /** The absolute container path it is mounted on (a secret passed only as a variable has none). */
    String target();

    /** {@code type=bind}: the context, or {@code from} a stage or an image; {@code rw} writes are thrown away. */
    record Bind(String target, Optional<String> from, String source, boolean writable) implements RunMount {}

    /** {@code type=cache}: a directory kept between builds under {@code id}. */
    record Cache(String target, String id, Sharing sharing, Optional<String> from, String source, int mode, int uid,
                 int gid, boolean readOnly) implements RunMount {}

    /** {@code type=tmpfs}. */
    record Tmpfs(String target, OptionalLong size) implements RunMount {}

    /** {@code type=secret}: a file at {@code target} (none when only {@code env} is asked), and/or a variable. */
    record Secret(String id, String target, Optional<String> env, boolean required, int mode, int uid, int gid)
            implements RunMount {}

    /** {@code type=ssh}: the socket of an SSH agent given with {@code --ssh}. */
    record Ssh(String id, String target, boolean required, int mode, int uid, int gid) implements RunMount {}

    enum Sharing { SHARED, PRIVATE, LOCKED }

    /**
     * Parses one {@code --mount} value; errors are BuildKit's messages (the caller adds the location).
     *
     * @param index the mount's position among the RUN's mounts (an ssh socket's default name has it)
     * @param workdir the stage's working directory, for relative targets
     */
    static RunMount parse(String value, WordExpander expander, String workdir, int index) {
        String type = "bind";
        Optional<String> from = Optional.empty();
        String source = "";
        String target = "";
        Optional<Boolean> readOnly = Optional.empty();
        OptionalLong size = OptionalLong.empty();
        String id = "";
        Optional<Sharing> sharing = Optional.empty();
        boolean required = false;
        Optional<String> env = Optional.empty();
        Optional<Integer> mode = Optional.empty();
        Optional<Integer> uid = Optional.empty();
        Optional<Integer> gid = Optional.empty();
        for (String field : Csv.fields(value)) {
            int eq = field.indexOf('=');
            String key = (eq < 0 ? field : field.substring(0, eq)).toLowerCase(Locale.ROOT);
            if (eq < 0) {
                switch (key) {
                    case "readonly", "ro" -> readOnly = Optional.of(true);
                    case "readwrite", "rw" -> readOnly = Optional.of(false);
                    case "required" -> {
                        if (!type.equals("secret") && !type.equals("ssh")) {
                            throw new BuildException("unexpected key '" + key + "' for mount type '" + type + "'");
                        }
                        required = true;
                    }
                    default -> throw new BuildException("invalid field '" + field + "' must be a key=value pair");
                }
                continue;
            }
            String raw = field.substring(eq + 1);
            if (key.equals("from")) {
                int dollar = raw.indexOf('$');
                if (dollar >= 0 && dollar != raw.length() - 1) {
                    throw new BuildException("'from' doesn't support variable expansion, define alias stage instead");
                }
            }
            String v = expander.word(raw);
            switch (key) {
                case "type" -> {
                    type = v.toLowerCase(Locale.ROOT);
                    if (!List.of("bind", "cache", "tmpfs", "secret", "ssh").contains(type)) {
                        throw new BuildException("unsupported mount type " + quote(v)
                                + " (bind, cache, tmpfs, secret or ssh)");
                    }
                }
                case "from" -> from = Optional.of(v);
                case "source", "src" -> source = v;
                case "target", "dst", "destination" -> target = v;
                case "readonly", "ro" -> readOnly = Optional.of(bool(key, v));
                case "readwrite", "rw" -> readOnly = Optional.of(!bool(key, v));
                case "required" -> {
                    if (!type.equals("secret") && !type.equals("ssh")) {
                        throw new BuildException("unexpected key '" + key + "' for mount type '" + type + "'");
                    }
                    required = bool(key, v);
                }
                case "size" -> {
                    if (!type.equals("tmpfs")) {
                        throw new BuildException("unexpected key '" + key + "' for mount type '" + type + "'");
                    }
                    size = OptionalLong.of(ramInBytes(key, v));
                }
                case "id" -> id = v;
                case "sharing" -> sharing = Optional.of(switch (v.toLowerCase(Locale.ROOT)) {
                    case "shared" -> Sharing.SHARED;
                    case "private" -> Sharing.PRIVATE;
                    case "locked" -> Sharing.LOCKED;
                    default -> throw new BuildException("unsupported sharing value " + quote(v)
                            + " (shared, private or locked)");
                });
                case "mode" -> mode = Optional.of(number(v, 8, "mode"));
                case "uid" -> uid = Optional.of(number(v, 10, "uid"));
                case "gid" -> gid = Optional.of(number(v, 10, "gid"));
                case "env" -> env = Optional.of(v);
                default -> throw new BuildException("unexpected key '" + key + "' in '" + field + "'");
            }
        }
        boolean fileInfo = type.equals("secret") || type.equals("ssh") || type.equals("cache");
        if (!fileInfo && (mode.isPresent() || uid.isPresent() || gid.isPresent())) {
            String which = mode.isPresent() ? "mode" : uid.isPresent() ? "uid" : "gid";
            throw new BuildException(which + " not allowed for \"" + type + "\" type mounts");
        }
        boolean ro = readOnly.orElse(!type.equals("cache") && !type.equals("tmpfs"));
        if (sharing.isPresent() && !type.equals("cache")) {
            throw new BuildException(type.equals("secret") ? "secret mount should not define sharing"
                    : "invalid cache sharing set for " + type + " mount");
        }
        return switch (type) {
            case "secret" -> {
                if (from.isPresent()) {
                    throw new BuildException("secret mount should not have a from");
                }
                if (source.isEmpty() && target.isEmpty() && id.isEmpty()) {
                    throw new BuildException("invalid secret mount. one of source, target required");
                }
                if (!source.isEmpty() && !id.isEmpty()) {
                    throw new BuildException("both source and id can't be set");
                }
                String secretId = !source.isEmpty() ? source : !id.isEmpty() ? id : base(target);
                String file = !target.isEmpty() ? absolute(target, workdir)
                        : env.isPresent() ? "" : "/run/secrets/" + base(secretId);
                yield new Secret(secretId, file, env, required, mode.orElse(0400), uid.orElse(0), gid.orElse(0));
            }
            case "ssh" -> {
                if (!source.isEmpty()) {
                    throw new BuildException("ssh does not support source");
                }
                String socket = target.isEmpty() ? "/run/buildkit/ssh_agent." + index : absolute(target, workdir);
                yield new Ssh(id.isEmpty() ? "default" : id, socket, required, mode.orElse(0600), uid.orElse(0),
                        gid.orElse(0));
            }
            default -> {
                String abs = absolute(target, workdir);
                if (abs.equals("/")) {
                    throw new BuildException("invalid mount target " + quote(abs));
                }
                String src = "/" + ContextDir.clean(source);
                yield switch (type) {
                    case "bind" -> new Bind(abs, from, src, !ro);
                    case "cache" -> new Cache(abs, id.isEmpty() ? goClean(target) : id,
                            sharing.orElse(Sharing.SHARED), from, src, mode.orElse(0755), uid.orElse(0), gid.orElse(0), ro);
                    default -> new Tmpfs(abs, size);
                };
            }
        };
    }

    /** Go's {@code path.Clean}: an id written as a relative target stays relative, as in BuildKit. */
    private static String goClean(String path) {
        String clean = ContextDir.clean(path);
        return path.startsWith("/") ? "/" + clean : clean.isEmpty() ? "." : clean;
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String absolute(String target, String workdir) {
        return "/" + ContextDir.clean(target.startsWith("/") ? target : workdir + "/" + target);
    }

    private static String base(String path) {
        String clean = ContextDir.clean(path);
        return clean.isEmpty() ? "/" : clean.substring(clean.lastIndexOf('/') + 1);
    }

    private static boolean bool(String key, String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "1", "t", "true" -> true;
            case "0", "f", "false" -> false;
            default -> throw new BuildException("invalid value for " + key + ": " + v);
        };
    }

    private static int number(String v, int radix, String what) {
        try {
            long n = Long.parseLong(v, radix);
            if (n < 0 || n > 0xffffffffL) {
                throw new NumberFormatException();
            }
            return (int) n;
        } catch (NumberFormatException e) {
            throw new BuildException("invalid value " + v + " for " + what);
        }
    }

    /** docker's {@code units.RAMInBytes}: a number with an optional binary unit, {@code 64m}, {@code 1GiB}. */
    private static long ramInBytes(String key, String v) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)^(\\d+(?:\\.\\d+)?) ?([kmgtp])?(i?b)?$")
                .matcher(v.trim());
        if (!m.matches()) {
            throw new BuildException("invalid value for " + key + ": " + v);
        }
        double n = Double.parseDouble(m.group(1));
        int shift = m.group(2) == null ? 0 : 10 * ("kmgtp".indexOf(Character.toLowerCase(m.group(2).charAt(0))) + 1);
        return (long) (n * (1L << shift));
    }
}
