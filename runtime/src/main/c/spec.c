/*
 * Reads the container spec the JVM writes on fd 3: "BERTH1\n", a 4-byte little-endian payload length,
 * then records. A record is a key and a fixed number of values, all NUL-terminated strings:
 *
 *   id ID | rootfs DIR | lower DIR (repeated, topmost first) | upper DIR | work DIR
 *   overlay auto|fsconfig|fdpaths | ns mount|pid|uts|ipc|net|cgroup | hostname NAME
 *   cgroup PROCS-FILE | mount TYPE SOURCE TARGET FLAGS DATA | device PATH c|b MAJOR MINOR MODE UID GID
 *   symlink TARGET LINK | masked PATH | readonly PATH
 *   flag no_pivot|readonly_root|init|tty|interactive|no_new_privs|loopback
 *   uid N | gid N | group N | cap N | rlimit RESOURCE SOFT HARD | cwd DIR | path PATH | env K=V | arg ARG
 *   uidmap INSIDE OUTSIDE COUNT | gidmap INSIDE OUTSIDE COUNT | idmaptools NEWUIDMAP NEWGIDMAP
 *   flag userns|userxattr|no_setgroups
 *   startedfile PATH (made by the monitor once the command runs: berth exec joins only then)
 *   flag detach | log PATH | logmax BYTES | logfiles N | exitfile PATH | keeplock PATH | exitcmd ARG
 *   publish tcp|udp HOST-IP HOST-PORT CONTAINER-PORT (HOST-IP "": every address; HOST-PORT 0: any)
 *   seccomp DEFAULT-RET | scrule SYSCALL RET | scarg INDEX eq|ne|lt|le|gt|ge|masked_eq VALUE VALUE2
 *     (a filter: RET values are SECCOMP_RET_* numbers; an scarg belongs to the scrule before it)
 *   join PID (berth exec: a process in the namespaces of PID; no root, mounts or namespaces of its own)
 *   end
 *
 * Numbers are decimal. Unknown keys, missing values and trailing bytes are errors: the JVM and the
 * helper ship together, so any mismatch is a bug to report, not to guess around.
 */
#include "helper.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SPEC (16u << 20)

struct key { const char *name; int arity; };

static const struct key KEYS[] = {
    {"id", 1}, {"rootfs", 1}, {"lower", 1}, {"upper", 1}, {"work", 1}, {"overlay", 1}, {"ns", 1},
    {"hostname", 1}, {"cgroup", 1}, {"mount", 5}, {"device", 7}, {"symlink", 2}, {"masked", 1},
    {"readonly", 1}, {"flag", 1}, {"uid", 1}, {"gid", 1}, {"group", 1}, {"cap", 1}, {"rlimit", 3},
    {"cwd", 1}, {"path", 1}, {"env", 1}, {"arg", 1}, {"uidmap", 3}, {"gidmap", 3}, {"idmaptools", 2},
    {"join", 1}, {"netjoin", 1}, {"log", 1}, {"logmax", 1}, {"logfiles", 1}, {"exitfile", 1}, {"keeplock", 1}, {"exitcmd", 1},
    {"publish", 4}, {"startedfile", 1}, {"seccomp", 1}, {"scrule", 2}, {"scarg", 4}, {"end", 0},
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static int read_full(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) { errno = EPIPE; return -1; }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static const struct key *find_key(const char *name) {
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].name, name) == 0) return &KEYS[i];
    return NULL;
}

/* Parses a decimal number that must fit in [0, max]. */
static bool parse_num(const char *s, unsigned long long max, unsigned long long *out) {
    if (*s == '\0' || *s == '-' || *s == '+') return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) return false;
    *out = v;
    return true;
}

/* Counts of the repeatable keys, from the first pass. */
struct counts { size_t lower, cgroup, mount, device, symlink, masked, readonly, group, rlimit, env, arg, uidmap, gidmap,
                 exitcmd, publish, scrule; };

static void count(struct counts *c, const char *key) {
    if (!strcmp(key, "lower")) c->lower++;
    else if (!strcmp(key, "cgroup")) c->cgroup++;
    else if (!strcmp(key, "mount")) c->mount++;
    else if (!strcmp(key, "device")) c->device++;
    else if (!strcmp(key, "symlink")) c->symlink++;
    else if (!strcmp(key, "masked")) c->masked++;
    else if (!strcmp(key, "readonly")) c->readonly++;
    else if (!strcmp(key, "group")) c->group++;
    else if (!strcmp(key, "rlimit")) c->rlimit++;
    else if (!strcmp(key, "env")) c->env++;
    else if (!strcmp(key, "arg")) c->arg++;
    else if (!strcmp(key, "uidmap")) c->uidmap++;
    else if (!strcmp(key, "gidmap")) c->gidmap++;
    else if (!strcmp(key, "exitcmd")) c->exitcmd++;
    else if (!strcmp(key, "publish")) c->publish++;
    else if (!strcmp(key, "scrule")) c->scrule++;
}

static void *alloc(size_t n, size_t size) {
    void *p = calloc(n + 1, size); /* +1: room for a NULL terminator, never calloc(0) */
    if (p == NULL) {
        fprintf(stderr, "berth-helper: out of memory\n");
        _exit(EXIT_BERTH);
    }
    return p;
}

/* Applies one record; v holds its values. Returns false with err set when a value is invalid. */
static bool apply(struct spec *s, const char *key, char **v, char *err, size_t errlen) {
    unsigned long long n, m, k;
    if (!strcmp(key, "id")) s->id = v[0];
    else if (!strcmp(key, "rootfs")) s->rootfs = v[0];
    else if (!strcmp(key, "lower")) s->lowers[s->nlowers++] = v[0];
    else if (!strcmp(key, "upper")) s->upper = v[0];
    else if (!strcmp(key, "work")) s->work = v[0];
    else if (!strcmp(key, "overlay")) {
        if (strcmp(v[0], "auto") && strcmp(v[0], "fsconfig") && strcmp(v[0], "fdpaths")) goto bad;
        s->overlay_mode = v[0];
    } else if (!strcmp(key, "ns")) {
        if (!strcmp(v[0], "mount")) s->clone_flags |= CLONE_NEWNS;
        else if (!strcmp(v[0], "pid")) s->clone_flags |= CLONE_NEWPID;
        else if (!strcmp(v[0], "uts")) s->clone_flags |= CLONE_NEWUTS;
        else if (!strcmp(v[0], "ipc")) s->clone_flags |= CLONE_NEWIPC;
        else if (!strcmp(v[0], "net")) s->clone_flags |= CLONE_NEWNET;
        else if (!strcmp(v[0], "cgroup")) s->cgroup_ns = true;
        else goto bad;
    } else if (!strcmp(key, "hostname")) s->hostname = v[0];
    else if (!strcmp(key, "cgroup")) s->cgroups[s->ncgroups++] = v[0];
    else if (!strcmp(key, "mount")) {
        struct mount_entry *e = &s->mounts[s->nmounts++];
        if (!parse_num(v[3], ~0UL, &n) || v[2][0] != '/') goto bad;
        e->type = v[0]; e->source = v[1]; e->target = v[2]; e->flags = (unsigned long)n; e->data = v[4];
    } else if (!strcmp(key, "device")) {
        struct device_entry *e = &s->devices[s->ndevices++];
        if (v[0][0] != '/' || (strcmp(v[1], "c") && strcmp(v[1], "b"))) goto bad;
        if (!parse_num(v[2], 0xfff, &n) || !parse_num(v[3], 0xfffff, &m) || !parse_num(v[4], 07777, &k))
            goto bad;
        e->path = v[0]; e->type = v[1][0]; e->major = (unsigned)n; e->minor = (unsigned)m; e->mode = (mode_t)k;
        if (!parse_num(v[5], 0xfffffffeU, &n) || !parse_num(v[6], 0xfffffffeU, &m)) goto bad;
        e->uid = (uid_t)n; e->gid = (gid_t)m;
    } else if (!strcmp(key, "symlink")) {
        s->symlinks[2 * s->nsymlinks] = v[0];
        s->symlinks[2 * s->nsymlinks + 1] = v[1];
        s->nsymlinks++;
    } else if (!strcmp(key, "masked")) s->masked[s->nmasked++] = v[0];
    else if (!strcmp(key, "readonly")) s->readonly[s->nreadonly++] = v[0];
    else if (!strcmp(key, "flag")) {
        if (!strcmp(v[0], "no_pivot")) s->no_pivot = true;
        else if (!strcmp(v[0], "readonly_root")) s->readonly_root = true;
        else if (!strcmp(v[0], "init")) s->init = true;
        else if (!strcmp(v[0], "tty")) s->tty = true;
        else if (!strcmp(v[0], "interactive")) s->interactive = true;
        else if (!strcmp(v[0], "no_new_privs")) s->no_new_privs = true;
        else if (!strcmp(v[0], "loopback")) s->loopback = true;
        else if (!strcmp(v[0], "userns")) s->userns = true;
        else if (!strcmp(v[0], "userxattr")) s->userxattr = true;
        else if (!strcmp(v[0], "no_setgroups")) s->maps.no_setgroups = true;
        else if (!strcmp(v[0], "detach")) s->detach = true;
        else goto bad;
    } else if (!strcmp(key, "uid")) {
        if (!parse_num(v[0], 0xfffffffeU, &n)) goto bad;
        s->uid = (uid_t)n;
    } else if (!strcmp(key, "gid")) {
        if (!parse_num(v[0], 0xfffffffeU, &n)) goto bad;
        s->gid = (gid_t)n;
    } else if (!strcmp(key, "group")) {
        if (!parse_num(v[0], 0xfffffffeU, &n)) goto bad;
        s->groups[s->ngroups++] = (gid_t)n;
    } else if (!strcmp(key, "cap")) {
        if (!parse_num(v[0], 63, &n)) goto bad;
        s->caps |= 1ULL << n;
    } else if (!strcmp(key, "rlimit")) {
        struct rlimit_entry *e = &s->rlimits[s->nrlimits++];
        if (!parse_num(v[0], RLIM_NLIMITS - 1, &n) || !parse_num(v[1], ~0ULL, &m) || !parse_num(v[2], ~0ULL, &k)
            || m > k)
            goto bad;
        e->resource = (int)n; e->soft = (rlim_t)m; e->hard = (rlim_t)k;
    } else if (!strcmp(key, "cwd")) {
        if (v[0][0] != '/') goto bad;
        s->cwd = v[0];
    } else if (!strcmp(key, "path")) s->path = v[0];
    else if (!strcmp(key, "env")) {
        if (strchr(v[0], '=') == NULL) goto bad;
        s->env[s->nenv++] = v[0];
    } else if (!strcmp(key, "arg")) s->args[s->nargs++] = v[0];
    else if (!strcmp(key, "uidmap") || !strcmp(key, "gidmap")) {
        bool uid = key[0] == 'u';
        struct idmap *e = uid ? &s->maps.uid[s->maps.nuid++] : &s->maps.gid[s->maps.ngid++];
        if (!parse_num(v[0], 0xfffffffeU, &n) || !parse_num(v[1], 0xfffffffeU, &m)
            || !parse_num(v[2], 0xffffffffU, &k) || k == 0)
            goto bad;
        e->inside = (unsigned long)n; e->outside = (unsigned long)m; e->count = (unsigned long)k;
    } else if (!strcmp(key, "idmaptools")) {
        if (v[0][0] != '/' || v[1][0] != '/') goto bad;
        s->maps.newuidmap = v[0];
        s->maps.newgidmap = v[1];
    } else if (!strcmp(key, "join")) {
        if (!parse_num(v[0], 0x3fffffff, &n) || n < 2) goto bad;
        s->join = (pid_t)n;
    } else if (!strcmp(key, "netjoin")) {
        if (!parse_num(v[0], 0x3fffffff, &n) || n < 2) goto bad;
        s->netjoin = (pid_t)n;
    } else if (!strcmp(key, "log")) {
        if (v[0][0] != '/') goto bad;
        s->log = v[0];
    } else if (!strcmp(key, "logmax")) {
        if (!parse_num(v[0], ~0ULL, &n)) goto bad;
        s->log_max = n;
    } else if (!strcmp(key, "logfiles")) {
        if (!parse_num(v[0], 100, &n) || n == 0) goto bad;
        s->log_files = (unsigned)n;
    } else if (!strcmp(key, "exitfile")) {
        if (v[0][0] != '/') goto bad;
        s->exit_file = v[0];
    } else if (!strcmp(key, "keeplock")) {
        if (v[0][0] != '/') goto bad;
        s->keep_lock = v[0];
    } else if (!strcmp(key, "exitcmd")) {
        if (s->nexit_cmd == 0 && v[0][0] != '/') goto bad;
        s->exit_cmd[s->nexit_cmd++] = v[0];
    } else if (!strcmp(key, "startedfile")) {
        if (v[0][0] != '/') goto bad;
        s->started_file = v[0];
    } else if (!strcmp(key, "seccomp")) {
        if (!parse_num(v[0], 0xffffffffU, &n)) goto bad;
        s->seccomp = true;
        s->seccomp_default = (uint32_t)n;
    } else if (!strcmp(key, "scrule")) {
        struct sc_rule *r = &s->scrules[s->nscrules++];
        if (v[0][0] == '\0' || !parse_num(v[1], 0xffffffffU, &n)) goto bad;
        r->name = v[0];
        r->ret = (uint32_t)n;
    } else if (!strcmp(key, "scarg")) {
        static const char *OPS[] = {"eq", "ne", "lt", "le", "gt", "ge", "masked_eq"};
        struct sc_rule *r = s->nscrules > 0 ? &s->scrules[s->nscrules - 1] : NULL;
        if (r == NULL || r->nargs >= SC_MAX_ARGS || !parse_num(v[0], SC_MAX_ARGS - 1, &n)
            || !parse_num(v[2], ~0ULL, &m) || !parse_num(v[3], ~0ULL, &k))
            goto bad;
        struct sc_arg *a = &r->args[r->nargs];
        size_t op = 0;
        while (op < sizeof OPS / sizeof OPS[0] && strcmp(OPS[op], v[1])) op++;
        if (op == sizeof OPS / sizeof OPS[0]) goto bad;
        a->index = (unsigned)n; a->op = (enum sc_op)op; a->value = m; a->value2 = k;
        r->nargs++;
    } else if (!strcmp(key, "publish")) {
        struct publish *pub = &s->publish[s->npublish++];
        unsigned long long m;
        if ((strcmp(v[0], "tcp") && strcmp(v[0], "udp")) || strlen(v[1]) >= sizeof pub->host_ip
            || !parse_num(v[2], 65535, &n) || !parse_num(v[3], 65535, &m) || m == 0)
            goto bad;
        pub->udp = !strcmp(v[0], "udp");
        snprintf(pub->host_ip, sizeof pub->host_ip, "%s", v[1]);
        pub->host_port = (unsigned)n;
        pub->container_port = (unsigned)m;
    }
    return true;
bad:
    snprintf(err, errlen, "invalid spec record \"%s\" (value \"%s\")", key, v[0] ? v[0] : "");
    return false;
}

/* Walks the payload; with fill false only checks structure and counts, with fill true applies records. */
static bool walk(char *buf, size_t len, struct spec *s, struct counts *c, bool fill, char *err, size_t errlen) {
    size_t pos = 0;
    bool ended = false;
    while (pos < len) {
        char *key = buf + pos;
        char *nul = memchr(key, '\0', len - pos);
        if (nul == NULL) { snprintf(err, errlen, "spec: unterminated key"); return false; }
        pos = (size_t)(nul - buf) + 1;
        const struct key *k = find_key(key);
        if (k == NULL) { snprintf(err, errlen, "spec: unknown key \"%.40s\"", key); return false; }
        char *values[7] = {0};
        for (int i = 0; i < k->arity; i++) {
            if (pos >= len) { snprintf(err, errlen, "spec: \"%s\" lacks values", key); return false; }
            values[i] = buf + pos;
            nul = memchr(values[i], '\0', len - pos);
            if (nul == NULL) { snprintf(err, errlen, "spec: unterminated value of \"%s\"", key); return false; }
            pos = (size_t)(nul - buf) + 1;
        }
        if (!strcmp(key, "end")) { ended = true; break; }
        if (fill) {
            if (!apply(s, key, values, err, errlen)) return false;
        } else {
            count(c, key);
        }
    }
    if (!ended || pos != len) {
        snprintf(err, errlen, "spec: %s", ended ? "bytes after \"end\"" : "missing \"end\"");
        return false;
    }
    return true;
}

int spec_read(int fd, struct spec *s, char *err, size_t errlen) {
    char magic[7];
    unsigned char lenbuf[4];
    if (read_full(fd, magic, sizeof magic) < 0 || memcmp(magic, "BERTH1\n", sizeof magic) != 0) {
        snprintf(err, errlen, "spec: no spec on fd %d (this program is started by berth)", fd);
        return -1;
    }
    if (read_full(fd, lenbuf, sizeof lenbuf) < 0) {
        snprintf(err, errlen, "spec: truncated header: %s", strerror(errno));
        return -1;
    }
    uint32_t len = (uint32_t)lenbuf[0] | (uint32_t)lenbuf[1] << 8 | (uint32_t)lenbuf[2] << 16
                   | (uint32_t)lenbuf[3] << 24;
    if (len == 0 || len > MAX_SPEC) {
        snprintf(err, errlen, "spec: invalid length %u", len);
        return -1;
    }
    char *buf = alloc(len, 1);
    if (read_full(fd, buf, len) < 0) {
        snprintf(err, errlen, "spec: truncated payload: %s", strerror(errno));
        return -1;
    }
    struct counts c = {0};
    if (!walk(buf, len, s, &c, false, err, errlen)) return -1;
    memset(s, 0, sizeof *s);
    s->overlay_mode = "auto";
    s->cwd = "/";
    s->path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    s->lowers = alloc(c.lower, sizeof *s->lowers);
    s->cgroups = alloc(c.cgroup, sizeof *s->cgroups);
    s->mounts = alloc(c.mount, sizeof *s->mounts);
    s->devices = alloc(c.device, sizeof *s->devices);
    s->symlinks = alloc(2 * c.symlink, sizeof *s->symlinks);
    s->masked = alloc(c.masked, sizeof *s->masked);
    s->readonly = alloc(c.readonly, sizeof *s->readonly);
    s->groups = alloc(c.group, sizeof *s->groups);
    s->rlimits = alloc(c.rlimit, sizeof *s->rlimits);
    s->env = alloc(c.env, sizeof *s->env);
    s->args = alloc(c.arg, sizeof *s->args);
    s->maps.uid = alloc(c.uidmap, sizeof *s->maps.uid);
    s->maps.gid = alloc(c.gidmap, sizeof *s->maps.gid);
    s->exit_cmd = alloc(c.exitcmd, sizeof *s->exit_cmd);
    s->publish = alloc(c.publish, sizeof *s->publish);
    s->scrules = alloc(c.scrule, sizeof *s->scrules);
    if (!walk(buf, len, s, &c, true, err, errlen)) return -1;
    if (s->join > 0) { /* exec: everything but the process comes from the running container */
        if (s->nargs == 0) {
            snprintf(err, errlen, "spec: no command");
            return -1;
        }
        return 0;
    }
    if (s->id == NULL || s->rootfs == NULL || s->nlowers == 0 || s->upper == NULL || s->work == NULL) {
        snprintf(err, errlen, "spec: id, rootfs, lower, upper and work are required");
        return -1;
    }
    if (s->nargs == 0) {
        snprintf(err, errlen, "spec: no command");
        return -1;
    }
    if (s->userns && (s->maps.nuid == 0 || s->maps.ngid == 0)) {
        snprintf(err, errlen, "spec: a user namespace needs uid and gid maps");
        return -1;
    }
    if (s->npublish > 0 && !(s->clone_flags & CLONE_NEWNET)) {
        snprintf(err, errlen, "spec: published ports need a network namespace of the container's own");
        return -1;
    }
    if (s->detach && (s->exit_file == NULL || s->keep_lock == NULL)) {
        snprintf(err, errlen, "spec: a detached container needs an exit file and a keeper lock");
        return -1;
    }
    if ((s->clone_flags & (CLONE_NEWNS | CLONE_NEWPID)) != (CLONE_NEWNS | CLONE_NEWPID)) {
        snprintf(err, errlen, "spec: the mount and pid namespaces are required");
        return -1;
    }
    return 0;
}
