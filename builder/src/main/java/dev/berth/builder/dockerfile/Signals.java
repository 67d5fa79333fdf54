package dev.berth.builder.dockerfile;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/** Linux signal names as docker's {@code signal.ParseSignal} accepts them for STOPSIGNAL. */
final class Signals {
    private Signals() {}

    private static final Set<String> NAMES = names();

    private static Set<String> names() {
        Set<String> s = new HashSet<>(Set.of("ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT",
                "IO", "IOT", "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
                "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN",
                "RTMAX"));
        for (int i = 1; i <= 15; i++) {
            s.add("RTMIN+" + i);
            s.add("RTMAX-" + i);
        }
        return Set.copyOf(s);
    }

    /** A non-zero number, or a name with or without {@code SIG}, in any case. */
    static boolean isValid(String signal) {
        if (signal.matches("[+-]?[0-9]+")) {
            try {
                return Integer.parseInt(signal) != 0;
            } catch (NumberFormatException e) {
                return false;
            }
        }
        String name = signal.toUpperCase(Locale.ROOT);
        if (name.startsWith("SIG")) {
            name = name.substring(3);
        }
        return NAMES.contains(name);
    }
}
