/*
 * Entry point of berth-helper. Usage (by berth only): berth-helper --parent JVM-PID --control SOCKET
 * [--detached]: the helper connects to the JVM's Unix socket at SOCKET and uses the connection as fd 3 (the
 * spec comes in on it, reports go out). Without --control, fd 3 must already be that connection. With
 * --detached (berth run -d) it starts a session of its own, away from berth's terminal.
 * See helper.h for the process model and the protocol. Other modes: --userns-exec (userns.c),
 * --hold-root and --userns-join (hold.c, for berth cp), --attach (attach.c),
 * --pause.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef BERTH_HELPER_VERSION
#define BERTH_HELPER_VERSION "dev"
#endif

/* Closes every fd above 3: the JVM may leak descriptors without O_CLOEXEC into its children. */
static void close_inherited(void) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, CONTROL_FD + 1, ~0U, 0) == 0) return;
#endif
    for (int fd = CONTROL_FD + 1; fd < 65536; fd++) close(fd);
}

/* Connects to the JVM's control socket and makes the connection fd 3. */
static int connect_control(const char *path) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "berth-helper: control socket path too long: %s\n", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "berth-helper: cannot connect to %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fd != CONTROL_FD) {
        if (dup2(fd, CONTROL_FD) < 0) {
            fprintf(stderr, "berth-helper: dup2: %s\n", strerror(errno));
            return -1;
        }
        close(fd);
    }
    return 0;
}

/*
 * What the JVM's process launcher does not: a process group of our own (so that the terminal's ^C reaches
 * berth, which forwards it, and not the helper twice), default signal dispositions and an empty mask.
 */
static void reset_process(bool detached) {
    if (!detached || setsid() < 0) setpgid(0, 0); /* detached: a session of its own, no terminal */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
}

static void report_error(const char *msg) {
    char line[2048];
    int n = snprintf(line, sizeof line, "error %d %s\n", EXIT_BERTH, msg);
    if (n < 0 || send(CONTROL_FD, line, strlen(line), MSG_NOSIGNAL) < 0)
        fprintf(stderr, "berth-helper: %s\n", msg);
}

/*
 * --userns-exec [--uidmap IN OUT N]... [--gidmap IN OUT N]... [--idmaptools NEWUIDMAP NEWGIDMAP] -- CMD...
 * (see userns.c). Dies with the process that started it.
 */
static int userns_main(int argc, char **argv) {
    struct idmaps m = {0};
    m.uid = calloc((size_t)argc, sizeof *m.uid);
    m.gid = calloc((size_t)argc, sizeof *m.gid);
    if (m.uid == NULL || m.gid == NULL) return EXIT_BERTH;
    int i = 2;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if ((!strcmp(argv[i], "--uidmap") || !strcmp(argv[i], "--gidmap")) && i + 3 < argc) {
            struct idmap *e = argv[i][2] == 'u' ? &m.uid[m.nuid++] : &m.gid[m.ngid++];
            e->inside = strtoul(argv[i + 1], NULL, 10);
            e->outside = strtoul(argv[i + 2], NULL, 10);
            e->count = strtoul(argv[i + 3], NULL, 10);
            i += 3;
        } else if (!strcmp(argv[i], "--idmaptools") && i + 2 < argc) {
            m.newuidmap = argv[i + 1];
            m.newgidmap = argv[i + 2];
            i += 2;
        } else {
            fprintf(stderr, "berth-helper: --userns-exec: unexpected %s\n", argv[i]);
            return EXIT_BERTH;
        }
    }
    if (i + 1 >= argc || m.nuid == 0 || m.ngid == 0) {
        fprintf(stderr, "berth-helper: --userns-exec needs maps and a command after --\n");
        return EXIT_BERTH;
    }
    m.no_setgroups = m.newuidmap == NULL;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) return EXIT_BERTH;
    return userns_exec(&m, argv + i + 1);
}

static void pause_ended(int sig) {
    (void)sig;
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        puts(BERTH_HELPER_VERSION);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--pause") == 0) { /* waits for SIGTERM or SIGINT (also as a PID 1) */
        signal(SIGTERM, pause_ended);
        signal(SIGINT, pause_ended);
        for (;;) pause();
    }
    if (argc > 1 && strcmp(argv[1], "--userns-exec") == 0) return userns_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "--userns-join") == 0) return userns_join_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "--hold-root") == 0) return hold_root_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "--attach") == 0) return attach_client_main(argc, argv);
    bool detached = argc > 3 && strcmp(argv[argc - 1], "--detached") == 0;
    if (detached) argc--;
    if ((argc != 3 && argc != 5) || strcmp(argv[1], "--parent") != 0
        || (argc == 5 && strcmp(argv[3], "--control") != 0)) {
        fprintf(stderr, "berth-helper: this program is started by berth "
                        "(usage: berth-helper --parent PID [--control SOCKET] [--detached])\n");
        return EXIT_BERTH;
    }
    reset_process(detached);
    if (argc == 5 && connect_control(argv[4]) < 0) return EXIT_BERTH;
    if (fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC) < 0) {
        fprintf(stderr, "berth-helper: no spec on fd %d: %s\n", CONTROL_FD, strerror(errno));
        return EXIT_BERTH;
    }
    close_inherited();
    char *end;
    long parent = strtol(argv[2], &end, 10);
    if (*end != '\0' || parent != (long)getppid()) return EXIT_BERTH;
    if (detached) {
        /* berth run -d: the JVM's child exits at once and the monitor, its child, goes on, reporting its pid
         * (a JVM whose child lives on waits 0.3 s at its exit for the thread that would reap it). No parent-
         * death signal: the JVM's end shows as EOF on fd 3, and the monitor then kills the container unless
         * berth has detached it (see monitor.c). */
        pid_t m = fork();
        if (m < 0) {
            report_error("fork the monitor");
            return EXIT_BERTH;
        }
        if (m > 0) _exit(0);
        char line[64];
        int n = snprintf(line, sizeof line, "monitor %d\n", (int)getpid());
        if (send(CONTROL_FD, line, (size_t)n, MSG_NOSIGNAL) < 0) return EXIT_BERTH;
    } else if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != (pid_t)parent) {
        /* die with the JVM thread that spawned us; if it is already gone, stop here */
        report_error("prctl(PR_SET_PDEATHSIG) failed, or berth is gone");
        return EXIT_BERTH;
    }

    struct spec spec;
    char err[512];
    if (spec_read(CONTROL_FD, &spec, err, sizeof err) < 0) {
        report_error(err);
        return EXIT_BERTH;
    }
    return monitor_run(&spec);
}
