/*
 * The monitor's side of a container's pty (see monitor.c): the master C hands over, sized as the user's
 * terminal, which is made raw for an interactive container; the container's output to berth's stdout or
 * the keeper's log.
 */
#include "helper.h"

#include <errno.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>


void tty_resize(struct tty_state *t) {
    struct winsize ws;
    if (t->master >= 0 && t->host >= 0 && ioctl(t->host, TIOCGWINSZ, &ws) == 0) ioctl(t->master, TIOCSWINSZ, &ws);
}

/* Takes the pty master from C: size it, make the user's terminal raw and ours for input, ack to C. */
void tty_take(struct tty_state *t, int master, int sync, bool interactive) {
    t->master = master;
    t->host = isatty(0) ? 0 : isatty(1) ? 1 : -1;
    tty_resize(t);
    if (interactive) {
        t->relay_stdin = true;
        if (isatty(0) && tcgetattr(0, &t->saved) == 0) {
            struct termios raw = t->saved;
            cfmakeraw(&raw);
            if (tcsetattr(0, TCSANOW, &raw) == 0) t->raw = true;
            /* We run in our own process group: become the terminal's foreground to read from it. */
            t->saved_pgrp = tcgetpgrp(0);
            if (t->saved_pgrp == getpgrp() || tcsetpgrp(0, getpgrp()) < 0) t->saved_pgrp = -1;
        }
    }
    char ack = 'A';
    (void)send(sync, &ack, 1, MSG_NOSIGNAL);
}

void tty_restore(struct tty_state *t) {
    if (t->raw) tcsetattr(0, TCSANOW, &t->saved);
    if (t->saved_pgrp > 0) tcsetpgrp(0, t->saved_pgrp);
}

/* Copies what the container wrote to its terminal to our stdout (or its log); false when the pty closed. */
bool tty_pump(struct tty_state *t, struct keeper *k) {
    char buf[8192];
    ssize_t n = read(t->master, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false; /* EIO: every slave fd is closed */
    if (k != NULL) keeper_log(k, 1, buf, (size_t)n);
    else (void)write_all(1, buf, (size_t)n);
    return true;
}

