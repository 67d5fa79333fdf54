/*
 * berth attach. The keeper of a detached container (keeper.c) listens on a SOCK_SEQPACKET socket named
 * "attach" in the container's directory (beside the keeper lock), reached as /proc/self/fd/N/attach so
 * that no path is too long for sun_path. Packets:
 *   keeper -> client: first 'h' FLAGS (bit 1: a tty, bit 2: stdin open), then '1' or '2' + output bytes of
 *                     stdout or stderr (a tty's output is '1'), as the container writes them.
 *   client -> keeper: 'i' + bytes for the container's stdin (or its tty), 'w' + rows + cols (two
 *                     little-endian u16: the tty's size).
 * When the container has ended and its output is drained, the keeper sends 'x' + its exit code (docker's,
 * a little-endian u32) and closes every client. A client that
 * cannot take output at once (its socket buffer full) is dropped, so no client can stall the container.
 *
 * --attach DIR STATUS-FILE [--no-stdin]: the client berth attach runs in the foreground with the user's
 * terminal (raw mode and its size for a tty; ^P^Q detaches). It writes how it ended to STATUS-FILE:
 * "exited N" (the container's code), "detached", or "gone" (it ended without saying how).
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define PACKET 8192

/* /proc/self/fd/N/attach for the directory of `lock` (opened as N, kept open in *dirfd). */
static int socket_path(const char *dir, struct sockaddr_un *addr, int *dirfd) {
    *dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0) return -1;
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/attach", *dirfd);
    return 0;
}

int attach_listen(struct attach *a, const char *keep_lock, bool tty, bool input, char *err, size_t errlen) {
    memset(a, 0, sizeof *a);
    a->listen_fd = -1;
    a->flags = (tty ? 1 : 0) | (input ? 2 : 0);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", keep_lock);
    struct sockaddr_un addr;
    int dirfd;
    if (socket_path(dirname(dir), &addr, &dirfd) < 0) {
        snprintf(err, errlen, "open %s: %s", dir, strerror(errno));
        return -1;
    }
    (void)unlinkat(dirfd, "attach", 0);
    snprintf(a->path, sizeof a->path, "%s/attach", dir);
    a->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t old = umask(077);
    int ok = a->listen_fd >= 0 && bind(a->listen_fd, (struct sockaddr *)&addr, sizeof addr) == 0
             && listen(a->listen_fd, 8) == 0;
    umask(old);
    close(dirfd);
    if (!ok) {
        snprintf(err, errlen, "the attach socket in %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int attach_pollfds(struct attach *a, struct pollfd *fds) {
    int n = 0;
    if (a->listen_fd >= 0) fds[n++] = (struct pollfd){.fd = a->listen_fd, .events = POLLIN};
    for (int i = 0; i < a->nclients; i++) fds[n++] = (struct pollfd){.fd = a->clients[i], .events = POLLIN};
    return n;
}

static void drop(struct attach *a, int i) {
    close(a->clients[i]);
    a->clients[i] = a->clients[--a->nclients];
}

void attach_handle(struct attach *a, const struct pollfd *fds, int input_fd, int tty_master) {
    int n = 0;
    int count = a->nclients; /* the clients polled: those accepted below are not in fds yet */
    if (a->listen_fd >= 0 && (fds[n++].revents & POLLIN)) {
        int c = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c >= 0 && a->nclients < ATTACH_MAX) {
            char hello[2] = {'h', (char)a->flags};
            if (send(c, hello, 2, MSG_NOSIGNAL) == 2) a->clients[a->nclients++] = c;
            else close(c);
        } else if (c >= 0) {
            close(c);
        }
    }
    for (int i = count - 1; i >= 0; i--) {
        if (!(fds[n + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[PACKET + 1];
        ssize_t r = recv(a->clients[i], buf, sizeof buf, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (r <= 0) {
            drop(a, i);
            continue;
        }
        if (buf[0] == 'i' && input_fd >= 0 && r > 1) {
            int fl = fcntl(input_fd, F_GETFL);
            if (fl >= 0 && !(fl & O_NONBLOCK)) (void)fcntl(input_fd, F_SETFL, fl | O_NONBLOCK); /* a tty's master too */
            (void)write(input_fd, buf + 1, (size_t)r - 1); /* non-blocking: what the container does not take is lost */
        } else if (buf[0] == 'w' && tty_master >= 0 && r == 5) {
            struct winsize ws = {.ws_row = (unsigned short)((unsigned char)buf[1] | (unsigned char)buf[2] << 8),
                                 .ws_col = (unsigned short)((unsigned char)buf[3] | (unsigned char)buf[4] << 8)};
            (void)ioctl(tty_master, TIOCSWINSZ, &ws);
        }
    }
}

void attach_send(struct attach *a, int stream, const char *buf, size_t len) {
    while (len > 0 && a->nclients > 0) {
        size_t n = len < PACKET ? len : PACKET;
        char packet[PACKET + 1];
        packet[0] = stream == 2 ? '2' : '1';
        memcpy(packet + 1, buf, n);
        for (int i = a->nclients - 1; i >= 0; i--) {
            if (send(a->clients[i], packet, n + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) drop(a, i);
        }
        buf += n;
        len -= n;
    }
}

void attach_close(struct attach *a, int code) {
    char x[5] = {'x', (char)(code & 0xff), (char)((code >> 8) & 0xff), 0, 0};
    for (int i = 0; i < a->nclients; i++) {
        (void)send(a->clients[i], x, sizeof x, MSG_DONTWAIT | MSG_NOSIGNAL);
        close(a->clients[i]);
    }
    a->nclients = 0;
    if (a->listen_fd >= 0) {
        close(a->listen_fd);
        unlink(a->path);
    }
    a->listen_fd = -1;
}

/* ---------------------------------------------------------------- the client */

static struct termios saved;
static bool raw;

static void restore(void) {
    if (raw) tcsetattr(0, TCSADRAIN, &saved);
    raw = false;
}

static void send_size(int sock) {
    struct winsize ws;
    if (ioctl(1, TIOCGWINSZ, &ws) < 0 && ioctl(0, TIOCGWINSZ, &ws) < 0) return;
    char p[5] = {'w', (char)(ws.ws_row & 0xff), (char)(ws.ws_row >> 8), (char)(ws.ws_col & 0xff), (char)(ws.ws_col >> 8)};
    (void)send(sock, p, sizeof p, MSG_NOSIGNAL);
}

static int finish(const char *status_file, const char *what) {
    restore();
    int fd = open(status_file, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0 || write_all(fd, what, strlen(what)) < 0) return EXIT_BERTH;
    close(fd);
    return 0;
}

int attach_client_main(int argc, char **argv) {
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "--no-stdin") == 0)) {
        fprintf(stderr, "berth-helper: --attach DIR STATUS-FILE [--no-stdin]\n");
        return EXIT_BERTH;
    }
    const char *status_file = argv[3];
    bool want_stdin = argc == 4;
    struct sockaddr_un addr;
    int dirfd;
    int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (socket_path(argv[2], &addr, &dirfd) < 0 || sock < 0
        || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "berth-helper: the container's attach socket: %s\n", strerror(errno));
        return EXIT_BERTH;
    }
    close(dirfd);
    char buf[PACKET + 1];
    ssize_t n = recv(sock, buf, sizeof buf, 0);
    if (n != 2 || buf[0] != 'h') return finish(status_file, "gone");
    bool tty = buf[1] & 1, input = want_stdin && (buf[1] & 2);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    if (!tty) signal(SIGINT, SIG_IGN); /* berth forwards it to the container */
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (tty && isatty(0) && tcgetattr(0, &saved) == 0) {
        struct termios t = saved;
        cfmakeraw(&t);
        if (tcsetattr(0, TCSADRAIN, &t) == 0) raw = true;
    }
    if (tty) send_size(sock);
    bool ctrl_p = false;
    for (;;) {
        struct pollfd p[3] = {{.fd = sock, .events = POLLIN}, {.fd = input ? 0 : -1, .events = POLLIN},
                              {.fd = sfd, .events = POLLIN}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[2].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) > 0) send_size(sock);
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            n = recv(sock, buf, sizeof buf, 0);
            if (n <= 0) break;
            if (buf[0] == 'x' && n == 5) {
                char what[32];
                snprintf(what, sizeof what, "exited %d", (unsigned char)buf[1] | (unsigned char)buf[2] << 8);
                return finish(status_file, what);
            }
            if (n > 1) (void)write_all(buf[0] == '2' ? 2 : 1, buf + 1, (size_t)n - 1);
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            char in[PACKET + 1];
            ssize_t r = read(0, in + 1, PACKET);
            if (r <= 0) { /* our input ended; the container's stays open, as docker's does */
                input = false;
                continue;
            }
            if (tty) { /* ^P ^Q: docker's detach keys */
                for (ssize_t i = 1; i <= r; i++) {
                    if (ctrl_p && in[i] == 0x11) {
                        restore();
                        fprintf(stderr, "\r\nread escape sequence\r\n");
                        return finish(status_file, "detached");
                    }
                    ctrl_p = in[i] == 0x10;
                }
            }
            in[0] = 'i';
            if (send(sock, in, (size_t)r + 1, MSG_NOSIGNAL) < 0) break;
        }
    }
    return finish(status_file, "gone");
}
