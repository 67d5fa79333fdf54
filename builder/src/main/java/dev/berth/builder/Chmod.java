package dev.berth.builder;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * {@code COPY --chmod}: an octal mode ({@code 0755}, at most {@code 07777}) or a symbolic one as chmod(1)
 * takes it ({@code u+x}, {@code go-w}, {@code a=rX,u+w}, {@code g=u}), applied to every copied file and
 * directory (not symlinks), as buildkit does. Symbolic modes apply with umask 0: {@code +x} sets all three
 * execute bits; {@code X} sets execute only for directories and files some execute bit is already set on.
 */
final class Chmod {
    private record Clause(int who, List<Action> actions) {}

    private record Action(char op, String perms) {}

    private final String text;
    private final OptionalInt octal;
    private final List<Clause> clauses;

    private Chmod(String text, OptionalInt octal, List<Clause> clauses) {
        this.text = text;
        this.octal = octal;
        this.clauses = clauses;
    }

    /** Parses a --chmod value; errors say what is wrong with it. */
    static Chmod parse(String text) {
        if (!text.isEmpty() && text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            int v;
            try {
                v = Integer.parseInt(text, 8);
            } catch (NumberFormatException e) {
                v = -1;
            }
            if (v < 0 || v > 07777) {
                throw new BuildException("invalid chmod parameter: '" + text
                        + "'. it should be octal string and between 0 and 07777");
            }
            return new Chmod(text, OptionalInt.of(v), List.of());
        }
        List<Clause> clauses = new ArrayList<>();
        for (String c : text.split(",", -1)) {
            int i = 0;
            int who = 0;
            while (i < c.length() && "ugoa".indexOf(c.charAt(i)) >= 0) {
                who |= switch (c.charAt(i)) {
                    case 'u' -> 04700;
                    case 'g' -> 02070;
                    case 'o' -> 01007;
                    default -> 07777;
                };
                i++;
            }
            if (who == 0) {
                who = 07777;
            }
            List<Action> actions = new ArrayList<>();
            while (i < c.length()) {
                char op = c.charAt(i++);
                if (op != '+' && op != '-' && op != '=') {
                    throw invalid(text);
                }
                int start = i;
                if (i < c.length() && "ugo".indexOf(c.charAt(i)) >= 0) {
                    i++;
                } else {
                    while (i < c.length() && "rwxXst".indexOf(c.charAt(i)) >= 0) {
                        i++;
                    }
                }
                actions.add(new Action(op, c.substring(start, i)));
            }
            if (actions.isEmpty()) {
                throw invalid(text);
            }
            clauses.add(new Clause(who, actions));
        }
        return new Chmod(text, OptionalInt.empty(), clauses);
    }

    private static BuildException invalid(String text) {
        return new BuildException("invalid chmod parameter: '" + text + "': expected an octal mode or a symbolic "
                + "one such as u+x or go-w,a+rX");
    }

    /** The octal mode, when it was given as one (buildkit then also gives it to the directories it creates). */
    OptionalInt octal() {
        return octal;
    }

    /** The new permission bits for a file or directory whose bits were {@code mode}. */
    int apply(int mode, boolean directory) {
        if (octal.isPresent()) {
            return octal.getAsInt();
        }
        int m = mode & 07777;
        for (Clause c : clauses) {
            for (Action a : c.actions()) {
                int bits;
                if (a.perms().length() == 1 && "ugo".contains(a.perms())) {
                    int src = switch (a.perms().charAt(0)) {
                        case 'u' -> (m >> 6) & 7;
                        case 'g' -> (m >> 3) & 7;
                        default -> m & 7;
                    };
                    bits = (src << 6 | src << 3 | src) & c.who() & 0777;
                } else {
                    bits = 0;
                    for (char p : a.perms().toCharArray()) {
                        bits |= switch (p) {
                            case 'r' -> 0444 & c.who();
                            case 'w' -> 0222 & c.who();
                            case 'x' -> 0111 & c.who();
                            case 'X' -> directory || (m & 0111) != 0 ? 0111 & c.who() : 0;
                            case 's' -> 06000 & c.who();
                            case 't' -> 01000 & c.who();
                            default -> 0;
                        };
                    }
                }
                switch (a.op()) {
                    case '+' -> m |= bits;
                    case '-' -> m &= ~bits;
                    default -> m = (m & ~(c.who() & 07777)) | bits;
                }
            }
        }
        return m;
    }

    @Override
    public String toString() {
        return text;
    }
}
