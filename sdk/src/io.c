/*
 * io.c - the parts of the system layer (watm_sys.h) that are the same on
 * every platform, blocking helpers for handshakes, the control pipe check,
 * and the log line writer (portable, over the platform's sys_*.c).
 *
 * The fds are non-blocking by the time a handshake runs, so "blocking" here
 * means: try, and on -WATM_EAGAIN wait in poll together with the control
 * pipe, so that a host cancel always gets through.
 */
#include "internal.h"

#define LOG_LINE_MAX 240

/* ---- watm_sys.h, derived ---------------------------------------------------- */

ssize_t watm_sys_read(int fd, void *buf, size_t len)
{
    struct watm_iov v = {.base = buf, .len = len};
    return watm_sys_readv(fd, &v, 1);
}

ssize_t watm_sys_write(int fd, const void *buf, size_t len)
{
    struct watm_ciov v = {.base = buf, .len = len};
    return watm_sys_writev(fd, &v, 1);
}

void watm_sys_log_write(const char *s, size_t len)
{
    (void)watm_sys_write(2, s, len); /* no stderr: nothing to do */
}

/* ---- logging ------------------------------------------------------------------ */

static size_t append(char *line, size_t n, const char *s)
{
    while (*s && n < LOG_LINE_MAX - 1)
        line[n++] = *s++;
    return n;
}

static void log_line(const char *msg, bool with_num, long num)
{
    char line[LOG_LINE_MAX];
    size_t n = append(line, 0, "watm: ");
    n = append(line, n, msg ? msg : "(null)");
    if (with_num) {
        char digits[24];
        size_t d = sizeof digits;
        unsigned long v = num < 0 ? 0UL - (unsigned long)num : (unsigned long)num;
        digits[--d] = '\0';
        do {
            digits[--d] = (char)('0' + v % 10);
            v /= 10;
        } while (v && d > 1);
        if (num < 0)
            digits[--d] = '-';
        n = append(line, n, " ");
        n = append(line, n, digits + d);
    }
    line[n++] = '\n';
    watm_sys_log_write(line, n);
}

void watm_log(const char *msg)
{
    log_line(msg, false, 0);
}

void watm_log_num(const char *msg, long n)
{
    log_line(msg, true, n);
}

int watm_ctrl_check(int ctrl_fd)
{
    uint8_t b[16];
    ssize_t r = watm_sys_read(ctrl_fd, b, sizeof b);
    if (r >= 0)
        return -WATM_ECANCELED; /* a stop byte, or the host closed its end */
    if (r == -WATM_EAGAIN)
        return 0;
    return (int)r;
}

int watm_wait_fd(const struct watm_session *s, int fd, bool want_write)
{
    for (;;) {
        struct watm_pollfd p[2] = {
            {.fd = fd, .want_read = !want_write, .want_write = want_write},
            {.fd = s->ctrl_fd, .want_read = true},
        };
        int r = watm_sys_poll(p, s->ctrl_fd >= 0 ? 2 : 1, -1);
        if (r < 0)
            return r;
        if (s->ctrl_fd >= 0 && p[1].can_read) {
            r = watm_ctrl_check(s->ctrl_fd);
            if (r < 0)
                return r;
        }
        if (p[0].can_read || p[0].can_write)
            return 0;
    }
}

int watm_send_all(const struct watm_session *s, int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = watm_sys_write(fd, p, len);
        if (r > 0) {
            p += r;
            len -= (size_t)r;
            continue;
        }
        if (r == 0)
            return -WATM_EIO;
        if (r != -WATM_EAGAIN)
            return (int)r;
        int w = watm_wait_fd(s, fd, true);
        if (w < 0)
            return w;
    }
    return 0;
}

ssize_t watm_recv(const struct watm_session *s, int fd, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    for (;;) {
        ssize_t r = watm_sys_read(fd, buf, len);
        if (r != -WATM_EAGAIN)
            return r;
        int w = watm_wait_fd(s, fd, false);
        if (w < 0)
            return w;
    }
}

int watm_recv_exact(const struct watm_session *s, int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = watm_recv(s, fd, p, len);
        if (r < 0)
            return (int)r;
        if (r == 0)
            return -WATM_EPIPE;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}
