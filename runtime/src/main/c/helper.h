/*
 * berth-helper: the native part of berth's runtime.
 *
 * Why it exists: the JVM is multithreaded, so it can neither fork safely nor give a child new namespaces
 * before that child runs user code. The helper is started by the JVM (its process launcher), connects to
 * the JVM's control socket as fd 3, reads a complete, already-resolved container spec from it and does
 * only what must happen in a single-threaded process:
 * namespaces, the overlay root, mounts, pivot_root, user and capabilities, exec, and (with --init) staying
 * as the container's PID 1. Every decision (layers, mounts, ids, caps, env, cgroups) was taken in Java.
 *
 * Processes:
 *   monitor (M)  the process the JVM spawned; stays in the host namespaces, forwards signals to the
 *                container, relays a pty, reports to the JVM on fd 3 and exits with docker's exit code.
 *   init (C)     cloned by M into new mount/pid/uts/ipc/net namespaces: PID 1 of the container. Sets up
 *                the root and then either execs the command (default) or forks it and reaps (--init).
 *
 * Protocol on fd 3 (a socket the JVM holds the other end of):
 *   JVM -> M: "BERTH1\n", a 4-byte little-endian length, then records of NUL-terminated strings: a key
 *             followed by the fixed number of values that key takes (see spec.c). Ends with "end".
 *   M -> JVM: text lines: "monitor N" (M's pid, first, when M is a detachable one: see main.c), "pid N" (host pid of C), "started" (the command was exec'd), "error CODE MSG"
 *             (setup failed; CODE is 125, 126 or 127), "exited code N" or "exited signal N".
 *   JVM -> M, after the spec: text lines "signal N" (forward signal N to the container), and for a
 *             detached container (flag detach) "detach" once berth has recorded it: M answers "detached",
 *             no longer dies with the JVM, and from then on keeps the container (keeper.c).
 *
 * Rootless (spec flag userns): C is cloned into a new user namespace too, and M writes its uid and gid
 * maps (userns.c) before C does anything; C waits for them and becomes root of the namespace.
 *   EOF from the JVM means it died: M kills the container.
 */
#ifndef BERTH_HELPER_H
#define BERTH_HELPER_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/types.h>

#define CONTROL_FD 3

/* docker's exit codes for failures before the command runs */
#define EXIT_BERTH 125
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

struct mount_entry {
    const char *type;   /* "bind" or a file system type */
    const char *source;
    const char *target; /* inside the container, absolute */
    unsigned long flags;
    const char *data;
};

struct device_entry {
    const char *path; /* inside the container, absolute */
    char type;        /* 'c' or 'b' */
    unsigned major, minor;
    mode_t mode;
    uid_t uid;
    gid_t gid;
};

struct idmap {
    unsigned long inside, outside, count;
};

/* The maps of a user namespace; newuidmap/newgidmap NULL or "" to write them directly (one line each). */
struct idmaps {
    struct idmap *uid; size_t nuid;
    struct idmap *gid; size_t ngid;
    const char *newuidmap, *newgidmap;
    bool no_setgroups; /* written directly: setgroups is denied in the namespace */
};

struct rlimit_entry {
    int resource;
    rlim_t soft, hard;
};

struct publish {
    bool udp;
    char host_ip[64];  /* "": every address (0.0.0.0 and ::) */
    unsigned host_port; /* 0: one the kernel picks */
    unsigned container_port;
};

/* A seccomp rule's argument condition (docker's and OCI's ops), and a rule: a syscall by name and the
 * action (a SECCOMP_RET_* value) when every condition holds. */
enum sc_op { SC_EQ, SC_NE, SC_LT, SC_LE, SC_GT, SC_GE, SC_MASKED_EQ };
#define SC_MAX_ARGS 6
struct sc_arg { unsigned index; enum sc_op op; uint64_t value, value2; };
struct sc_rule { const char *name; uint32_t ret; unsigned nargs; struct sc_arg args[SC_MAX_ARGS]; };

struct spec {
    const char *id;
    const char *rootfs; /* host path of the empty directory the overlay is mounted on */
    const char **lowers; size_t nlowers; /* topmost first */
    const char *upper, *work;
    const char *overlay_mode; /* "auto", "fsconfig" or "fdpaths" */
    int clone_flags;          /* CLONE_NEW* for the clone of C */
    bool cgroup_ns;
    const char *hostname;
    const char **cgroups; size_t ncgroups; /* cgroup.procs files C joins */
    struct mount_entry *mounts; size_t nmounts;
    struct device_entry *devices; size_t ndevices;
    const char **symlinks; size_t nsymlinks; /* pairs: target, link path */
    const char **masked; size_t nmasked;
    const char **readonly; size_t nreadonly;
    bool no_pivot, readonly_root, init, tty, interactive, no_new_privs, loopback;
    bool userns;    /* a user namespace of its own, with maps (rootless) */
    bool userxattr; /* overlay in a user namespace: its xattrs are user.overlay.* */
    struct idmaps maps;
    uid_t uid;
    gid_t gid;
    gid_t *groups; size_t ngroups;
    uint64_t caps;
    struct rlimit_entry *rlimits; size_t nrlimits;
    bool seccomp;                     /* a filter: the default action and the rules, in order (seccomp.c) */
    uint32_t seccomp_default;
    struct sc_rule *scrules; size_t nscrules;
    const char *cwd;
    const char *path; /* the container's PATH, to find args[0] */
    char **env; size_t nenv;   /* NULL-terminated */
    char **args; size_t nargs; /* NULL-terminated */
    struct publish *publish; size_t npublish; /* -p: see ports.c */
    pid_t join;                      /* berth exec: the container's PID 1, whose namespaces to join (exec.c) */
    pid_t netjoin;                   /* --network container: the PID 1 whose network (rootless: and user)
                                        namespace the container joins instead of new ones (monitor.c) */
    /* detached (berth run -d): see keeper.c */
    bool detach;
    const char *log;                 /* the json-file log, or NULL */
    unsigned long long log_max;      /* bytes per log file; 0: no limit */
    unsigned log_files;              /* files kept, the log included */
    const char *exit_file, *keep_lock;
    const char *started_file;        /* made once the command runs (exec waits for it), or NULL */
    char **exit_cmd; size_t nexit_cmd; /* NULL-terminated; run when the container has ended */
};

struct keeper_stream {
    char buf[16384];
    size_t len;
};

#define ATTACH_MAX 16

/* The attach socket of a detached container and the clients on it (attach.c). */
struct attach {
    int listen_fd;
    int clients[ATTACH_MAX];
    int nclients;
    int flags; /* 1: a tty, 2: stdin open */
    char path[4200];
};

struct keeper {
    struct attach attach;
    int lock_fd, log_fd;
    const char *log_path;
    unsigned long long log_max, log_size;
    unsigned log_files;
    struct keeper_stream streams[2]; /* stdout, stderr: the line each is in */
};

#define PORTS_MAX_LISTENERS 128
#define PORTS_MAX_CONNS 256
#define PORTS_MAX_FLOWS 64
#define PORTS_MAX_POLL (PORTS_MAX_LISTENERS + 2 * PORTS_MAX_CONNS + PORTS_MAX_FLOWS)

struct listener {
    int fd;
    bool udp;
    char host_ip[64];
    unsigned host_port, container_port;
};

struct pollref { int kind; int index; int side; };

struct flow {
    int fd;               /* a connected UDP socket in the container's namespace; -1: free */
    int listener;         /* index into listeners */
    struct sockaddr_storage client;
    socklen_t client_len;
    time_t used;
};

struct ports {
    struct listener listeners[PORTS_MAX_LISTENERS]; size_t nlisteners;
    struct conn *conns[PORTS_MAX_CONNS];
    struct flow flows[PORTS_MAX_FLOWS];
    int dialer; pid_t dialer_pid;
    struct pollref refs[PORTS_MAX_POLL]; size_t nrefs;
};

/* spec.c */
int spec_read(int fd, struct spec *spec, char *err, size_t errlen);

/* seccomp.c: compiles and installs the spec's filter; 0, or -1 with err */
int seccomp_install(const struct spec *s, char *err, size_t errlen);

/* userns.c */
int userns_write_maps(const struct idmaps *maps, pid_t pid, char *err, size_t errlen);
int userns_become_root(const struct idmaps *maps);
int userns_exec(const struct idmaps *maps, char **argv);

/* keeper.c */
int write_all(int fd, const char *buf, size_t len); /* 0, or -1 with errno */
int keeper_lock(const char *path, char *err, size_t errlen); /* the held lock's fd, or -1 */
int keeper_open(struct keeper *k, const struct spec *s);
void keeper_log(struct keeper *k, int stream, const char *buf, size_t n); /* stream 1: stdout, 2: stderr */
void keeper_flush(struct keeper *k);
void keeper_exit_file(const char *path, const char *what);
void keeper_exec_exit(struct keeper *k, char **argv) __attribute__((noreturn));

/* ports.c: listen before the container exists; relay once the dialer is in its network namespace */
int ports_listen(const struct spec *s, struct ports *p, char *err, size_t errlen);
const struct listener *ports_listener(const struct ports *p, size_t i); /* NULL past the last */
int ports_start_dialer(struct ports *p, pid_t container, char *err, size_t errlen); /* dialer.c */
int ports_dial(struct ports *p, bool udp); /* dialer.c: a non-blocking socket in the container's netns, or -1 */
int ports_pollfds(struct ports *p, struct pollfd *fds); /* at most PORTS_MAX_POLL */
void ports_handle(struct ports *p, const struct pollfd *fds);
void ports_close(struct ports *p);

/* tty.c: the pty of a container, in the monitor */
#include <termios.h>
struct tty_state {
    int master;          /* -1 when there is no pty, or its slave side is closed */
    int host;            /* the user's terminal (for its size), or -1 */
    bool relay_stdin;
    bool raw;
    struct termios saved;
    pid_t saved_pgrp;    /* the terminal's foreground group before we took it, or -1 */
};
void tty_resize(struct tty_state *t);
/* Takes the pty master from C: size it, make the user's terminal raw and ours for input, ack to C. */
void tty_take(struct tty_state *t, int master, int sync, bool interactive);
void tty_restore(struct tty_state *t);
/* Copies what the container wrote to its terminal to our stdout (or its log); false when the pty closed. */
bool tty_pump(struct tty_state *t, struct keeper *k);

/* netjoin.c: C cloned into the network namespace of s->netjoin; C's pid in M, 0 in C, -1 with err */
pid_t clone_joined(const struct spec *s, unsigned long flags, char *err, size_t errlen);

/* monitor.c */
int monitor_run(struct spec *spec);

/* container.c: runs in C; on failure reports to M on sync_fd and exits. Never returns. */
void container_main(struct spec *spec, int sync_fd) __attribute__((noreturn));

/* container.c: mounts the overlay root of s (rootfs, lowers, upper, work, overlay_mode, userxattr) as a
 * container's; on failure reports on report_fd (a socket, else stderr) and exits. */
void mount_overlay_root(struct spec *s, int report_fd);
/* attach.c */
int attach_listen(struct attach *a, const char *keep_lock, bool tty, bool input, char *err, size_t errlen);
int attach_pollfds(struct attach *a, struct pollfd *fds); /* at most 1 + ATTACH_MAX */
void attach_handle(struct attach *a, const struct pollfd *fds, int input_fd, int tty_master);
void attach_send(struct attach *a, int stream, const char *buf, size_t len);
void attach_close(struct attach *a, int code); /* sends the exit code first */
int attach_client_main(int argc, char **argv);

/* hold.c: berth-helper --hold-root and --userns-join (for berth cp) */
int hold_root_main(int argc, char **argv);
int userns_join_main(int argc, char **argv);

/* process.c: sends a pty's master to the monitor (MSG_TTY with the fd) and closes it once the monitor has it. */
void hand_over_pty(int sync_fd, int master);
/* exec.c: runs in the child of M for berth exec; never returns. */
void exec_main(struct spec *spec, int sync_fd) __attribute__((noreturn));

/* process.c */
void process_exec(struct spec *spec, int sync_fd, int tty_slave) __attribute__((noreturn));
void process_init(struct spec *spec, int sync_fd, int tty_slave) __attribute__((noreturn));

/* util (container.c): report "E<code> <message>" to M and exit with code. */
void fail(int sync_fd, int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
/* As fail, with ": strerror(errno)" appended. */
void fail_errno(int sync_fd, int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));

/* Messages on the M <-> C socket (SOCK_SEQPACKET): 'E' + code + ' ' + text, or 'T' with a pty master fd. */
#define MSG_ERROR 'E'
#define MSG_TTY 'T'

#endif
