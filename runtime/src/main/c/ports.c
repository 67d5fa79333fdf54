/*
 * Published ports (-p): the monitor M listens on the host and relays each connection (TCP) or each
 * client's datagrams (UDP) to the container's port on its loopback, as docker-proxy does, with no root
 * and no device: it works the same rootless. M stays in the host's network namespace; the sockets that
 * reach into the container come from a dialer D, a child of M that joined the container's user (when
 * rootless) and network namespaces, but not its PID namespace (so the container never sees it). A socket
 * stays in the namespace it was created in, so D only creates them and hands them to M, which connects
 * them and moves the bytes in its one poll loop. D is in dialer.c.
 */
#include "helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RELAY_BUF 65536
#define UDP_IDLE_SECONDS 120

struct relay_dir {
    char *buf;
    size_t len, off;
    bool eof, shut; /* the reading side ended; its end was passed on to the writing side */
};

struct conn {
    int fd[2];            /* 0: the client's, on the host; 1: the container's */
    bool connecting;
    struct relay_dir dir[2]; /* dir[i]: read from fd[i], written to fd[1 - i] */
};

static int connect_inside(int fd, unsigned port) {
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return connect(fd, (struct sockaddr *)&to, sizeof to);
}

/* ---- listening ---- */

static int listen_one(struct ports *p, const struct publish *pub, int family, const char *ip, unsigned port,
                      char *err, size_t errlen) {
    if (p->nlisteners >= PORTS_MAX_LISTENERS) {
        snprintf(err, errlen, "more than %d published ports", PORTS_MAX_LISTENERS);
        return -1;
    }
    bool udp = pub->udp;
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&addr;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, ip, &a->sin_addr) != 1) goto bad_ip;
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1) goto bad_ip;
        len = sizeof *a;
    }
    int fd = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -2; /* no such address family on this host */
    int one = 1;
    if (!udp) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, len) < 0 || (!udp && listen(fd, 128) < 0)) {
        int e = errno;
        close(fd);
        if (family == AF_INET6 && (e == EADDRNOTAVAIL || e == EAFNOSUPPORT)) return -2;
        bool v6 = family == AF_INET6;
        snprintf(err, errlen, "publish %s%s%s:%u/%s: %s%s", v6 ? "[" : "", ip, v6 ? "]" : "", port,
                 udp ? "udp" : "tcp", strerror(e), e == EACCES && port < 1024
                 ? " (ports below net.ipv4.ip_unprivileged_port_start need root)" : "");
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &blen);
    unsigned got = family == AF_INET ? ntohs(((struct sockaddr_in *)&bound)->sin_port)
                                     : ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    struct listener *l = &p->listeners[p->nlisteners++];
    l->fd = fd;
    l->udp = udp;
    l->container_port = pub->container_port;
    l->host_port = got;
    snprintf(l->host_ip, sizeof l->host_ip, "%s", ip);
    return (int)got;
bad_ip:
    snprintf(err, errlen, "publish: invalid host address \"%s\"", ip);
    return -1;
}

int ports_listen(const struct spec *s, struct ports *p, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    p->dialer = -1;
    for (size_t i = 0; i < PORTS_MAX_FLOWS; i++) p->flows[i].fd = -1;
    for (size_t i = 0; i < s->npublish; i++) {
        const struct publish *pub = &s->publish[i];
        if (pub->host_ip[0] != '\0') {
            if (listen_one(p, pub, strchr(pub->host_ip, ':') ? AF_INET6 : AF_INET, pub->host_ip, pub->host_port,
                           err, errlen) < 0)
                return -1;
            continue;
        }
        /* every address, as docker binds them: 0.0.0.0, then [::] on the same port when the host has IPv6 */
        int port = listen_one(p, pub, AF_INET, "0.0.0.0", pub->host_port, err, errlen);
        if (port < 0) return -1;
        if (listen_one(p, pub, AF_INET6, "::", (unsigned)port, err, errlen) == -1) return -1;
    }
    return 0;
}

const struct listener *ports_listener(const struct ports *p, size_t i) {
    return i < p->nlisteners ? &p->listeners[i] : NULL;
}

/* ---- relaying ---- */

static void conn_close(struct ports *p, size_t i) {
    struct conn *c = p->conns[i];
    close(c->fd[0]);
    close(c->fd[1]);
    free(c->dir[0].buf);
    free(c->dir[1].buf);
    free(c);
    p->conns[i] = NULL;
}

static void accept_tcp(struct ports *p, const struct listener *l) {
    int client = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0) return;
    size_t slot = 0;
    while (slot < PORTS_MAX_CONNS && p->conns[slot] != NULL) slot++;
    int inside = slot < PORTS_MAX_CONNS ? ports_dial(p, false) : -1;
    if (inside < 0) { /* too many connections, or the container's namespace is gone */
        close(client);
        return;
    }
    struct conn *c = calloc(1, sizeof *c);
    char *b0 = malloc(RELAY_BUF), *b1 = malloc(RELAY_BUF);
    if (c == NULL || b0 == NULL || b1 == NULL) {
        free(c); free(b0); free(b1);
        close(client);
        close(inside);
        return;
    }
    c->fd[0] = client;
    c->fd[1] = inside;
    c->dir[0].buf = b0;
    c->dir[1].buf = b1;
    if (connect_inside(inside, l->container_port) < 0 && errno != EINPROGRESS) {
        p->conns[slot] = c;
        conn_close(p, slot); /* nothing listens there: the client sees its connection closed */
        return;
    }
    c->connecting = true;
    p->conns[slot] = c;
}

/* Moves what it can for one connection; false when it is over (both ways ended, or an error). */
static bool conn_step(struct conn *c, const short revents[2]) {
    if (c->connecting) {
        if (!(revents[1] & (POLLOUT | POLLERR | POLLHUP))) return true;
        int e = 0;
        socklen_t len = sizeof e;
        if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e != 0) return false;
        c->connecting = false;
    }
    for (int i = 0; i < 2; i++) {
        struct relay_dir *d = &c->dir[i];
        int from = c->fd[i], to = c->fd[1 - i];
        if (d->len == 0 && !d->eof && (revents[i] & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = recv(from, d->buf, RELAY_BUF, 0);
            if (n > 0) { d->len = (size_t)n; d->off = 0; }
            else if (n == 0) d->eof = true;
            else if (errno != EAGAIN && errno != EINTR) return false;
        }
        if (d->len > d->off) {
            ssize_t n = send(to, d->buf + d->off, d->len - d->off, MSG_NOSIGNAL);
            if (n > 0) d->off += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
            if (d->off == d->len) d->len = d->off = 0;
        }
        if (d->eof && d->len == 0 && !d->shut) {
            shutdown(to, SHUT_WR);
            d->shut = true;
        }
    }
    return !(c->dir[0].shut && c->dir[1].shut);
}

static void flow_close(struct flow *f) {
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
}

static void datagram_in(struct ports *p, size_t li) {
    const struct listener *l = &p->listeners[li];
    char buf[65536];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(l->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    if (n < 0) return;
    time_t now = time(NULL);
    struct flow *f = NULL, *lru = &p->flows[0];
    for (size_t i = 0; i < PORTS_MAX_FLOWS; i++) {
        struct flow *g = &p->flows[i];
        if (g->fd >= 0 && now - g->used > UDP_IDLE_SECONDS) flow_close(g);
        if (g->fd >= 0 && g->listener == (int)li && g->client_len == flen && memcmp(&g->client, &from, flen) == 0) f = g;
        if (g->fd < 0 || (lru->fd >= 0 && g->used < lru->used)) lru = g;
    }
    if (f == NULL) { /* a new client: a socket of its own inside, so that replies find their way back */
        flow_close(lru);
        int fd = ports_dial(p, true);
        if (fd < 0) return;
        if (connect_inside(fd, l->container_port) < 0) {
            close(fd);
            return;
        }
        f = lru;
        f->fd = fd;
        f->listener = (int)li;
        memcpy(&f->client, &from, flen);
        f->client_len = flen;
    }
    f->used = now;
    (void)send(f->fd, buf, (size_t)n, MSG_NOSIGNAL);
}

static void datagram_out(struct ports *p, struct flow *f) {
    char buf[65536];
    ssize_t n = recv(f->fd, buf, sizeof buf, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) flow_close(f); /* e.g. ECONNREFUSED: nothing listens */
        return;
    }
    f->used = time(NULL);
    (void)sendto(p->listeners[f->listener].fd, buf, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&f->client,
                 f->client_len);
}

int ports_pollfds(struct ports *p, struct pollfd *fds) {
    int n = 0;
    p->nrefs = 0;
    if (p->dialer < 0) return 0;
    for (size_t i = 0; i < p->nlisteners; i++) {
        fds[n] = (struct pollfd){.fd = p->listeners[i].fd, .events = POLLIN};
        p->refs[n++] = (struct pollref){'L', (int)i, 0};
    }
    for (size_t i = 0; i < PORTS_MAX_CONNS; i++) {
        struct conn *c = p->conns[i];
        if (c == NULL) continue;
        for (int side = 0; side < 2; side++) {
            short ev = 0;
            if (c->connecting) ev = side == 1 ? POLLOUT : 0;
            else {
                if (c->dir[side].len == 0 && !c->dir[side].eof) ev |= POLLIN;
                if (c->dir[1 - side].len > c->dir[1 - side].off) ev |= POLLOUT;
            }
            /* nothing wanted: left out (poll ignores a negative fd), or a hang-up would wake it at once, again
             * and again, while the other side drains */
            fds[n] = (struct pollfd){.fd = ev != 0 ? c->fd[side] : -1, .events = ev};
            p->refs[n++] = (struct pollref){'C', (int)i, side};
        }
    }
    for (size_t i = 0; i < PORTS_MAX_FLOWS; i++) {
        if (p->flows[i].fd < 0) continue;
        fds[n] = (struct pollfd){.fd = p->flows[i].fd, .events = POLLIN};
        p->refs[n++] = (struct pollref){'F', (int)i, 0};
    }
    p->nrefs = (size_t)n;
    return n;
}

void ports_handle(struct ports *p, const struct pollfd *fds) {
    for (size_t k = 0; k < p->nrefs; k++) {
        struct pollref r = p->refs[k];
        if (r.kind == 'L' && (fds[k].revents & POLLIN)) {
            if (p->listeners[r.index].udp) datagram_in(p, (size_t)r.index);
            else accept_tcp(p, &p->listeners[r.index]);
        } else if (r.kind == 'C' && r.side == 0 && p->conns[r.index] != NULL) {
            short revents[2] = {fds[k].revents, k + 1 < p->nrefs ? fds[k + 1].revents : 0};
            if ((revents[0] | revents[1]) != 0 && !conn_step(p->conns[r.index], revents)) conn_close(p, (size_t)r.index);
        } else if (r.kind == 'F' && (fds[k].revents & (POLLIN | POLLERR)) && p->flows[r.index].fd >= 0) {
            datagram_out(p, &p->flows[r.index]);
        }
    }
}

void ports_close(struct ports *p) {
    for (size_t i = 0; i < PORTS_MAX_CONNS; i++)
        if (p->conns[i] != NULL) conn_close(p, i);
    for (size_t i = 0; i < PORTS_MAX_FLOWS; i++) flow_close(&p->flows[i]);
    for (size_t i = 0; i < p->nlisteners; i++) close(p->listeners[i].fd);
    p->nlisteners = 0;
    if (p->dialer >= 0) {
        close(p->dialer);
        p->dialer = -1;
        kill(p->dialer_pid, SIGKILL);
        waitpid(p->dialer_pid, NULL, 0);
    }
}
