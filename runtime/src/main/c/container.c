/*
 * The container side (process C, PID 1 of the new pid namespace): cgroups, the remaining namespaces, the
 * overlay root, mounts, devices, masked and read-only paths, pivot_root. Then process.c takes over.
 *
 * Every path inside the container is resolved with openat2(RESOLVE_IN_ROOT) against the root, so a
 * symlink in the image can never lead a mount out of the rootfs; mounts are made on the resulting fd
 * through /proc/self/fd/N (the host's /proc until pivot_root).
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

static void vreport(int sync_fd, int code, const char *fmt, va_list ap, int err) {
    char msg[2048];
    int n = snprintf(msg, sizeof msg, "%c%d ", MSG_ERROR, code);
    if (n < 0) n = 0;
    int m = vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    if (m < 0) m = 0;
    size_t len = strnlen(msg, sizeof msg);
    if (err != 0) {
        snprintf(msg + len, sizeof msg - len, ": %s", strerror(err));
        len = strnlen(msg, sizeof msg);
    }
    if (send(sync_fd, msg, len, MSG_NOSIGNAL) < 0) fprintf(stderr, "berth-helper: %s\n", msg + n);
}

void fail(int sync_fd, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(sync_fd, code, fmt, ap, 0);
    va_end(ap);
    _exit(code);
}

void fail_errno(int sync_fd, int code, const char *fmt, ...) {
    int err = errno;
    va_list ap;
    va_start(ap, fmt);
    vreport(sync_fd, code, fmt, ap, err);
    va_end(ap);
    _exit(code);
}

static int sync_fd = -1; /* the socket to M, for fail() in the helpers below */

static int openat2_in_root(int rootfd, const char *path, int flags) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

static const char *fdpath(int fd, char buf[static 32]) {
    snprintf(buf, 32, "/proc/self/fd/%d", fd);
    return buf;
}

static const char *root_path; /* the rootfs on the host, to turn fds back into container paths */

/* Lexically normalises an absolute path in place: no "." or empty components, ".." stops at "/". */
static void normalize(char *path) {
    char out[PATH_MAX];
    size_t len = 0;
    char *save = NULL;
    out[0] = '\0';
    for (char *c = strtok_r(path, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, ".")) continue;
        if (!strcmp(c, "..")) {
            while (len > 0 && out[len - 1] != '/') len--;
            if (len > 0) len--;
            out[len] = '\0';
            continue;
        }
        size_t clen = strlen(c);
        if (len + 1 + clen >= sizeof out) break;
        out[len++] = '/';
        memcpy(out + len, c, clen);
        len += clen;
        out[len] = '\0';
    }
    strcpy(path, len == 0 ? "/" : out);
}

/* The container path of an fd inside the root ("/" for the root itself). */
static void container_path(int fd, char out[static PATH_MAX]) {
    char link[32], host[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, host, sizeof host - 1);
    if (n < 0) fail_errno(sync_fd, EXIT_BERTH, "readlink %s", link);
    host[n] = '\0';
    size_t rlen = strlen(root_path);
    if (strncmp(host, root_path, rlen) != 0 || (host[rlen] != '\0' && host[rlen] != '/'))
        fail(sync_fd, EXIT_BERTH, "%s is outside the container's root", host);
    snprintf(out, PATH_MAX, "%s", host[rlen] == '\0' ? "/" : host + rlen);
}

/*
 * Returns an O_PATH fd of `path` inside the root, creating what is missing: directories, and the last
 * component as a directory or (file=true) an empty file. Symlinks are followed inside the root only; a
 * dangling one is followed to where it points (inside the root) and that is created, as runc does.
 */
static int ensure_in_root_depth(int rootfd, const char *path, bool file, int depth) {
    int fd = openat2_in_root(rootfd, path, O_PATH);
    if (fd >= 0) return fd;
    if (errno != ENOENT) fail_errno(sync_fd, EXIT_BERTH, "resolve %s in the container", path);
    if (depth > 40) fail(sync_fd, EXIT_BERTH, "resolve %s in the container: too many symlinks", path);
    char prefix[PATH_MAX];
    if (strlen(path) >= sizeof prefix) fail(sync_fd, EXIT_BERTH, "path too long: %.80s...", path);
    int parent = openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
    if (parent < 0) fail_errno(sync_fd, EXIT_BERTH, "open the container root");
    size_t plen = 0;
    const char *p = path;
    while (*p != '\0') {
        while (*p == '/') p++;
        if (*p == '\0') break;
        const char *end = strchrnul(p, '/');
        size_t clen = (size_t)(end - p);
        char comp[NAME_MAX + 1];
        if (clen > NAME_MAX) fail(sync_fd, EXIT_BERTH, "path component too long in %s", path);
        memcpy(comp, p, clen);
        comp[clen] = '\0';
        if (!strcmp(comp, ".") || !strcmp(comp, ".."))
            fail(sync_fd, EXIT_BERTH, "path %s is not normalised", path);
        prefix[plen++] = '/';
        memcpy(prefix + plen, comp, clen);
        plen += clen;
        prefix[plen] = '\0';
        bool last = *end == '\0' || end[strspn(end, "/")] == '\0';
        fd = openat2_in_root(rootfd, prefix, O_PATH);
        if (fd < 0 && errno == ENOENT) {
            int r;
            if (last && file) {
                r = openat(parent, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (r >= 0) close(r);
            } else {
                r = mkdirat(parent, comp, 0755);
            }
            if (r < 0 && errno == EEXIST) {
                /* it exists but does not resolve: a dangling symlink; create what it points to */
                char target[PATH_MAX], base[PATH_MAX], next[3 * PATH_MAX];
                ssize_t n = readlinkat(parent, comp, target, sizeof target - 1);
                if (n < 0) fail_errno(sync_fd, EXIT_BERTH, "resolve %s in the container", prefix);
                target[n] = '\0';
                container_path(parent, base);
                snprintf(next, sizeof next, "%s/%s/%s", target[0] == '/' ? "" : base, target, end);
                if (strlen(next) >= PATH_MAX) fail(sync_fd, EXIT_BERTH, "path too long: %.80s...", next);
                normalize(next);
                close(parent);
                return ensure_in_root_depth(rootfd, next, file, depth + 1);
            }
            if (r < 0) fail_errno(sync_fd, EXIT_BERTH, "create %s in the container", prefix);
            fd = openat2_in_root(rootfd, prefix, O_PATH);
        }
        if (fd < 0) fail_errno(sync_fd, EXIT_BERTH, "resolve %s in the container", prefix);
        close(parent);
        parent = fd;
        p = end;
    }
    return parent;
}

static int ensure_in_root(int rootfd, const char *path, bool file) {
    return ensure_in_root_depth(rootfd, path, file, 0);
}

/* The flags a bind remount must keep: the kernel refuses to clear them on a locked mount (EPERM). */
static unsigned long locked_flags(int fd) {
    struct statvfs st;
    if (fstatvfs(fd, &st) < 0) return 0;
    unsigned long f = 0;
    if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (st.f_flag & ST_NODEV) f |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
    return f;
}

/* Remounts the mount now at `path` in the root (re-resolved, to get the new top mount) with `flags`. */
static void remount_in_root(int rootfd, const char *path, unsigned long flags) {
    char buf[32];
    int fd = openat2_in_root(rootfd, path, O_PATH);
    if (fd < 0) fail_errno(sync_fd, EXIT_BERTH, "resolve %s in the container", path);
    unsigned long keep = locked_flags(fd) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (mount(NULL, fdpath(fd, buf), NULL, MS_REMOUNT | MS_BIND | flags | keep, NULL) < 0)
        fail_errno(sync_fd, EXIT_BERTH, "remount %s in the container", path);
    close(fd);
}

/*
 * CLEAN DIFF: every overlay root is mounted with redirect_dir, metacopy and index off, whatever the
 * kernel's defaults, so that its upper directory is a complete diff: a renamed directory is copied up whole
 * (rename gives EXDEV and tools copy), a changed file's data is in the upper directory, not only its
 * metadata. A build turns that directory into a layer and a snapshot as it is.
 */
static const char *const CLEAN_DIFF[][2] = {{"metacopy", "off"}, {"index", "off"}};
#define CLEAN_DIFF_DATA ",metacopy=off,index=off"
/* Redirects: not made, nor followed in a user namespace, where overlayfs accepts nothing else with userxattr
 * ("off" means "follow" when the module's redirect_always_follow is on, as it is by default). */
#define REDIRECT_DIR(s) ((s)->userxattr ? "nofollow" : "off")

/* An overlay file system context, or -1 with *unsupported set when the kernel has no fsopen. */
static int overlay_open(bool *unsupported) {
    *unsupported = false;
    int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
    if (fs < 0) {
        if (errno == ENOSYS) { *unsupported = true; return -1; }
        fail_errno(sync_fd, EXIT_BERTH, "fsopen(overlay)");
    }
    return fs;
}

static void overlay_set(int fs, const char *key, const char *value, const char *what) {
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value, 0) < 0)
        fail_errno(sync_fd, EXIT_BERTH, "overlay %s: %s %s", what, key, value);
}

/* Creates the configured overlay and moves it onto `target`: a path, or "" for the fd `at` itself. */
static void overlay_attach(int fs, int at, const char *target, const char *what) {
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        int err = errno;
        char log[512] = "";
        ssize_t n = read(fs, log, sizeof log - 1); /* the kernel's reason, e.g. "e overlayfs: ..." */
        log[n > 0 ? n : 0] = '\0';
        if (n > 0 && log[n - 1] == '\n') log[n - 1] = '\0';
        errno = err;
        fail_errno(sync_fd, EXIT_BERTH, "mount %s%s%s", what, n > 0 ? ": " : "", log);
    }
    int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
    if (mnt < 0) fail_errno(sync_fd, EXIT_BERTH, "fsmount(%s)", what);
    unsigned flags = MOVE_MOUNT_F_EMPTY_PATH | (target[0] == '\0' ? MOVE_MOUNT_T_EMPTY_PATH : 0);
    if (syscall(SYS_move_mount, mnt, "", at, target, flags) < 0)
        fail_errno(sync_fd, EXIT_BERTH, "move %s into place", what);
    close(mnt);
    close(fs);
}

static void mount_overlay_fsconfig(struct spec *s, bool *unsupported) {
    int fs = overlay_open(unsupported);
    if (fs < 0) return;
    for (size_t i = 0; i < s->nlowers; i++) {
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", s->lowers[i], 0) < 0) {
            if (i == 0 && errno == EINVAL) { /* a kernel before 6.8: no "lowerdir+" */
                close(fs);
                *unsupported = true;
                return;
            }
            fail_errno(sync_fd, EXIT_BERTH, "overlay: layer %s", s->lowers[i]);
        }
    }
    overlay_set(fs, "upperdir", s->upper, "root");
    overlay_set(fs, "workdir", s->work, "root");
    overlay_set(fs, "redirect_dir", REDIRECT_DIR(s), "root");
    for (size_t i = 0; i < sizeof CLEAN_DIFF / sizeof CLEAN_DIFF[0]; i++)
        overlay_set(fs, CLEAN_DIFF[i][0], CLEAN_DIFF[i][1], "root");
    if (s->userxattr && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
        fail_errno(sync_fd, EXIT_BERTH, "overlay root: userxattr (needs Linux 5.11)");
    /* See VOLATILE below; a kernel without it (before 5.10) refuses the flag, and that is no error. */
    (void)syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0);
    overlay_attach(fs, AT_FDCWD, s->rootfs, "the overlay root");
}

/*
 * An overlay that is not the root (a RUN --mount of image layers): `data` is mount(2)-style,
 * "lowerdir=A:B[,upperdir=U,workdir=W]", with ',' ':' and '\' inside paths escaped by '\'. Mounted through
 * fsconfig, one "lowerdir+" per layer (no one-page limit on the options); on kernels before 6.8 through
 * mount(2) with the data as it is, which overlayfs unescapes itself. `fd` is the O_PATH mount point.
 */
static void mount_overlay_data(const char *data, int fd, const char *what) {
    bool unsupported;
    int fs = overlay_open(&unsupported);
    if (fs >= 0) {
        char value[PATH_MAX];
        bool first_lower = true;
        const char *p = data;
        while (*p != '\0' && !unsupported) {
            /* one option: up to an unescaped ',' */
            char key[32];
            size_t klen = strcspn(p, "=,");
            if (klen >= sizeof key) fail(sync_fd, EXIT_BERTH, "mount %s: bad option in %s", what, data);
            memcpy(key, p, klen);
            key[klen] = '\0';
            p += klen;
            bool has_value = *p == '=';
            if (has_value) p++;
            bool lower = strcmp(key, "lowerdir") == 0;
            while (has_value) {
                size_t n = 0;
                for (; *p != '\0' && *p != ',' && !(lower && *p == ':'); p++) {
                    if (*p == '\\' && p[1] != '\0') p++;
                    if (n + 1 >= sizeof value) fail(sync_fd, EXIT_BERTH, "mount %s: path too long", what);
                    value[n++] = *p;
                }
                value[n] = '\0';
                if (lower) {
                    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", value, 0) < 0) {
                        if (first_lower && errno == EINVAL) { unsupported = true; break; }
                        fail_errno(sync_fd, EXIT_BERTH, "mount %s: layer %s", what, value);
                    }
                    first_lower = false;
                } else {
                    overlay_set(fs, key, value, what);
                }
                if (*p == ':') { p++; continue; }
                break;
            }
            if (!has_value && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, key, NULL, 0) < 0)
                fail_errno(sync_fd, EXIT_BERTH, "mount %s: option %s", what, key);
            if (*p == ',') p++;
        }
        if (!unsupported) {
            overlay_attach(fs, fd, "", what);
            return;
        }
        close(fs);
    }
    char buf[32];
    if (mount("overlay", fdpath(fd, buf), "overlay", 0, data) < 0) fail_errno(sync_fd, EXIT_BERTH, "mount %s", what);
}

/*
 * VOLATILE: the overlay is mounted with "volatile" (Linux 5.10+), which skips every sync of the upper
 * file system. Without it, unmounting the container's root (when its last process exits) syncs the whole
 * file system the upper directory is on: after a first run that extracted an image's layers, that writes
 * all of them out before berth can return, seconds for a large image. What volatile gives up, a consistent
 * upper directory after a crash, is nothing berth uses; a later mount of an ended container's upper
 * directory (berth start, berth cp) gets an emptied work directory, which the volatile marker is in.
 *
 * Before "lowerdir+", the whole option string must fit in one page. Absolute snapshot paths would allow
 * only about 45 layers, so the lower layers are opened and named by fd number relative to /proc/self/fd.
 */
static void mount_overlay_fdpaths(struct spec *s) {
    size_t cap = (size_t)sysconf(_SC_PAGESIZE);
    char *data = calloc(1, cap);
    if (data == NULL) fail(sync_fd, EXIT_BERTH, "out of memory");
    size_t len = (size_t)snprintf(data, cap, "lowerdir=");
    int *fds = calloc(s->nlowers, sizeof *fds);
    if (fds == NULL) fail(sync_fd, EXIT_BERTH, "out of memory");
    for (size_t i = 0; i < s->nlowers; i++) {
        fds[i] = open(s->lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fds[i] < 0) fail_errno(sync_fd, EXIT_BERTH, "open layer %s", s->lowers[i]);
        len += (size_t)snprintf(data + len, cap > len ? cap - len : 0, "%s%d", i ? ":" : "", fds[i]);
    }
    len += (size_t)snprintf(data + len, cap > len ? cap - len : 0,
                            ",upperdir=%s,workdir=%s,redirect_dir=%s" CLEAN_DIFF_DATA "%s", s->upper, s->work,
                            REDIRECT_DIR(s), s->userxattr ? ",userxattr" : "");
    if (len >= cap - 1)
        fail(sync_fd, EXIT_BERTH, "the image has too many layers (%zu) for this kernel's mount options", s->nlowers);
    int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cwd < 0 || chdir("/proc/self/fd") < 0) fail_errno(sync_fd, EXIT_BERTH, "chdir /proc/self/fd");
    if (len + sizeof ",volatile" < cap) {
        memcpy(data + len, ",volatile", sizeof ",volatile");
        if (mount("overlay", s->rootfs, "overlay", 0, data) == 0) goto mounted;
        data[len] = '\0'; /* a kernel before 5.10: without it */
    }
    if (mount("overlay", s->rootfs, "overlay", 0, data) < 0)
        fail_errno(sync_fd, EXIT_BERTH, "mount the overlay root on %s", s->rootfs);
mounted:
    if (fchdir(cwd) < 0) fail_errno(sync_fd, EXIT_BERTH, "fchdir");
    close(cwd);
    for (size_t i = 0; i < s->nlowers; i++) close(fds[i]);
    free(fds);
    free(data);
}

static void mount_root(struct spec *s) {
    bool unsupported = true;
    if (strcmp(s->overlay_mode, "fdpaths") != 0) {
        mount_overlay_fsconfig(s, &unsupported);
        if (unsupported && strcmp(s->overlay_mode, "fsconfig") == 0)
            fail(sync_fd, EXIT_BERTH, "this kernel has no overlay \"lowerdir+\" (needs Linux 6.8)");
    }
    if (unsupported) mount_overlay_fdpaths(s);
}

static void do_mounts(struct spec *s, int rootfd) {
    char buf[32];
    for (size_t i = 0; i < s->nmounts; i++) {
        struct mount_entry *m = &s->mounts[i];
        if (strcmp(m->type, "bind") == 0) {
            struct stat st;
            if (stat(m->source, &st) < 0) fail_errno(sync_fd, EXIT_BERTH, "bind mount source %s", m->source);
            int fd = ensure_in_root(rootfd, m->target, !S_ISDIR(st.st_mode));
            if (mount(m->source, fdpath(fd, buf), NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
                fail_errno(sync_fd, EXIT_BERTH, "bind mount %s on %s", m->source, m->target);
            close(fd);
            unsigned long extra = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
            if (extra != 0) remount_in_root(rootfd, m->target, extra);
        } else if (strcmp(m->type, "overlay") == 0) {
            int fd = ensure_in_root(rootfd, m->target, false);
            char what[PATH_MAX + 16];
            snprintf(what, sizeof what, "overlay on %s", m->target);
            mount_overlay_data(m->data, fd, what);
            close(fd);
        } else {
            int fd = ensure_in_root(rootfd, m->target, false);
            const char *data = m->data[0] != '\0' ? m->data : NULL;
            if (mount(m->source, fdpath(fd, buf), m->type, m->flags, data) < 0)
                fail_errno(sync_fd, EXIT_BERTH, "mount %s on %s", m->type, m->target);
            close(fd);
        }
    }
}

/* Splits an absolute path into an O_PATH fd of its (created) parent and its last component. */
static int parent_in_root(int rootfd, const char *path, char name[static NAME_MAX + 1]) {
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash[1] == '\0' || strlen(slash + 1) > NAME_MAX)
        fail(sync_fd, EXIT_BERTH, "invalid path %s", path);
    strcpy(name, slash + 1);
    char dir[PATH_MAX];
    size_t dlen = (size_t)(slash - path);
    if (dlen >= sizeof dir) fail(sync_fd, EXIT_BERTH, "path too long: %.80s...", path);
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    return ensure_in_root(rootfd, dlen == 0 ? "/" : dir, false);
}

static void make_devices(struct spec *s, int rootfd) {
    char name[NAME_MAX + 1];
    for (size_t i = 0; i < s->ndevices; i++) {
        struct device_entry *d = &s->devices[i];
        int dir = parent_in_root(rootfd, d->path, name);
        mode_t type = d->type == 'b' ? S_IFBLK : S_IFCHR;
        if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
            fail_errno(sync_fd, EXIT_BERTH, "replace %s", d->path);
        if (mknodat(dir, name, type | d->mode, makedev(d->major, d->minor)) < 0)
            fail_errno(sync_fd, EXIT_BERTH, "mknod %s", d->path);
        if (fchmodat(dir, name, d->mode, 0) < 0) fail_errno(sync_fd, EXIT_BERTH, "chmod %s", d->path);
        if (fchownat(dir, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
            fail_errno(sync_fd, EXIT_BERTH, "chown %s", d->path);
        close(dir);
    }
    for (size_t i = 0; i < s->nsymlinks; i++) {
        const char *target = s->symlinks[2 * i], *link = s->symlinks[2 * i + 1];
        int dir = parent_in_root(rootfd, link, name);
        if (unlinkat(dir, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
            fail_errno(sync_fd, EXIT_BERTH, "replace %s", link);
        if (symlinkat(target, dir, name) < 0) fail_errno(sync_fd, EXIT_BERTH, "symlink %s -> %s", link, target);
        close(dir);
    }
}

static void mask_paths(struct spec *s, int rootfd) {
    char buf[32];
    for (size_t i = 0; i < s->nmasked; i++) {
        int fd = openat2_in_root(rootfd, s->masked[i], O_PATH);
        if (fd < 0 && errno == ENOENT) continue;
        if (fd < 0) fail_errno(sync_fd, EXIT_BERTH, "resolve masked path %s", s->masked[i]);
        struct stat st;
        if (fstat(fd, &st) < 0) fail_errno(sync_fd, EXIT_BERTH, "stat %s", s->masked[i]);
        int r = S_ISDIR(st.st_mode)
                    ? mount("tmpfs", fdpath(fd, buf), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)
                    : mount("/dev/null", fdpath(fd, buf), NULL, MS_BIND, NULL);
        if (r < 0) fail_errno(sync_fd, EXIT_BERTH, "mask %s", s->masked[i]);
        close(fd);
    }
    for (size_t i = 0; i < s->nreadonly; i++) {
        int fd = openat2_in_root(rootfd, s->readonly[i], O_PATH);
        if (fd < 0 && errno == ENOENT) continue;
        if (fd < 0) fail_errno(sync_fd, EXIT_BERTH, "resolve read-only path %s", s->readonly[i]);
        if (mount(fdpath(fd, buf), fdpath(fd, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
            fail_errno(sync_fd, EXIT_BERTH, "bind %s", s->readonly[i]);
        close(fd);
        remount_in_root(rootfd, s->readonly[i], MS_RDONLY);
    }
}

/*
 * Opens a pty in the container's own devpts, makes its slave /dev/console, hands the master to M (which
 * relays it to the user's terminal) and waits until M has sized it. Returns the slave fd.
 */
static int setup_tty(int rootfd) {
    char buf[32], buf2[32];
    int master = openat2_in_root(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY);
    if (master < 0) fail_errno(sync_fd, EXIT_BERTH, "open /dev/pts/ptmx in the container");
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail_errno(sync_fd, EXIT_BERTH, "unlock the pty");
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) fail_errno(sync_fd, EXIT_BERTH, "open the pty's terminal");
    int console = ensure_in_root(rootfd, "/dev/console", true);
    if (mount(fdpath(slave, buf), fdpath(console, buf2), NULL, MS_BIND, NULL) < 0)
        fail_errno(sync_fd, EXIT_BERTH, "bind the pty on /dev/console");
    close(console);

    hand_over_pty(sync_fd, master);
    return slave;
}

static void bring_up_loopback(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail_errno(sync_fd, EXIT_BERTH, "socket for the loopback interface");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) fail_errno(sync_fd, EXIT_BERTH, "read the flags of lo");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) fail_errno(sync_fd, EXIT_BERTH, "bring up lo");
    close(fd);
}

static void pivot(struct spec *s) {
    if (!s->no_pivot) {
        int oldroot = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
        int newroot = open(s->rootfs, O_DIRECTORY | O_PATH | O_CLOEXEC);
        if (oldroot < 0 || newroot < 0) fail_errno(sync_fd, EXIT_BERTH, "open the roots for pivot_root");
        if (fchdir(newroot) < 0) fail_errno(sync_fd, EXIT_BERTH, "fchdir to the new root");
        if (syscall(SYS_pivot_root, ".", ".") == 0) {
            /* The old root is now stacked on the new one: detach it, without propagating to the host. */
            if (fchdir(oldroot) < 0) fail_errno(sync_fd, EXIT_BERTH, "fchdir to the old root");
            if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                fail_errno(sync_fd, EXIT_BERTH, "make the old root a slave");
            if (umount2(".", MNT_DETACH) < 0) fail_errno(sync_fd, EXIT_BERTH, "detach the old root");
            if (chdir("/") < 0) fail_errno(sync_fd, EXIT_BERTH, "chdir /");
            close(oldroot);
            close(newroot);
            return;
        }
        if (errno != EINVAL) fail_errno(sync_fd, EXIT_BERTH, "pivot_root");
        /* EINVAL: the host root cannot be pivoted (an initramfs); move the root instead. */
        close(oldroot);
        close(newroot);
    }
    if (chdir(s->rootfs) < 0) fail_errno(sync_fd, EXIT_BERTH, "chdir %s", s->rootfs);
    if (mount(s->rootfs, "/", NULL, MS_MOVE, NULL) < 0) fail_errno(sync_fd, EXIT_BERTH, "move the root to /");
    if (chroot(".") < 0) fail_errno(sync_fd, EXIT_BERTH, "chroot");
    if (chdir("/") < 0) fail_errno(sync_fd, EXIT_BERTH, "chdir /");
}

/* Replaces stdio fds that point at a /dev/null outside the container with the container's own. */
static void reopen_dev_null(void) {
    for (int fd = 0; fd <= 2; fd++) {
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) continue;
        int n = open("/dev/null", (fcntl(fd, F_GETFL) & O_ACCMODE) | O_CLOEXEC);
        if (n < 0) continue; /* keep the old one: it is still /dev/null */
        if (dup2(n, fd) < 0) fail_errno(sync_fd, EXIT_BERTH, "dup2 /dev/null");
        close(n);
    }
}

/* mkdir -p of the working directory, inside the (already pivoted) root. */
static void make_workdir(const char *cwd) {
    char path[PATH_MAX];
    if (strlen(cwd) >= sizeof path) fail(sync_fd, EXIT_BERTH, "working directory too long");
    strcpy(path, cwd);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0755) < 0 && errno != EEXIST)
                fail_errno(sync_fd, EXIT_BERTH, "create working directory %s", path);
            *p = c;
            if (c == '\0') break;
        }
    }
    if (chdir(cwd) < 0) fail_errno(sync_fd, EXIT_BERTH, "working directory %s", cwd);
}

void mount_overlay_root(struct spec *s, int report_fd) {
    sync_fd = report_fd;
    mount_root(s);
}

void container_main(struct spec *s, int fd) {
    sync_fd = fd;
    /* M's death kills us, which kills every process of the namespace. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail_errno(sync_fd, EXIT_BERTH, "prctl(PR_SET_PDEATHSIG)");
    if (s->userns) {
        char go;
        if (recv(sync_fd, &go, 1, 0) != 1 || go != 'G') _exit(EXIT_BERTH); /* M failed, and says why */
        if (userns_become_root(&s->maps) < 0) fail_errno(sync_fd, EXIT_BERTH, "become root of the user namespace");
    }
    /* Our own session: signals of the user's terminal reach the container only through M. */
    if (setsid() < 0) fail_errno(sync_fd, EXIT_BERTH, "setsid");
    umask(0);
    for (size_t i = 0; i < s->ncgroups; i++) {
        int c = open(s->cgroups[i], O_WRONLY | O_CLOEXEC);
        if (c < 0 || write(c, "0", 1) != 1) fail_errno(sync_fd, EXIT_BERTH, "join cgroup %s", s->cgroups[i]);
        close(c);
    }
    if (s->cgroup_ns && unshare(CLONE_NEWCGROUP) < 0) fail_errno(sync_fd, EXIT_BERTH, "unshare the cgroup namespace");
    for (size_t i = 0; i < s->nrlimits; i++) {
        struct rlimit r = {.rlim_cur = s->rlimits[i].soft, .rlim_max = s->rlimits[i].hard};
        if (setrlimit(s->rlimits[i].resource, &r) < 0) fail_errno(sync_fd, EXIT_BERTH, "setrlimit %d", s->rlimits[i].resource);
    }
    if (s->hostname != NULL && (s->clone_flags & CLONE_NEWUTS) && sethostname(s->hostname, strlen(s->hostname)) < 0)
        fail_errno(sync_fd, EXIT_BERTH, "sethostname %s", s->hostname);
    if (s->loopback) bring_up_loopback();

    /* Nothing we mount may propagate to the host (and pivot_root refuses shared mounts). */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail_errno(sync_fd, EXIT_BERTH, "make / private");
    mount_root(s);
    root_path = s->rootfs;
    int rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) fail_errno(sync_fd, EXIT_BERTH, "open %s", s->rootfs);
    do_mounts(s, rootfd);
    make_devices(s, rootfd);
    int slave = s->tty ? setup_tty(rootfd) : -1;
    mask_paths(s, rootfd);
    close(rootfd);
    pivot(s);
    make_workdir(s->cwd); /* before a read-only root, as docker creates it */
    if (s->readonly_root && mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
        fail_errno(sync_fd, EXIT_BERTH, "remount the root read-only");
    reopen_dev_null();
    umask(022);
    if (s->init) process_init(s, sync_fd, slave);
    process_exec(s, sync_fd, slave);
}
