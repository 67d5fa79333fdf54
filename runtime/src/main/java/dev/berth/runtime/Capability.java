package dev.berth.runtime;

import java.util.EnumSet;
import java.util.Set;

/** Linux capabilities, with their numbers (linux/capability.h); names as OCI writes them, CAP_*. */
public enum Capability {
    CAP_CHOWN(0), CAP_DAC_OVERRIDE(1), CAP_DAC_READ_SEARCH(2), CAP_FOWNER(3), CAP_FSETID(4), CAP_KILL(5),
    CAP_SETGID(6), CAP_SETUID(7), CAP_SETPCAP(8), CAP_LINUX_IMMUTABLE(9), CAP_NET_BIND_SERVICE(10),
    CAP_NET_BROADCAST(11), CAP_NET_ADMIN(12), CAP_NET_RAW(13), CAP_IPC_LOCK(14), CAP_IPC_OWNER(15),
    CAP_SYS_MODULE(16), CAP_SYS_RAWIO(17), CAP_SYS_CHROOT(18), CAP_SYS_PTRACE(19), CAP_SYS_PACCT(20),
    CAP_SYS_ADMIN(21), CAP_SYS_BOOT(22), CAP_SYS_NICE(23), CAP_SYS_RESOURCE(24), CAP_SYS_TIME(25),
    CAP_SYS_TTY_CONFIG(26), CAP_MKNOD(27), CAP_LEASE(28), CAP_AUDIT_WRITE(29), CAP_AUDIT_CONTROL(30),
    CAP_SETFCAP(31), CAP_MAC_OVERRIDE(32), CAP_MAC_ADMIN(33), CAP_SYSLOG(34), CAP_WAKE_ALARM(35),
    CAP_BLOCK_SUSPEND(36), CAP_AUDIT_READ(37), CAP_PERFMON(38), CAP_BPF(39), CAP_CHECKPOINT_RESTORE(40);

    /**
     * Docker's and containerd's default set (14 capabilities): what a container's root has. Inheritable
     * and ambient stay empty (CVE-2022-24769).
     */
    public static final Set<Capability> DOCKER_DEFAULT = Set.copyOf(EnumSet.of(CAP_CHOWN, CAP_DAC_OVERRIDE,
            CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP,
            CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE));

    private final int number;

    Capability(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    /** The set as the kernel's bit mask ({@code CapEff} in {@code /proc/PID/status} shows it in hex). */
    public static long mask(Set<Capability> caps) {
        long m = 0;
        for (Capability c : caps) {
            m |= 1L << c.number;
        }
        return m;
    }

    /** The capabilities of a bit mask, as {@code /proc/PID/status} shows one (bits beyond the known ones dropped). */
    public static Set<Capability> of(long mask) {
        EnumSet<Capability> caps = EnumSet.noneOf(Capability.class);
        for (Capability c : values()) {
            if ((mask & (1L << c.number)) != 0) {
                caps.add(c);
            }
        }
        return Set.copyOf(caps);
    }
}
