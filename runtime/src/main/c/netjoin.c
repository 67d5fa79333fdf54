/*
 * --network container:NAME (spec key netjoin PID). The container's PID 1 is cloned by a child of M that
 * first joined the other container's network namespace (rootless: and its user namespace, the only one in
 * which a process may join a network namespace that user namespace owns), with CLONE_PARENT, so that it is
 * M's child as every container's PID 1 is. Its other namespaces are new, as always.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

pid_t clone_joined(const struct spec *s, unsigned long flags, char *err, size_t errlen) {
    int pp[2];
    if (pipe2(pp, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t i = fork();
    if (i < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (i == 0) {
        close(pp[0]);
        long result;
        int pidfd = (int)syscall(SYS_pidfd_open, s->netjoin, 0);
        if (pidfd < 0 || setns(pidfd, CLONE_NEWNET | (s->userns ? CLONE_NEWUSER : 0)) < 0) {
            result = -errno;
            (void)write_all(pp[1], (const char *)&result, sizeof result);
            _exit(1);
        }
        close(pidfd);
        unsigned long mine = flags & ~(unsigned long)(CLONE_NEWNET | CLONE_NEWUSER);
        pid_t c = (pid_t)syscall(SYS_clone, mine | CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        if (c == 0) {
            close(pp[1]);
            return 0; /* C: on as M's clone goes on */
        }
        result = c < 0 ? -errno : c;
        (void)write_all(pp[1], (const char *)&result, sizeof result);
        _exit(0);
    }
    close(pp[1]);
    long result = -EIO;
    ssize_t n;
    while ((n = read(pp[0], &result, sizeof result)) < 0 && errno == EINTR) {
    }
    close(pp[0]);
    while (waitpid(i, NULL, 0) < 0 && errno == EINTR) {
    }
    if (n != (ssize_t)sizeof result || result <= 0) {
        snprintf(err, errlen, "join the network namespace of the container whose PID 1 is %d: %s", (int)s->netjoin,
                 strerror(result < 0 ? (int)-result : EIO));
        return -1;
    }
    return (pid_t)result;
}
