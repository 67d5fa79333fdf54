/*
 * The port dialer D (see ports.c): a child of the monitor that joined the container's network namespace
 * (and its user namespace, rootless) but not its PID namespace, and creates sockets there on request: a
 * socket stays in the namespace it was made in, so the monitor, on the host, connects and relays them.
 */
#include "helper.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static int dialer_serve(int sock, pid_t container) {
    int pidfd = (int)syscall(SYS_pidfd_open, container, 0);
    if (pidfd < 0) return 1;
    int flags = CLONE_NEWNET;
    struct stat a, b;
    char theirs[64];
    snprintf(theirs, sizeof theirs, "/proc/%d/ns/user", (int)container);
    if (stat(theirs, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && a.st_ino != b.st_ino) flags |= CLONE_NEWUSER;
    if (setns(pidfd, flags) < 0) {
        char msg[160];
        int n = snprintf(msg, sizeof msg, "Ejoin the container's network namespace: %s", strerror(errno));
        (void)send(sock, msg, (size_t)n, MSG_NOSIGNAL);
        return 1;
    }
    close(pidfd);
    (void)send(sock, "R", 1, MSG_NOSIGNAL);
    for (;;) {
        char req;
        ssize_t n = recv(sock, &req, 1, 0);
        if (n <= 0) return 0;
        int fd = socket(AF_INET, (req == 'u' ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        char tag = fd < 0 ? 'E' : 'S';
        struct iovec iov = {.iov_base = &tag, .iov_len = 1};
        union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
        memset(&u, 0, sizeof u);
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (fd >= 0) {
            msg.msg_control = u.buf;
            msg.msg_controllen = sizeof u.buf;
            struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) return 1;
        if (fd >= 0) close(fd);
    }
}

int ports_start_dialer(struct ports *p, pid_t container, char *err, size_t errlen) {
    if (p->nlisteners == 0) return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair for the port dialer: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork the port dialer: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int fd = 0; fd < 1024; fd++)
            if (fd != sv[1] && fd > 2) close(fd);
        _exit(dialer_serve(sv[1], container));
    }
    close(sv[1]);
    p->dialer = sv[0];
    p->dialer_pid = pid;
    char buf[200];
    ssize_t n = recv(p->dialer, buf, sizeof buf - 1, 0);
    if (n == 1 && buf[0] == 'R') return 0;
    buf[n > 0 ? n : 0] = '\0';
    snprintf(err, errlen, "published ports: %s", n > 1 ? buf + 1 : "the port dialer ended");
    return -1;
}

int ports_dial(struct ports *p, bool udp) {
    char req = udp ? 'u' : 't';
    if (send(p->dialer, &req, 1, MSG_NOSIGNAL) != 1) return -1;
    char tag;
    struct iovec iov = {.iov_base = &tag, .iov_len = 1};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    if (recvmsg(p->dialer, &msg, MSG_CMSG_CLOEXEC) != 1 || tag != 'S') return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c == NULL || c->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}
