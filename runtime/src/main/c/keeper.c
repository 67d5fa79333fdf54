/*
 * The keeper: what the monitor does for a container that outlives the berth that started it (berth run
 * -d), as podman's conmon does. It holds the container's keeper lock (an open file description lock,
 * which berth's own locks see) for as long as the container runs, writes the container's output to its
 * log in docker's json-file format (one JSON line per line of output, with the stream and the time;
 * rotated at a size, keeping a number of files), records how the container ended in its exit file, and
 * finally runs berth's exit command, which records that in the container's state (and removes it when
 * it was started with --rm).
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int keeper_lock(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return -1;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
        snprintf(err, errlen, "lock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int open_log(struct keeper *k) {
    k->log_fd = open(k->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (k->log_fd < 0) return -1;
    off_t end = lseek(k->log_fd, 0, SEEK_END);
    k->log_size = end > 0 ? (unsigned long long)end : 0;
    return 0;
}

int keeper_open(struct keeper *k, const struct spec *s) {
    memset(k, 0, sizeof *k);
    k->attach.listen_fd = -1;
    k->lock_fd = -1;
    k->log_fd = -1;
    k->log_path = s->log;
    k->log_max = s->log_max;
    k->log_files = s->log_files > 0 ? s->log_files : 1;
    return s->log == NULL ? 0 : open_log(k);
}

/* log -> log.1 -> ... -> log.(files-1); the oldest is dropped. With one file, the log starts again empty. */
static void rotate(struct keeper *k) {
    close(k->log_fd);
    char from[4096], to[4096];
    for (unsigned i = k->log_files - 1; i >= 1; i--) {
        if (i == 1) snprintf(from, sizeof from, "%s", k->log_path);
        else snprintf(from, sizeof from, "%s.%u", k->log_path, i - 1);
        snprintf(to, sizeof to, "%s.%u", k->log_path, i);
        (void)rename(from, to);
    }
    if (k->log_files == 1) (void)truncate(k->log_path, 0);
    if (open_log(k) < 0) k->log_fd = -1;
}

/* Appends s[0..n) as a JSON string body: the escapes Go's encoding/json writes, invalid UTF-8 as U+FFFD. */
static size_t json_escape(char *out, const unsigned char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
            i++;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            out[o++] = '\\';
            out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            i++;
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            memcpy(out + o, "\\u00", 4);
            o += 4;
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
            i++;
        } else if (c < 0x80) {
            out[o++] = (char)c;
            i++;
        } else {
            size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
            bool ok = len > 0 && i + len <= n;
            for (size_t j = 1; ok && j < len; j++) ok = (s[i + j] & 0xc0) == 0x80;
            if (ok && len == 3 && c == 0xe0) ok = s[i + 1] >= 0xa0;             /* overlong */
            if (ok && len == 3 && c == 0xed) ok = s[i + 1] < 0xa0;              /* a surrogate */
            if (ok && len == 4 && c == 0xf0) ok = s[i + 1] >= 0x90;             /* overlong */
            if (ok && len == 4 && c == 0xf4) ok = s[i + 1] < 0x90;              /* past U+10FFFF */
            if (ok) {
                memcpy(out + o, s + i, len);
                o += len;
                i += len;
            } else {
                memcpy(out + o, "\\ufffd", 6);
                o += 6;
                i++;
            }
        }
    }
    return o;
}

/* Writes one log entry: {"log":"...","stream":"stdout","time":"2006-01-02T15:04:05.999999999Z"}. */
static void entry(struct keeper *k, int stream, const char *text, size_t n) {
    if (k->log_fd < 0 || n == 0) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + w, sizeof when - w, ".%09ldZ", ts.tv_nsec);
    char *line = malloc(n * 6 + 128);
    if (line == NULL) return;
    size_t o = 0;
    memcpy(line, "{\"log\":\"", 8);
    o = 8 + json_escape(line + 8, (const unsigned char *)text, n);
    o += (size_t)sprintf(line + o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream == 2 ? "stderr" : "stdout", when);
    if (k->log_max > 0 && k->log_size > 0 && k->log_size + o > k->log_max) rotate(k);
    if (k->log_fd >= 0 && write_all(k->log_fd, line, o) == 0) k->log_size += o;
    free(line);
}

void keeper_log(struct keeper *k, int stream, const char *buf, size_t n) {
    attach_send(&k->attach, stream, buf, n);
    struct keeper_stream *s = &k->streams[stream == 2 ? 1 : 0];
    for (size_t i = 0; i < n; i++) {
        s->buf[s->len++] = buf[i];
        if (buf[i] == '\n' || s->len == sizeof s->buf) { /* a line, or as much of one as a line holds */
            entry(k, stream, s->buf, s->len);
            s->len = 0;
        }
    }
}

void keeper_flush(struct keeper *k) {
    for (int i = 0; i < 2; i++) {
        entry(k, i + 1, k->streams[i].buf, k->streams[i].len);
        k->streams[i].len = 0;
    }
}

void keeper_exit_file(const char *path, const char *what) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char line[2400];
    int n = snprintf(line, sizeof line, "%s\nfinished %lld.%09ld\n", what, (long long)ts.tv_sec, ts.tv_nsec);
    bool ok = n > 0 && write_all(fd, line, strnlen(line, sizeof line)) == 0 && fsync(fd) == 0;
    close(fd);
    if (ok) rename(tmp, path);
    else unlink(tmp);
}

void keeper_exec_exit(struct keeper *k, char **argv) {
    if (k->log_fd >= 0) close(k->log_fd);
    if (k->lock_fd >= 0) close(k->lock_fd); /* the container has ended: the exit command may take it */
    if (argv == NULL || argv[0] == NULL) _exit(0);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    execv(argv[0], argv);
    _exit(EXIT_BERTH);
}
