/*
 * Two ways into a container's files for berth cp, each a process whose root or user namespace berth's
 * JVM (or its worker) then uses through /proc/PID/root, where the kernel resolves every path inside:
 *
 *   --hold-root ROOTFS UPPER WORK MODE USERXATTR LOWER...   (a container that is not running)
 *       a mount namespace of its own, the container's overlay root mounted on ROOTFS (as container.c mounts
 *       it: MODE is the overlay mode, USERXATTR 1 in a user namespace), chroot into it, "ready" on stdout;
 *       then it holds the mount until its stdin ends. Nothing else of the container (volumes, /proc) is there.
 *   --userns-join PID -- CMD...   (a rootless container that runs)
 *       joins the user namespace of PID (the container's PID 1) and execs CMD as its root, so that CMD may
 *       open /proc/PID/root and the files of the container's ids.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int hold_root_main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "berth-helper: --hold-root ROOTFS UPPER WORK MODE USERXATTR LOWER...\n");
        return EXIT_BERTH;
    }
    struct spec s;
    memset(&s, 0, sizeof s);
    s.rootfs = argv[2];
    s.upper = argv[3];
    s.work = argv[4];
    s.overlay_mode = argv[5];
    s.userxattr = strcmp(argv[6], "1") == 0;
    s.lowers = (const char **)(argv + 7);
    s.nlowers = (size_t)(argc - 7);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail_errno(STDERR_FILENO, EXIT_BERTH, "prctl(PR_SET_PDEATHSIG)");
    if (unshare(CLONE_NEWNS) < 0) fail_errno(STDERR_FILENO, EXIT_BERTH, "unshare the mount namespace");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail_errno(STDERR_FILENO, EXIT_BERTH, "make / private");
    mount_overlay_root(&s, STDERR_FILENO);
    if (chroot(s.rootfs) < 0 || chdir("/") < 0) fail_errno(STDERR_FILENO, EXIT_BERTH, "chroot %s", s.rootfs);
    if (write_all(STDOUT_FILENO, "ready\n", 6) < 0) return EXIT_BERTH;
    char buf[64];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EINTR)) return 0;
    }
}

int userns_join_main(int argc, char **argv) {
    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "berth-helper: --userns-join PID -- CMD...\n");
        return EXIT_BERTH;
    }
    char *end;
    long pid = strtol(argv[2], &end, 10);
    if (*end != '\0' || pid <= 0) {
        fprintf(stderr, "berth-helper: --userns-join: bad pid %s\n", argv[2]);
        return EXIT_BERTH;
    }
    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pidfd < 0) fail_errno(STDERR_FILENO, EXIT_BERTH, "the container's PID 1 (%ld) is gone", pid);
    if (setns(pidfd, CLONE_NEWUSER) < 0) fail_errno(STDERR_FILENO, EXIT_BERTH, "join the container's user namespace");
    close(pidfd);
    /* root of the namespace, so that exec keeps the capabilities setns gave */
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        fail_errno(STDERR_FILENO, EXIT_BERTH, "become root of the container's user namespace");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail_errno(STDERR_FILENO, EXIT_BERTH, "prctl(PR_SET_PDEATHSIG)");
    execvp(argv[4], argv + 4);
    fprintf(stderr, "berth-helper: exec %s: %s\n", argv[4], strerror(errno));
    return errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
}
