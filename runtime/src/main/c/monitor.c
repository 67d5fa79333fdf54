/*
 * The monitor (M): the process the JVM spawned. It clones the container's PID 1 into new namespaces,
 * then stays outside them until that process exits: it forwards signals, relays a pty between the user's
 * terminal and the container, reports progress to the JVM on fd 3, kills the container if the JVM goes
 * away, and exits with docker's exit code (the command's status, or 128+N for signal N).
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void report(const char *fmt, ...) {
    char line[2200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = strnlen(line, sizeof line - 2);
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\n') line[i] = ' '; /* one message, one line */
    line[len++] = '\n';
    (void)send(CONTROL_FD, line, len, MSG_NOSIGNAL); /* the JVM may be gone: then nobody listens */
}

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

struct tty_state {
    int master;          /* -1 when there is no pty, or its slave side is closed */
    int host;            /* the user's terminal (for its size), or -1 */
    bool relay_stdin;
    bool raw;
    struct termios saved;
    pid_t saved_pgrp;    /* the terminal's foreground group before we took it, or -1 */
};

static void resize(struct tty_state *t) {
    struct winsize ws;
    if (t->master >= 0 && t->host >= 0 && ioctl(t->host, TIOCGWINSZ, &ws) == 0) ioctl(t->master, TIOCSWINSZ, &ws);
}

/* Takes the pty master from C: size it, make the user's terminal raw and ours for input, ack to C. */
static void take_tty(struct tty_state *t, int master, int sync, bool interactive) {
    t->master = master;
    t->host = isatty(0) ? 0 : isatty(1) ? 1 : -1;
    resize(t);
    if (interactive) {
        t->relay_stdin = true;
        if (isatty(0) && tcgetattr(0, &t->saved) == 0) {
            struct termios raw = t->saved;
            cfmakeraw(&raw);
            if (tcsetattr(0, TCSANOW, &raw) == 0) t->raw = true;
            /* We run in our own process group: become the terminal's foreground to read from it. */
            t->saved_pgrp = tcgetpgrp(0);
            if (t->saved_pgrp == getpgrp() || tcsetpgrp(0, getpgrp()) < 0) t->saved_pgrp = -1;
        }
    }
    char ack = 'A';
    (void)send(sync, &ack, 1, MSG_NOSIGNAL);
}

static void restore_tty(struct tty_state *t) {
    if (t->raw) tcsetattr(0, TCSANOW, &t->saved);
    if (t->saved_pgrp > 0) tcsetpgrp(0, t->saved_pgrp);
}

/* Copies what the container wrote to its terminal to our stdout; returns false when the pty closed. */
static bool pump_master(struct tty_state *t) {
    char buf[8192];
    ssize_t n = read(t->master, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false; /* EIO: every slave fd is closed */
    (void)write_all(1, buf, (size_t)n);
    return true;
}

struct sync_state {
    bool open;
    bool started;
    int error_code; /* 0: none */
    char error[2048];
};

/* Reads one message from C: 1 when one was read, 0 at EOF, -1 when none is waiting. */
static int read_sync(int sync, struct sync_state *st, struct tty_state *t, bool interactive, int flags) {
    char buf[2048];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    ssize_t n = recvmsg(sync, &msg, MSG_CMSG_CLOEXEC | flags);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return -1;
    if (n <= 0) return 0;
    buf[n] = '\0';
    if (buf[0] == MSG_ERROR && st->error_code == 0) {
        char *end;
        long code = strtol(buf + 1, &end, 10);
        st->error_code = code > 0 && code < 256 ? (int)code : EXIT_BERTH;
        snprintf(st->error, sizeof st->error, "%s", *end == ' ' ? end + 1 : end);
    } else if (buf[0] == MSG_TTY) {
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
            take_tty(t, fd, sync, interactive);
        }
    }
    return 1;
}

/* A command line from the JVM after the spec: "signal N" forwards signal N to the container. */
struct command {
    char line[32];
    size_t len;
};

static void command_byte(struct command *c, char b, pid_t pid) {
    if (b != '\n') {
        if (c->len < sizeof c->line - 1) c->line[c->len++] = b;
        return;
    }
    c->line[c->len] = '\0';
    c->len = 0;
    char *end;
    if (strncmp(c->line, "signal ", 7) == 0) {
        long sig = strtol(c->line + 7, &end, 10);
        if (*end == '\0' && sig > 0 && sig < NSIG) kill(pid, (int)sig);
    }
}

int monitor_run(struct spec *s) {
    sigset_t set;
    sigemptyset(&set);
    int handled[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH, SIGTTIN, SIGTTOU, SIGPIPE};
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) sigaddset(&set, handled[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
        report("error %d sigprocmask: %s", EXIT_BERTH, strerror(errno));
        return EXIT_BERTH;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        report("error %d socketpair: %s", EXIT_BERTH, strerror(errno));
        return EXIT_BERTH;
    }
    /* A fork that also creates the namespaces: the child is PID 1 of the new pid namespace. */
    unsigned long flags = (unsigned long)s->clone_flags | (s->userns ? CLONE_NEWUSER : 0);
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) {
        report("error %d clone the container's namespaces: %s", EXIT_BERTH, strerror(errno));
        return EXIT_BERTH;
    }
    if (pid == 0) {
        close(sv[0]);
        close(CONTROL_FD);
        container_main(s, sv[1]);
    }
    close(sv[1]);
    if (s->userns) { /* C waits for its maps before anything else */
        char err[512];
        if (userns_write_maps(&s->maps, pid, err, sizeof err) < 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            report("error %d %s", EXIT_BERTH, err);
            return EXIT_BERTH;
        }
        if (send(sv[0], "G", 1, MSG_NOSIGNAL) != 1) kill(pid, SIGKILL);
    }
    report("pid %d", (int)pid);

    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        kill(pid, SIGKILL);
        report("error %d signalfd: %s", EXIT_BERTH, strerror(errno));
        return EXIT_BERTH;
    }
    struct tty_state tty = {.master = -1, .host = -1, .saved_pgrp = -1};
    struct sync_state sync = {.open = true};
    bool control_open = true;
    struct command command = {0};
    int status = 0;
    for (bool done = false; !done;) {
        struct pollfd p[5];
        int np = 0, isig, icontrol = -1, isync = -1, imaster = -1, istdin = -1;
        p[isig = np++] = (struct pollfd){.fd = sfd, .events = POLLIN};
        if (control_open) p[icontrol = np++] = (struct pollfd){.fd = CONTROL_FD, .events = POLLIN};
        if (sync.open) p[isync = np++] = (struct pollfd){.fd = sv[0], .events = POLLIN};
        if (tty.master >= 0) p[imaster = np++] = (struct pollfd){.fd = tty.master, .events = POLLIN};
        if (tty.master >= 0 && tty.relay_stdin) p[istdin = np++] = (struct pollfd){.fd = 0, .events = POLLIN};
        if (poll(p, (nfds_t)np, -1) < 0) {
            if (errno == EINTR) continue;
            kill(pid, SIGKILL);
            report("error %d poll: %s", EXIT_BERTH, strerror(errno));
            return EXIT_BERTH;
        }
        if (p[isig].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                int sig = (int)si.ssi_signo;
                if (sig == SIGCHLD) {
                    if (waitpid(pid, &status, WNOHANG) == pid) done = true;
                } else if (sig == SIGWINCH) {
                    resize(&tty);
                } else if (sig != SIGTTIN && sig != SIGTTOU && sig != SIGPIPE) {
                    kill(pid, sig);
                }
            }
        }
        if (icontrol >= 0 && (p[icontrol].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[64];
            ssize_t n = read(CONTROL_FD, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) { /* the JVM is gone */
                control_open = false;
                kill(pid, SIGKILL);
            }
            for (ssize_t i = 0; i < n; i++) command_byte(&command, buf[i], pid);
        }
        if (isync >= 0 && (p[isync].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (read_sync(sv[0], &sync, &tty, s->interactive, 0) == 0) {
                sync.open = false;
                if (sync.error_code == 0 && !sync.started) {
                    sync.started = true;
                    report("started");
                }
            }
        }
        if (imaster >= 0 && (p[imaster].revents & (POLLIN | POLLHUP | POLLERR)) && !pump_master(&tty)) {
            close(tty.master);
            tty.master = -1;
        }
        if (istdin >= 0 && (p[istdin].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[8192];
            ssize_t n = read(0, buf, sizeof buf);
            if (n > 0) {
                (void)write_all(tty.master, buf, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                char eof = 4; /* ^D: the end of input, as the terminal's line discipline sees it */
                (void)write_all(tty.master, &eof, 1);
                tty.relay_stdin = false;
            }
        }
    }
    /* The container is gone; collect what it still had to say. */
    while (sync.open && read_sync(sv[0], &sync, &tty, s->interactive, MSG_DONTWAIT) > 0) {
    }
    if (tty.master >= 0) {
        fcntl(tty.master, F_SETFL, fcntl(tty.master, F_GETFL) | O_NONBLOCK);
        char buf[8192];
        ssize_t n;
        while ((n = read(tty.master, buf, sizeof buf)) > 0) (void)write_all(1, buf, (size_t)n);
    }
    restore_tty(&tty);
    if (sync.error_code != 0) {
        report("error %d %s", sync.error_code, sync.error);
        return sync.error_code;
    }
    if (!sync.started) report("started");
    if (WIFSIGNALED(status)) {
        report("exited signal %d", WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    report("exited code %d", WEXITSTATUS(status));
    return WEXITSTATUS(status);
}
