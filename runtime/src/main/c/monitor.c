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
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mark_started(const struct spec *s);

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

/* The command runs: tell the JVM, and mark it in the container's directory, where berth exec (of any
 * berth) waits for it: before this PID 1 is still setting up (the host's mounts, every capability). */
static void mark_started(const struct spec *s) {
    if (s->started_file != NULL) {
        int fd = open(s->started_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
    }
    report("started");
}


/* Copies what the container wrote to a log pipe into its log; false at EOF. */
static bool pump_log(int fd, int stream, struct keeper *k) {
    char buf[8192];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    keeper_log(k, stream, buf, (size_t)n);
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
            tty_take(t, fd, sync, interactive);
        }
    }
    return 1;
}

/* A command line from the JVM after the spec: "signal N" forwards signal N to the container. */
struct command {
    char line[32];
    size_t len;
};

/* Takes one byte of the JVM's commands; true when it completed "detach". */
static bool command_byte(struct command *c, char b, pid_t pid) {
    if (b != '\n') {
        if (c->len < sizeof c->line - 1) c->line[c->len++] = b;
        return false;
    }
    c->line[c->len] = '\0';
    c->len = 0;
    char *end;
    if (strncmp(c->line, "signal ", 7) == 0) {
        long sig = strtol(c->line + 7, &end, 10);
        if (*end == '\0' && sig > 0 && sig < NSIG) kill(pid, (int)sig);
    }
    return strcmp(c->line, "detach") == 0;
}

/* Reads what is left in a log pipe once the container is gone (its processes died with its PID 1). */
static void drain_log(int fd, int stream, struct keeper *k) {
    if (fd < 0) return;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) keeper_log(k, stream, buf, (size_t)n);
    close(fd);
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
    /* Detached: the container's output goes to the keeper's log, through pipes (or its pty). */
    struct keeper keeper;
    struct keeper *keep = NULL;
    int outp[2] = {-1, -1}, errp[2] = {-1, -1}, inp[2] = {-1, -1};
    if (s->detach) {
        keep = &keeper;
        if (keeper_open(keep, s) < 0) {
            report("error %d open the log %s: %s", EXIT_BERTH, s->log, strerror(errno));
            return EXIT_BERTH;
        }
        if (s->log != NULL && !s->tty && (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)) {
            report("error %d pipe: %s", EXIT_BERTH, strerror(errno));
            return EXIT_BERTH;
        }
        /* -d -i: an input that stays open and empty, as docker's is until something attaches */
        if (s->interactive && !s->tty && pipe2(inp, O_CLOEXEC) < 0) {
            report("error %d pipe: %s", EXIT_BERTH, strerror(errno));
            return EXIT_BERTH;
        }
    }
    /* Published ports: bound now, on the host, so that a port in use fails before anything is created. */
    static struct ports ports;
    char perr[512];
    if (ports_listen(s, &ports, perr, sizeof perr) < 0) {
        ports_close(&ports);
        report("error %d %s", EXIT_BERTH, perr);
        return EXIT_BERTH;
    }
    /* A fork that also creates the namespaces: the child is PID 1 of the new pid namespace (for exec, a
     * plain fork: the child joins the container's). */
    unsigned long flags = s->join > 0 ? 0 : (unsigned long)s->clone_flags | (s->userns ? CLONE_NEWUSER : 0);
    char jerr[512];
    pid_t pid = s->netjoin > 0 ? clone_joined(s, flags, jerr, sizeof jerr)
                               : (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) {
        if (s->netjoin > 0) report("error %d %s", EXIT_BERTH, jerr);
        else report("error %d clone the container's namespaces: %s", EXIT_BERTH, strerror(errno));
        return EXIT_BERTH;
    }
    if (pid == 0) {
        close(sv[0]);
        close(CONTROL_FD);
        if (outp[1] >= 0 && (dup2(outp[1], 1) < 0 || dup2(errp[1], 2) < 0)) _exit(EXIT_BERTH);
        if (inp[0] >= 0 && dup2(inp[0], 0) < 0) _exit(EXIT_BERTH);
        if (s->join > 0) exec_main(s, sv[1]);
        container_main(s, sv[1]);
    }
    close(sv[1]);
    if (outp[1] >= 0) {
        close(outp[1]);
        close(errp[1]);
    }
    if (inp[0] >= 0) close(inp[0]); /* inp[1] stays open, unwritten, until we exit */
    if (s->userns && s->join == 0) { /* C waits for its maps (unless it joined a namespace that has them) */
        char err[512];
        if (s->netjoin == 0 && userns_write_maps(&s->maps, pid, err, sizeof err) < 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            report("error %d %s", EXIT_BERTH, err);
            return EXIT_BERTH;
        }
        if (send(sv[0], "G", 1, MSG_NOSIGNAL) != 1) kill(pid, SIGKILL);
    }
    if (keep != NULL) { /* held until the container has ended: berth sees it running as long as it is */
        char err[512];
        keep->lock_fd = keeper_lock(s->keep_lock, err, sizeof err);
        if (keep->lock_fd < 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            report("error %d %s", EXIT_BERTH, err);
            return EXIT_BERTH;
        }
        if (attach_listen(&keep->attach, s->keep_lock, s->tty, s->interactive, err, sizeof err) < 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            report("error %d %s", EXIT_BERTH, err);
            return EXIT_BERTH;
        }
        if (inp[1] >= 0) fcntl(inp[1], F_SETFL, O_NONBLOCK); /* what an attached client sends */
    }
    if (ports_start_dialer(&ports, pid, perr, sizeof perr) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        ports_close(&ports);
        report("error %d %s", EXIT_BERTH, perr);
        return EXIT_BERTH;
    }
    for (size_t i = 0; ports_listener(&ports, i) != NULL; i++) {
        const struct listener *l = ports_listener(&ports, i);
        report("port %s %s %u %u", l->udp ? "udp" : "tcp", l->host_ip, l->host_port, l->container_port);
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
    bool detached = false;
    struct command command = {0};
    int status = 0;
    for (bool done = false; !done;) {
        struct pollfd p[7 + PORTS_MAX_POLL + 1 + ATTACH_MAX];
        int np = 0, isig, icontrol = -1, isync = -1, imaster = -1, istdin = -1, iout = -1, ierr = -1;
        p[isig = np++] = (struct pollfd){.fd = sfd, .events = POLLIN};
        if (control_open) p[icontrol = np++] = (struct pollfd){.fd = CONTROL_FD, .events = POLLIN};
        if (sync.open) p[isync = np++] = (struct pollfd){.fd = sv[0], .events = POLLIN};
        if (tty.master >= 0) p[imaster = np++] = (struct pollfd){.fd = tty.master, .events = POLLIN};
        if (tty.master >= 0 && tty.relay_stdin) p[istdin = np++] = (struct pollfd){.fd = 0, .events = POLLIN};
        if (outp[0] >= 0) p[iout = np++] = (struct pollfd){.fd = outp[0], .events = POLLIN};
        if (errp[0] >= 0) p[ierr = np++] = (struct pollfd){.fd = errp[0], .events = POLLIN};
        int iports = np;
        np += ports_pollfds(&ports, p + iports);
        int iattach = np;
        if (keep != NULL) np += attach_pollfds(&keep->attach, p + iattach);
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
                    tty_resize(&tty);
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
                if (!detached) kill(pid, SIGKILL);
            }
            for (ssize_t i = 0; i < n; i++) {
                if (command_byte(&command, buf[i], pid) && keep != NULL && !detached) {
                    /* berth recorded the container: it lives on without the JVM that started it */
                    if (prctl(PR_SET_PDEATHSIG, 0) == 0) {
                        detached = true;
                        report("detached");
                    } else { /* it cannot outlive berth: it ends now rather than with a berth that left */
                        report("error %d prctl(PR_SET_PDEATHSIG): %s", EXIT_BERTH, strerror(errno));
                        kill(pid, SIGKILL);
                    }
                }
            }
        }
        if (iout >= 0 && (p[iout].revents & (POLLIN | POLLHUP | POLLERR)) && !pump_log(outp[0], 1, keep)) {
            close(outp[0]);
            outp[0] = -1;
        }
        if (ierr >= 0 && (p[ierr].revents & (POLLIN | POLLHUP | POLLERR)) && !pump_log(errp[0], 2, keep)) {
            close(errp[0]);
            errp[0] = -1;
        }
        if (isync >= 0 && (p[isync].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (read_sync(sv[0], &sync, &tty, s->interactive && !s->detach, 0) == 0) {
                sync.open = false;
                if (sync.error_code == 0 && !sync.started) {
                    sync.started = true;
                    mark_started(s);
                }
            }
        }
        if (imaster >= 0 && (p[imaster].revents & (POLLIN | POLLHUP | POLLERR)) && !tty_pump(&tty, keep)) {
            close(tty.master);
            tty.master = -1;
        }
        ports_handle(&ports, p + iports);
        if (keep != NULL) attach_handle(&keep->attach, p + iattach, s->tty ? tty.master : inp[1], tty.master);
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
    ports_close(&ports); /* the container is gone; so is what it listened on */
    /* The container is gone; collect what it still had to say. */
    while (sync.open && read_sync(sv[0], &sync, &tty, s->interactive && !s->detach, MSG_DONTWAIT) > 0) {
    }
    if (tty.master >= 0) {
        fcntl(tty.master, F_SETFL, fcntl(tty.master, F_GETFL) | O_NONBLOCK);
        char buf[8192];
        ssize_t n;
        while ((n = read(tty.master, buf, sizeof buf)) > 0) {
            if (keep != NULL) keeper_log(keep, 1, buf, (size_t)n);
            else (void)write_all(1, buf, (size_t)n);
        }
    }
    tty_restore(&tty);
    char ended[2200];
    int code;
    if (sync.error_code != 0) {
        snprintf(ended, sizeof ended, "error %d %s", sync.error_code, sync.error);
        code = sync.error_code;
    } else if (WIFSIGNALED(status)) {
        snprintf(ended, sizeof ended, "exited signal %d", WTERMSIG(status));
        code = 128 + WTERMSIG(status);
    } else {
        snprintf(ended, sizeof ended, "exited code %d", WEXITSTATUS(status));
        code = WEXITSTATUS(status);
    }
    if (keep != NULL) {
        drain_log(outp[0], 1, keep);
        drain_log(errp[0], 2, keep);
        keeper_flush(keep);
        attach_close(&keep->attach, code); /* attached clients see the end */
        keeper_exit_file(s->exit_file, ended);
    }
    if (sync.error_code == 0 && !sync.started) mark_started(s);
    report("%s", ended);
    if (detached) keeper_exec_exit(keep, s->exit_cmd); /* records the exit in berth's state */
    return code;
}
