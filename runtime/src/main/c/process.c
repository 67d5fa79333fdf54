/*
 * The container's process, after the root is in place: terminal, seccomp filter, user, capabilities,
 * no_new_privs and exec (process_exec); or, with --init, a minimal init that forks the command, forwards signals to it,
 * reaps every zombie and exits with the command's status (process_init).
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* The signals the monitor and the init forward to the command. */
static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static int last_cap(void) {
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    char buf[16] = "";
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    int v = n > 0 ? atoi(buf) : 0;
    return v > 0 && v < 64 ? v : 40; /* 40 = CAP_CHECKPOINT_RESTORE, the last one Linux 5.9 knows */
}

void hand_over_pty(int sync_fd, int master) {
    char tag = MSG_TTY;
    struct iovec iov = {.iov_base = &tag, .iov_len = 1};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &master, sizeof(int));
    if (sendmsg(sync_fd, &msg, MSG_NOSIGNAL) < 0) fail_errno(sync_fd, EXIT_BERTH, "send the pty to the monitor");
    close(master);
    char ack;
    if (recv(sync_fd, &ack, 1, 0) != 1) fail(sync_fd, EXIT_BERTH, "the monitor did not take the pty");
}

/* Terminal as controlling tty and stdio, in a new session of its own. */
static void attach_tty(int sync_fd, int tty_slave) {
    if (tty_slave < 0) return;
    if (setsid() < 0 && errno != EPERM) fail_errno(sync_fd, EXIT_BERTH, "setsid");
    if (ioctl(tty_slave, TIOCSCTTY, 0) < 0) fail_errno(sync_fd, EXIT_BERTH, "make the pty the controlling terminal");
    for (int fd = 0; fd <= 2; fd++)
        if (dup2(tty_slave, fd) < 0) fail_errno(sync_fd, EXIT_BERTH, "dup2 the pty");
    if (tty_slave > 2) close(tty_slave);
}

/* User, groups and capabilities, in the order that keeps the capabilities the spec asks for. */
static void drop_privileges(struct spec *s, int sync_fd) {
    int last = last_cap();
    for (int c = 0; c <= last; c++)
        if (!(s->caps & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            fail_errno(sync_fd, EXIT_BERTH, "drop capability %d from the bounding set", c);
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail_errno(sync_fd, EXIT_BERTH, "prctl(PR_SET_KEEPCAPS)");
    /* The filter before the user changes, while CAP_SYS_ADMIN is still ours (no no_new_privs needed): the
     * calls after it (setgroups, setres*id, capset, prctl, execve) are ones every profile lets through. */
    if (s->seccomp) {
        char err[256];
        if (seccomp_install(s, err, sizeof err) < 0) fail(sync_fd, EXIT_BERTH, "%s", err);
    }
    if (s->maps.no_setgroups) { /* the namespace has one gid and may not call setgroups: only it can be asked */
        for (size_t i = 0; i < s->ngroups; i++)
            if (s->groups[i] != s->gid)
                fail(sync_fd, EXIT_BERTH, "supplementary group %u needs a user namespace with more ids than yours: "
                     "add a range for your user to /etc/subuid and /etc/subgid", (unsigned)s->groups[i]);
    } else if (setgroups(s->ngroups, s->groups) < 0) {
        fail_errno(sync_fd, EXIT_BERTH, "setgroups");
    }
    if (setresgid(s->gid, s->gid, s->gid) < 0) fail_errno(sync_fd, EXIT_BERTH, "setgid %u", (unsigned)s->gid);
    if (setresuid(s->uid, s->uid, s->uid) < 0) fail_errno(sync_fd, EXIT_BERTH, "setuid %u", (unsigned)s->uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail_errno(sync_fd, EXIT_BERTH, "prctl(PR_SET_KEEPCAPS)");
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data); /* inheritable stays empty (CVE-2022-24769) */
    data[0].effective = data[0].permitted = (uint32_t)s->caps;
    data[1].effective = data[1].permitted = (uint32_t)(s->caps >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0) fail_errno(sync_fd, EXIT_BERTH, "capset");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        fail_errno(sync_fd, EXIT_BERTH, "clear the ambient capabilities");
    if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail_errno(sync_fd, EXIT_BERTH, "prctl(PR_SET_NO_NEW_PRIVS)");
    /* A change of credentials clears the parent-death signal: set it again. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail_errno(sync_fd, EXIT_BERTH, "prctl(PR_SET_PDEATHSIG)");
}

static void reset_signals(void) {
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL); /* EINVAL for KILL, STOP, glibc's own: fine */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void exec_failed(int sync_fd, const char *path, int err) {
    if (err == ENOENT) {
        if (access(path, F_OK) == 0)
            fail(sync_fd, EXIT_NOTFOUND, "exec %s: no such file or directory: the file exists, so the program "
                 "that must load it is missing from the image (the ELF interpreter of a dynamically linked "
                 "binary, or the #! interpreter of a script)", path);
        fail(sync_fd, EXIT_NOTFOUND, "exec %s: no such file or directory", path);
    }
    if (err == EACCES || err == EPERM)
        fail(sync_fd, EXIT_NOEXEC, "exec %s: permission denied (uid %u)", path, (unsigned)getuid());
    if (err == ENOEXEC) fail(sync_fd, EXIT_NOEXEC, "exec %s: exec format error", path);
    errno = err;
    fail_errno(sync_fd, err == ENOTDIR || err == ELOOP ? EXIT_NOTFOUND : EXIT_NOEXEC, "exec %s", path);
}

/* execvpe with the container's PATH (glibc's would use the helper's own environment). */
static void exec_command(struct spec *s, int sync_fd) {
    const char *file = s->args[0];
    reset_signals();
    if (file[0] == '\0') fail(sync_fd, EXIT_NOTFOUND, "exec: empty command");
    if (strchr(file, '/') != NULL) {
        execve(file, s->args, s->env);
        exec_failed(sync_fd, file, errno);
    }
    char denied[PATH_MAX] = "";
    const char *p = s->path;
    for (;;) {
        const char *end = strchrnul(p, ':');
        char path[PATH_MAX];
        int n = end == p ? snprintf(path, sizeof path, "%s", file)
                         : snprintf(path, sizeof path, "%.*s/%s", (int)(end - p), p, file);
        if (n > 0 && (size_t)n < sizeof path) {
            execve(path, s->args, s->env);
            if (errno == EACCES) {
                if (denied[0] == '\0') strcpy(denied, path);
            } else if (errno != ENOENT && errno != ENOTDIR) {
                exec_failed(sync_fd, path, errno);
            }
        }
        if (*end == '\0') break;
        p = end + 1;
    }
    if (denied[0] != '\0') exec_failed(sync_fd, denied, EACCES);
    fail(sync_fd, EXIT_NOTFOUND, "exec: \"%s\": executable file not found in $PATH", file);
}

void process_exec(struct spec *s, int sync_fd, int tty_slave) {
    attach_tty(sync_fd, tty_slave);
    drop_privileges(s, sync_fd);
    exec_command(s, sync_fd);
    _exit(EXIT_BERTH);
}

void process_init(struct spec *s, int sync_fd, int tty_slave) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof FORWARDED / sizeof FORWARDED[0]; i++) sigaddset(&set, FORWARDED[i]);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) fail_errno(sync_fd, EXIT_BERTH, "sigprocmask");
    drop_privileges(s, sync_fd);
    /* Not dumpable: processes of the container cannot open /proc/1/exe, the helper on the host. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail_errno(sync_fd, EXIT_BERTH, "prctl(PR_SET_DUMPABLE)");
    pid_t child = fork();
    if (child < 0) fail_errno(sync_fd, EXIT_BERTH, "fork the command");
    if (child == 0) {
        attach_tty(sync_fd, tty_slave);
        exec_command(s, sync_fd);
    }
    /* The command holds the socket now; its exec closes it, which tells M the command started. */
    close(sync_fd);
    if (tty_slave >= 0) close(tty_slave);
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&set, &info);
        if (sig < 0) continue; /* EINTR */
        if (sig != SIGCHLD) {
            kill(child, sig);
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid != child) continue; /* an orphan: reaped, nothing else to do */
            if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
            if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
        }
    }
}
