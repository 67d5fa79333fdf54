/*
 * berth exec: a process in a running container (spec key join PID). Runs in the child M forks (in the
 * host's namespaces): joins the cgroups, then every namespace of the container's PID 1 that differs from
 * ours (user first, when it is rootless) through a pidfd, in one setns (Linux 5.8+), which also puts the
 * root and working directory at the container's root; then the working directory, limits, a pty of the
 * container's own devpts with -t, and as process_init does: the command forked into the container's pid
 * namespace (setns only moves children there), signals forwarded to it, its status as our exit status.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* The namespaces of pid that are not ours, as CLONE_NEW* flags. */
static int other_namespaces(pid_t pid, int sync_fd) {
    static const struct { const char *name; int flag; } NS[] = {
        {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID}, {"uts", CLONE_NEWUTS},
        {"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP},
    };
    int flags = 0;
    for (size_t i = 0; i < sizeof NS / sizeof NS[0]; i++) {
        char theirs[64], ours[64];
        snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int)pid, NS[i].name);
        snprintf(ours, sizeof ours, "/proc/self/ns/%s", NS[i].name);
        struct stat a, b;
        if (stat(theirs, &a) < 0) fail_errno(sync_fd, EXIT_BERTH, "the container's %s namespace", NS[i].name);
        if (stat(ours, &b) < 0) fail_errno(sync_fd, EXIT_BERTH, "this process's %s namespace", NS[i].name);
        if (a.st_ino != b.st_ino || a.st_dev != b.st_dev) flags |= NS[i].flag;
    }
    return flags;
}

/* A pty of the container's devpts, its master sent to M; returns the terminal's side. */
static int open_pty(int sync_fd) {
    int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) fail_errno(sync_fd, EXIT_BERTH, "open /dev/pts/ptmx in the container");
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail_errno(sync_fd, EXIT_BERTH, "unlock the pty");
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) fail_errno(sync_fd, EXIT_BERTH, "open the pty's terminal");
    hand_over_pty(sync_fd, master);
    return slave;
}

void exec_main(struct spec *s, int sync_fd) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail_errno(sync_fd, EXIT_BERTH, "prctl(PR_SET_PDEATHSIG)");
    if (setsid() < 0) fail_errno(sync_fd, EXIT_BERTH, "setsid");
    int pidfd = (int)syscall(SYS_pidfd_open, s->join, 0);
    if (pidfd < 0) fail_errno(sync_fd, EXIT_BERTH, "the container's PID 1 (%d) is gone", (int)s->join);
    for (size_t i = 0; i < s->ncgroups; i++) {
        int c = open(s->cgroups[i], O_WRONLY | O_CLOEXEC);
        if (c < 0 || write(c, "0", 1) != 1) fail_errno(sync_fd, EXIT_BERTH, "join cgroup %s", s->cgroups[i]);
        close(c);
    }
    int flags = other_namespaces(s->join, sync_fd);
    if (flags != 0 && setns(pidfd, flags) < 0)
        fail_errno(sync_fd, EXIT_BERTH, "join the container's namespaces (Linux 5.8 or newer)");
    close(pidfd);
    if (chdir(s->cwd) < 0) fail_errno(sync_fd, EXIT_BERTH, "working directory %s", s->cwd);
    for (size_t i = 0; i < s->nrlimits; i++) {
        struct rlimit r = {.rlim_cur = s->rlimits[i].soft, .rlim_max = s->rlimits[i].hard};
        if (setrlimit(s->rlimits[i].resource, &r) < 0) fail_errno(sync_fd, EXIT_BERTH, "setrlimit %d", s->rlimits[i].resource);
    }
    int slave = s->tty ? open_pty(sync_fd) : -1;
    umask(022);
    process_init(s, sync_fd, slave);
}
