package dev.berth.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.layers.Json;
import dev.berth.runtime.SeccompFilter.Action;
import dev.berth.runtime.SeccompFilter.Arg;
import dev.berth.runtime.SeccompFilter.Op;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A seccomp profile in docker's JSON format, parsed: {@code defaultAction}, {@code defaultErrnoRet} and
 * {@code syscalls}, each with {@code names}, {@code action}, {@code errnoRet}, {@code args} and docker's
 * {@code includes}/{@code excludes} ({@code caps}, {@code arches}, {@code minKernel}); an OCI
 * {@code linux.seccomp} object is the same without the last two. {@code architectures} and {@code archMap}
 * are read past: the filter covers this machine's architecture (and i386 on x86_64) by itself.
 * Every error names the profile and the entry: {@code seccomp profile p.json: syscalls[3]: ...}.
 */
record SeccompProfile(Action defaultAction, int defaultErrno, List<Entry> entries) {
    private static final int EPERM = 1;

    /** One {@code syscalls} entry, with its conditions of use. */
    record Entry(List<String> names, Action action, int errno, List<Arg> args, Set<Capability> includeCaps,
                 Set<Capability> excludeCaps, List<String> includeArches, List<String> excludeArches,
                 int[] minKernel) {}

    /** What a profile's entries are chosen by: the architecture's names as profiles write them, the kernel's version. */
    record Host(Set<String> arches, int[] kernel) {
        static Host current() {
            String arch = System.getProperty("os.arch");
            Set<String> names = switch (arch) {
                case "amd64", "x86_64" -> Set.of("amd64", "x86_64");
                case "aarch64", "arm64" -> Set.of("arm64", "aarch64");
                default -> Set.of(arch);
            };
            String release;
            try {
                release = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
            } catch (IOException e) {
                release = System.getProperty("os.version");
            }
            return new Host(names, version(release));
        }
    }

    static SeccompProfile parse(String json, String source) {
        String where = "seccomp profile " + source;
        JsonNode root;
        try {
            root = Json.mapper().readTree(json);
        } catch (IOException e) {
            throw new ContainerException(where + ": not valid JSON: " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new ContainerException(where + ": not a JSON object");
        }
        Action def = action(root.get("defaultAction"), where + ": defaultAction");
        int defErrno = errno(root.get("defaultErrnoRet"), EPERM, where + ": defaultErrnoRet");
        List<Entry> entries = new ArrayList<>();
        JsonNode calls = root.get("syscalls");
        if (calls != null && !calls.isNull()) {
            if (!calls.isArray()) {
                throw new ContainerException(where + ": syscalls is not an array");
            }
            for (int i = 0; i < calls.size(); i++) {
                entries.add(entry(calls.get(i), defErrno, where + ": syscalls[" + i + "]"));
            }
        }
        return new SeccompProfile(def, defErrno, List.copyOf(entries));
    }

    /** The rules that apply to a process with {@code caps} on {@code host}, in the profile's order. */
    SeccompFilter resolve(Set<Capability> caps, Host host) {
        List<SeccompFilter.Rule> rules = new ArrayList<>();
        for (Entry e : entries) {
            boolean applies = caps.containsAll(e.includeCaps())
                    && e.excludeCaps().stream().noneMatch(caps::contains)
                    && (e.includeArches().isEmpty() || e.includeArches().stream().anyMatch(host.arches()::contains))
                    && e.excludeArches().stream().noneMatch(host.arches()::contains)
                    && (e.minKernel() == null || compare(host.kernel(), e.minKernel()) >= 0);
            // a rule that does what the default does changes nothing and only lengthens the filter
            boolean same = e.action() == defaultAction && (e.action() != Action.ERRNO || e.errno() == defaultErrno);
            if (applies && !same) {
                for (String n : e.names()) {
                    rules.add(new SeccompFilter.Rule(n, e.action(), e.errno(), e.args()));
                }
            }
        }
        return new SeccompFilter(defaultAction, defaultErrno, rules);
    }

    private static Entry entry(JsonNode n, int defErrno, String where) {
        if (n == null || !n.isObject()) {
            throw new ContainerException(where + ": not an object");
        }
        List<String> names = new ArrayList<>();
        JsonNode list = n.get("names");
        if (list != null && !list.isNull()) {
            names.addAll(strings(list, where + ": names"));
        }
        JsonNode one = n.get("name");
        if (one != null && one.isTextual()) {
            names.add(one.asText());
        }
        if (names.isEmpty() || names.stream().anyMatch(s -> !s.matches("[a-z0-9_]{1,64}"))) {
            throw new ContainerException(where + ": names must be syscall names (a-z, 0-9, _)");
        }
        Action action = action(n.get("action"), where + ": action");
        int errno = errno(n.get("errnoRet"), defErrno, where + ": errnoRet");
        List<Arg> args = new ArrayList<>();
        JsonNode as = n.get("args");
        if (as != null && !as.isNull()) {
            if (!as.isArray()) {
                throw new ContainerException(where + ": args is not an array");
            }
            if (as.size() > 6) {
                throw new ContainerException(where + ": more than 6 conditions on arguments");
            }
            for (int i = 0; i < as.size(); i++) {
                args.add(arg(as.get(i), where + ": args[" + i + "]"));
            }
        }
        JsonNode inc = n.path("includes");
        JsonNode exc = n.path("excludes");
        int[] minKernel = null;
        if (inc.hasNonNull("minKernel")) {
            String v = inc.get("minKernel").asText();
            if (!v.matches("\\d+\\.\\d+(\\.\\d+)?")) {
                throw new ContainerException(where + ": includes.minKernel \"" + v + "\" is not a version like 5.8");
            }
            minKernel = version(v);
        }
        return new Entry(List.copyOf(names), action, errno, List.copyOf(args), caps(inc.get("caps"), where),
                caps(exc.get("caps"), where), strings(inc.get("arches"), where + ": includes.arches"),
                strings(exc.get("arches"), where + ": excludes.arches"), minKernel);
    }

    private static Arg arg(JsonNode a, String where) {
        if (a == null || !a.isObject()) {
            throw new ContainerException(where + ": not an object");
        }
        JsonNode index = a.get("index");
        if (index == null || !index.canConvertToInt() || index.asInt() < 0 || index.asInt() > 5) {
            throw new ContainerException(where + ": index must be 0 to 5");
        }
        String opName = a.path("op").asText("");
        Op op = null;
        for (Op o : Op.values()) {
            if (o.profileName().equals(opName)) {
                op = o;
            }
        }
        if (op == null) {
            throw new ContainerException(where + ": unknown op \"" + opName + "\" (SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE, _MASKED_EQ)");
        }
        return new Arg(index.asInt(), op, unsigned(a.get("value"), where + ": value"),
                unsigned(a.get("valueTwo"), where + ": valueTwo"));
    }

    private static long unsigned(JsonNode v, String where) {
        if (v == null || v.isNull()) {
            return 0;
        }
        if (!v.isIntegralNumber() || v.bigIntegerValue().signum() < 0 || v.bigIntegerValue().bitLength() > 64) {
            throw new ContainerException(where + " must be a number from 0 to 2^64-1");
        }
        return v.bigIntegerValue().longValue();
    }

    private static Action action(JsonNode v, String where) {
        String name = v == null ? "" : v.asText("");
        if (name.equals("SCMP_ACT_KILL")) {
            return Action.KILL_THREAD;
        }
        if (name.equals("SCMP_ACT_NOTIFY")) {
            throw new ContainerException(where + ": SCMP_ACT_NOTIFY needs a seccomp agent, which berth does not run");
        }
        for (Action a : Action.values()) {
            if (a.profileName().equals(name)) {
                return a;
            }
        }
        throw new ContainerException(where + ": " + (name.isEmpty() ? "missing" : "unknown action \"" + name + "\""));
    }

    private static int errno(JsonNode v, int otherwise, String where) {
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.canConvertToInt() || v.asInt() < 0 || v.asInt() > 0xffff) {
            throw new ContainerException(where + " must be a number from 0 to 65535");
        }
        return v.asInt();
    }

    private static Set<Capability> caps(JsonNode v, String where) {
        Set<Capability> out = EnumSet.noneOf(Capability.class);
        for (String s : strings(v, where + ": caps")) {
            String name = s.toUpperCase(Locale.ROOT).startsWith("CAP_") ? s.toUpperCase(Locale.ROOT) : "CAP_" + s.toUpperCase(Locale.ROOT);
            try {
                out.add(Capability.valueOf(name));
            } catch (IllegalArgumentException e) {
                throw new ContainerException(where + ": unknown capability \"" + s + "\"");
            }
        }
        return out;
    }

    private static List<String> strings(JsonNode v, String where) {
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new ContainerException(where + " is not an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : v) {
            if (!s.isTextual()) {
                throw new ContainerException(where + " is not an array of strings");
            }
            out.add(s.asText());
        }
        return out;
    }

    private static int[] version(String release) {
        int[] v = new int[3];
        String[] parts = release.split("[.-]");
        for (int i = 0; i < 3 && i < parts.length; i++) {
            try {
                v[i] = Integer.parseInt(parts[i].replaceAll("\\D.*", ""));
            } catch (NumberFormatException e) {
                break;
            }
        }
        return v;
    }

    private static int compare(int[] a, int[] b) {
        for (int i = 0; i < 3; i++) {
            if (a[i] != b[i]) {
                return Integer.compare(a[i], b[i]);
            }
        }
        return 0;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
