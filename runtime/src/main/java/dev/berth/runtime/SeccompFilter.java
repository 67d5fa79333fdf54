package dev.berth.runtime;

import java.util.List;

/**
 * A seccomp filter chosen for one process: its rules already picked for the process's capabilities, this
 * architecture and this kernel, in order (the first rule that matches a call decides; otherwise the
 * default action). The helper compiles it to BPF; {@code berth bundle} writes it as OCI's
 * {@code linux.seccomp}. Made by {@link Seccomp#filter}.
 */
public record SeccompFilter(Action defaultAction, int defaultErrno, List<Rule> rules) {

    public SeccompFilter {
        rules = List.copyOf(rules);
    }

    /** A rule: the syscall by name, what happens when every condition on its arguments holds. */
    public record Rule(String syscall, Action action, int errno, List<Arg> args) {
        public Rule {
            args = List.copyOf(args);
        }
    }

    /** A condition on argument {@code index} (0-5): {@code MASKED_EQ} is {@code (arg & value) == valueTwo}. */
    public record Arg(int index, Op op, long value, long valueTwo) {}

    /** libseccomp's comparisons, with the names docker's and OCI's profiles give them. */
    public enum Op {
        EQ("eq"), NE("ne"), LT("lt"), LE("le"), GT("gt"), GE("ge"), MASKED_EQ("masked_eq");

        private final String helperName;

        Op(String helperName) {
            this.helperName = helperName;
        }

        /** The name in the helper's spec. */
        public String helperName() {
            return helperName;
        }

        /** The name in a profile: {@code SCMP_CMP_EQ}. */
        public String profileName() {
            return "SCMP_CMP_" + name();
        }
    }

    /** The actions, with the kernel's {@code SECCOMP_RET_*} values (the errno goes in the low 16 bits). */
    public enum Action {
        KILL_THREAD(0x00000000L), KILL_PROCESS(0x80000000L), TRAP(0x00030000L), ERRNO(0x00050000L),
        TRACE(0x7ff00000L), LOG(0x7ffc0000L), ALLOW(0x7fff0000L);

        private final long ret;

        Action(long ret) {
            this.ret = ret;
        }

        /** The filter's return value for this action (with {@code errno} for ERRNO and TRACE). */
        public long ret(int errno) {
            return this == ERRNO || this == TRACE ? ret | (errno & 0xffff) : ret;
        }

        /** The name in a profile: {@code SCMP_ACT_ERRNO}. */
        public String profileName() {
            return "SCMP_ACT_" + name();
        }
    }
}
