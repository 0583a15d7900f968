/*
 * sys_posix.c - the SDK's sys interface on POSIX, for native unit tests only.
 *
 * Lets the portable core (worker, handshake helpers, config) run over real
 * socketpairs in a normal process. Errors are translated to the WASI errno
 * numbers the core expects (WATM_E*), as a WASI host would.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static int wasi_errno(int e)
{
    switch (e) {
    case EAGAIN: return WATM_EAGAIN;
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK: return WATM_EAGAIN;
#endif
    case EACCES: return WATM_EACCES;
    case EBADF: return WATM_EBADF;
    case EBUSY: return WATM_EBUSY;
    case ECANCELED: return WATM_ECANCELED;
    case ECONNRESET: return WATM_ECONNRESET;
    case EFBIG: return WATM_EFBIG;
    case EINVAL: return WATM_EINVAL;
    case EMSGSIZE: return WATM_EMSGSIZE;
    case ENOBUFS: return WATM_ENOBUFS;
    case ENOENT: return WATM_ENOENT;
    case ENOMEM: return WATM_ENOMEM;
    case ENOSYS: return WATM_ENOSYS;
    case ENOTCONN: return WATM_ENOTCONN;
    case EOPNOTSUPP: return WATM_ENOTSUP;
    case EPIPE: return WATM_EPIPE;
    case EPROTO: return WATM_EPROTO;
    default: return WATM_EIO;
    }
}

int watm_sys_poll(struct watm_pollfd *p, size_t n)
{
    struct pollfd fds[8];
    if (n > 8)
        return -WATM_EINVAL;
    for (size_t i = 0; i < n; i++) {
        fds[i].fd = (p[i].want_read || p[i].want_write) ? p[i].fd : -1;
        fds[i].events = (short)((p[i].want_read ? POLLIN : 0) | (p[i].want_write ? POLLOUT : 0));
        fds[i].revents = 0;
        p[i].can_read = p[i].can_write = false;
    }
    int r;
    do
        r = poll(fds, (nfds_t)n, -1);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -wasi_errno(errno);
    for (size_t i = 0; i < n; i++) {
        short ev = fds[i].revents;
        bool trouble = (ev & (POLLERR | POLLHUP | POLLNVAL)) != 0;
        p[i].can_read = p[i].want_read && ((ev & POLLIN) || trouble);
        p[i].can_write = p[i].want_write && ((ev & POLLOUT) || trouble);
    }
    return 0;
}

ssize_t watm_sys_read(int fd, void *buf, size_t len)
{
    ssize_t r;
    do
        r = read(fd, buf, len);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -wasi_errno(errno) : r;
}

ssize_t watm_sys_write(int fd, const void *buf, size_t len)
{
    ssize_t r;
    do
        r = send(fd, buf, len, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno == ENOTSOCK) {
        do
            r = write(fd, buf, len);
        while (r < 0 && errno == EINTR);
    }
    return r < 0 ? -wasi_errno(errno) : r;
}

int watm_sys_shutdown_wr(int fd)
{
    return shutdown(fd, SHUT_WR) < 0 ? -wasi_errno(errno) : 0;
}

int watm_sys_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -wasi_errno(errno);
    return 0;
}

int watm_sys_close(int fd)
{
    return close(fd) < 0 ? -wasi_errno(errno) : 0;
}

void watm_sys_log_write(const char *s, size_t len)
{
    ssize_t r = write(2, s, len);
    (void)r;
}
