/*
 * sys_posix.c - the SDK's system layer (watm_sys.h) on POSIX, for native
 * unit tests only: the calls that differ per platform (sdk/src/io.c derives
 * the rest); sdk/src/sys_wasi.c is the same layer on WASI.
 *
 * Lets portable code (the SDK's worker, handshake helpers and config, and
 * transports' own loops: tests/shadowsocks) run over real sockets in a
 * normal process. Errors are translated to the WASI errno numbers the code
 * expects (WATM_E*), as a WASI host would. Thread-safe as far as the system
 * calls are (the tests run a worker per thread).
 */
#define _GNU_SOURCE
#include "watm_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
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

int watm_sys_poll(struct watm_pollfd *p, size_t n, int timeout_ms)
{
    struct pollfd fds[WATM_SYS_POLL_MAX];
    bool asked = false;
    if (n > WATM_SYS_POLL_MAX)
        return -WATM_EINVAL;
    for (size_t i = 0; i < n; i++) {
        fds[i].fd = (p[i].want_read || p[i].want_write) ? p[i].fd : -1;
        fds[i].events = (short)((p[i].want_read ? POLLIN : 0) | (p[i].want_write ? POLLOUT : 0));
        fds[i].revents = 0;
        p[i].can_read = p[i].can_write = false;
        asked = asked || fds[i].fd >= 0;
    }
    if (!asked && timeout_ms < 0)
        return -WATM_EINVAL; /* would wait forever */
    int r;
    do
        r = poll(fds, (nfds_t)n, timeout_ms < 0 ? -1 : timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -wasi_errno(errno);
    int ready = 0;
    for (size_t i = 0; i < n; i++) {
        short ev = fds[i].revents;
        bool trouble = (ev & (POLLERR | POLLHUP | POLLNVAL)) != 0;
        p[i].can_read = p[i].want_read && ((ev & POLLIN) || trouble);
        p[i].can_write = p[i].want_write && ((ev & POLLOUT) || trouble);
        ready += p[i].can_read || p[i].can_write;
    }
    return ready;
}

/* struct watm_iov and watm_ciov have the layout of struct iovec (checked
 * here), so an array goes to the kernel as it is, as on WASI. */
_Static_assert(sizeof(struct watm_iov) == sizeof(struct iovec) &&
                   offsetof(struct watm_iov, base) == offsetof(struct iovec, iov_base) &&
                   offsetof(struct watm_iov, len) == offsetof(struct iovec, iov_len) &&
                   sizeof(struct watm_ciov) == sizeof(struct iovec) &&
                   offsetof(struct watm_ciov, base) == offsetof(struct iovec, iov_base) &&
                   offsetof(struct watm_ciov, len) == offsetof(struct iovec, iov_len),
               "struct watm_iov and watm_ciov are struct iovec");

ssize_t watm_sys_readv(int fd, const struct watm_iov *iov, size_t n)
{
    ssize_t r;
    do
        r = readv(fd, (const struct iovec *)iov,
                  (int)(n < WATM_SYS_IOV_MAX ? n : WATM_SYS_IOV_MAX));
    while (r < 0 && errno == EINTR);
    return r < 0 ? -wasi_errno(errno) : r;
}

/* sendmsg with MSG_NOSIGNAL on a socket (no SIGPIPE: -WATM_EPIPE, as on
 * WASI), writev on anything else (pipes, files). */
ssize_t watm_sys_writev(int fd, const struct watm_ciov *iov, size_t n)
{
    struct msghdr m = {
        .msg_iov = (struct iovec *)iov,
        .msg_iovlen = n < WATM_SYS_IOV_MAX ? n : WATM_SYS_IOV_MAX,
    };
    ssize_t r;
    do
        r = sendmsg(fd, &m, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno == ENOTSOCK) {
        do
            r = writev(fd, m.msg_iov, (int)m.msg_iovlen);
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

uint64_t watm_sys_now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
        return 0;
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}
