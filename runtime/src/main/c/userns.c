/*
 * User namespaces, for a container or a task of a berth that does not run as root: the namespace is made
 * alone with the first clone (as runc and crun make it), and its parent, still outside, writes the child's
 * uid and gid maps: with newuidmap and newgidmap (setuid programs that allow the user's /etc/subuid and
 * /etc/subgid ranges) when the spec names them, else directly, which the kernel allows for one line that
 * maps the user's own ids, after setgroups is denied. The child waits for the maps and becomes root of its
 * namespace before it does anything else.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_file(pid_t pid, const char *name, const char *text, char *err, size_t errlen) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        snprintf(err, errlen, "write %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Runs newuidmap or newgidmap for pid with the maps; 0 when it succeeded. */
static int run_tool(const char *tool, pid_t pid, const struct idmap *maps, size_t n, char *err, size_t errlen) {
    char **argv = calloc(2 + 3 * n + 1, sizeof *argv);
    char (*nums)[24] = calloc(1 + 3 * n, sizeof *nums);
    if (argv == NULL || nums == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    argv[0] = (char *)tool;
    snprintf(nums[0], sizeof nums[0], "%d", (int)pid);
    argv[1] = nums[0];
    for (size_t i = 0; i < n; i++) {
        snprintf(nums[1 + 3 * i], 24, "%lu", maps[i].inside);
        snprintf(nums[2 + 3 * i], 24, "%lu", maps[i].outside);
        snprintf(nums[3 + 3 * i], 24, "%lu", maps[i].count);
        argv[2 + 3 * i] = nums[1 + 3 * i];
        argv[3 + 3 * i] = nums[2 + 3 * i];
        argv[4 + 3 * i] = nums[3 + 3 * i];
    }
    pid_t child = fork();
    if (child < 0) {
        snprintf(err, errlen, "fork %s: %s", tool, strerror(errno));
        return -1;
    }
    if (child == 0) {
        execv(tool, argv);
        _exit(127);
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    free(argv);
    free(nums);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "%s failed (exit status %d): are the ranges in /etc/subuid and /etc/subgid the "
                 "user's?", tool, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return -1;
    }
    return 0;
}

static void lines(const struct idmap *maps, size_t n, char *out, size_t cap) {
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%lu %lu %lu\n", maps[i].inside, maps[i].outside, maps[i].count);
}

int userns_write_maps(const struct idmaps *m, pid_t pid, char *err, size_t errlen) {
    if (m->newuidmap != NULL && m->newuidmap[0] != '\0') {
        if (run_tool(m->newuidmap, pid, m->uid, m->nuid, err, errlen) < 0) return -1;
        return run_tool(m->newgidmap, pid, m->gid, m->ngid, err, errlen);
    }
    char text[1024];
    if (write_file(pid, "setgroups", "deny", err, errlen) < 0) return -1;
    lines(m->gid, m->ngid, text, sizeof text);
    if (write_file(pid, "gid_map", text, err, errlen) < 0) return -1;
    lines(m->uid, m->nuid, text, sizeof text);
    return write_file(pid, "uid_map", text, err, errlen);
}

int userns_become_root(const struct idmaps *m) {
    if (!m->no_setgroups && setgroups(0, NULL) < 0) return -1;
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) return -1;
    /* a change of credentials clears the parent-death signal */
    return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

/*
 * --userns-exec: runs a command as root of a new user namespace with the given maps, for the JVM's work
 * on files owned by the user's sub-ids (extracting layers, writing a layer from a container's changes,
 * deleting them). Exits with the command's status, 128+N for signal N.
 */
int userns_exec(const struct idmaps *m, char **argv) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        fprintf(stderr, "berth-helper: socketpair: %s\n", strerror(errno));
        return EXIT_BERTH;
    }
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) {
        fprintf(stderr, "berth-helper: clone a user namespace: %s\n", strerror(errno));
        return EXIT_BERTH;
    }
    if (pid == 0) {
        close(sv[0]);
        char go;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || read(sv[1], &go, 1) != 1) _exit(EXIT_BERTH);
        if (userns_become_root(m) < 0) {
            fprintf(stderr, "berth-helper: become root of the user namespace: %s\n", strerror(errno));
            _exit(EXIT_BERTH);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "berth-helper: exec %s: %s\n", argv[0], strerror(errno));
        _exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
    }
    close(sv[1]);
    char err[512];
    if (userns_write_maps(m, pid, err, sizeof err) < 0) {
        fprintf(stderr, "berth-helper: %s\n", err);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return EXIT_BERTH;
    }
    if (write(sv[0], "G", 1) != 1) {
        kill(pid, SIGKILL);
    }
    close(sv[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return EXIT_BERTH;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
