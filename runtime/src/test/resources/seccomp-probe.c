/* seccomp-probe: makes the calls SeccompTest names and prints, for each, "NAME=0" or "NAME=errno N".
 *   unshare-user  unshare(CLONE_NEWUSER)        clone-user  clone(CLONE_NEWUSER) of a child that exits
 *   clone3        clone3 with no arguments      add-key     add_key of a user key
 *   keyctl        keyctl(KEYCTL_GET_KEYRING_ID) io-uring    io_uring_setup(1, NULL)
 *   personality:V personality(V)                i386-unshare  unshare(CLONE_NEWUSER) through int 0x80
 *   getppid:A:B   getppid with A and B (hex) as its first two arguments, which the kernel ignores
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long result(long r) { return r < 0 ? errno : 0; }

static int child(void *arg) { (void)arg; return 0; }

static long probe(const char *what) {
    if (!strcmp(what, "unshare-user")) return result(syscall(SYS_unshare, 0x10000000L));
    if (!strcmp(what, "clone-user")) {
        static char stack[65536];
        pid_t pid = clone(child, stack + sizeof stack, 0x10000000 | SIGCHLD, NULL);
        if (pid < 0) return errno;
        waitpid(pid, NULL, 0);
        return 0;
    }
    if (!strcmp(what, "clone3")) {
        long r = syscall(435, NULL, 0L);
        return r < 0 ? errno : 0;
    }
    if (!strcmp(what, "add-key")) return result(syscall(SYS_add_key, "user", "berth-probe", "x", 1L, -3L));
    if (!strcmp(what, "keyctl")) return result(syscall(SYS_keyctl, 0L, -3L, 0L));
    if (!strcmp(what, "io-uring")) return result(syscall(425, 1L, NULL));
    if (!strncmp(what, "personality:", 12)) return result(syscall(SYS_personality, strtoul(what + 12, NULL, 16)));
    if (!strcmp(what, "i386-unshare")) {
#if defined(__x86_64__)
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(310L), "b"(0x10000000L) : "memory");
        return r < 0 ? -r : 0;
#else
        return ENOSYS;
#endif
    }
    if (!strncmp(what, "getppid:", 8)) {
        char *end;
        unsigned long a = strtoul(what + 8, &end, 16);
        unsigned long b = *end == ':' ? strtoul(end + 1, NULL, 16) : 0;
        return result(syscall(SYS_getppid, a, b));
    }
    fprintf(stderr, "seccomp-probe: unknown probe %s\n", what);
    exit(2);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        long e = probe(argv[i]);
        if (e == 0) printf("%s=0\n", argv[i]);
        else printf("%s=errno %ld\n", argv[i], e);
        fflush(stdout);
    }
    return 0;
}
