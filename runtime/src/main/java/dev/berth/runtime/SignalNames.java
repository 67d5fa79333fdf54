package dev.berth.runtime;

import dev.berth.layers.ContainerConfig;
import java.util.List;
import java.util.Locale;

/**
 * Linux signal names and numbers, as docker reads them in {@code STOPSIGNAL}, {@code --stop-signal} and
 * {@code kill -s}: {@code SIGTERM}, {@code TERM}, {@code 15}, {@code SIGRTMIN+3}.
 */
public final class SignalNames {
    private static final List<String> NAMES = List.of("", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS",
            "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP",
            "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS");
    private static final int RTMIN = 34;
    private static final int RTMAX = 64;

    private SignalNames() {}

    /** The number of a signal given by name or number; a {@link ContainerException} naming it otherwise. */
    public static int parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        if (t.matches("\\d+")) {
            int n = Integer.parseInt(t);
            if (n >= 1 && n <= RTMAX) {
                return n;
            }
        } else {
            String name = t.startsWith("SIG") ? t.substring(3) : t;
            int i = NAMES.indexOf(name);
            if (i > 0) {
                return i;
            }
            if (name.equals("IOT")) {
                return 6;
            }
            if (name.equals("POLL")) {
                return 29;
            }
            java.util.regex.Matcher rt = java.util.regex.Pattern.compile("RTM(IN|AX)(?:([+-])(\\d+))?").matcher(name);
            if (rt.matches()) {
                int base = rt.group(1).equals("IN") ? RTMIN : RTMAX;
                int off = rt.group(3) == null ? 0 : Integer.parseInt(rt.group(3)) * (rt.group(2).equals("+") ? 1 : -1);
                if (base + off >= RTMIN && base + off <= RTMAX) {
                    return base + off;
                }
            }
        }
        throw new ContainerException("invalid signal \"" + text + "\"");
    }

    /** A signal's name ({@code SIGTERM}), or its number as text for one without a name. */
    public static String name(int signal) {
        if (signal > 0 && signal < NAMES.size()) {
            return "SIG" + NAMES.get(signal);
        }
        return Integer.toString(signal);
    }

    /** The image's {@code STOPSIGNAL}, else SIGTERM; an invalid one is SIGTERM too, as docker falls back. */
    static int stopSignal(ContainerConfig config) {
        try {
            return config.stopSignal().filter(s -> !s.isBlank()).map(SignalNames::parse).orElse(15);
        } catch (ContainerException e) {
            return 15;
        }
    }
}
