/*
 * wasi/sock.c - sock_accept, sock_recv, sock_send, sock_shutdown on sockets
 * the host inserted (preview 1 has no way to create one).
 *
 * Same blocking rules as io.c: the host socket is O_NONBLOCK, blocking is
 * emulated with a wakeable wait unless the guest set FDFLAG_NONBLOCK.
 * Sends use MSG_NOSIGNAL, so a closed peer gives EPIPE, never SIGPIPE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wasi/internal.h"

static bool is_socket(const wasi_fd *e)
{
    return e->kind == WASI_FD_SOCKET_STREAM ||
           e->kind == WASI_FD_SOCKET_DGRAM;
}

/* accept4 with the blocking rules; returns 0 and *out, or an errno. */
static int accept_one(wasi_call *c, wasi_fd *e, int *out)
{
    bool guest_nb = (e->fdflags & WASI_FDFLAG_NONBLOCK) != 0;
    for (;;) {
        if (!e->host_nb) { /* a borrowed blocking socket: poll first */
            struct pollfd p = {.fd = e->host_fd, .events = POLLIN};
            if (guest_nb && poll(&p, 1, 0) == 0)
                return WASI_EAGAIN;
            int err = guest_nb ? 0 : wasi_wait_fd(c, e->host_fd, POLLIN);
            if (err)
                return err;
        }
        int fd = accept4(e->host_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            *out = fd;
            return 0;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && e->host_nb &&
            !guest_nb) {
            int err = wasi_wait_fd(c, e->host_fd, POLLIN);
            if (err)
                return err;
            continue;
        }
        return wasi_errno_from_host(errno);
    }
}

/* sock_accept(fd, fdflags, retptr) */
int wasi_impl_sock_accept(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (!is_socket(e))
        return WASI_ENOTSOCK;
    if (!(e->rights_base & WASI_RIGHT_SOCK_ACCEPT))
        return WASI_ENOTCAPABLE;
    uint32_t flags = a[1].u32;
    if (flags & ~(uint32_t)WASI_FDFLAG_NONBLOCK)
        return WASI_EINVAL;
    if (!wasi_mem(c, a[2].u32, 4))
        return WASI_EFAULT;
    int hfd = -1;
    int err = accept_one(c, e, &hfd);
    if (err)
        return err;
    uint32_t fd;
    err = wasi_fd_alloc(c->ctx, &fd, &e); /* the listener's e is stale now */
    if (err) {
        close(hfd);
        return err;
    }
    e->kind = WASI_FD_SOCKET_STREAM;
    e->host_fd = hfd;
    e->owned = true;
    e->host_nb = true;
    e->fdflags = (uint16_t)flags;
    e->rights_base = wasi_kind_rights(WASI_FD_SOCKET_STREAM, true);
    return wasi_put32(c, a[2].u32, fd);
}

/* Drops the first `k` bytes of an iovec array. */
static void iov_advance(struct iovec **iov, int *n, size_t k)
{
    while (*n > 0 && k >= (*iov)->iov_len) {
        k -= (*iov)->iov_len;
        (*iov)++;
        (*n)--;
    }
    if (*n > 0) {
        (*iov)->iov_base = (uint8_t *)(*iov)->iov_base + k;
        (*iov)->iov_len -= k;
    }
}

/* sock_recv(fd, ri_data, ri_data_len, ri_flags, ro_datalen_ptr,
 *           ro_flags_ptr) */
int wasi_impl_sock_recv(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (!is_socket(e))
        return WASI_ENOTSOCK;
    if (!(e->rights_base & WASI_RIGHT_FD_READ))
        return WASI_ENOTCAPABLE;
    uint32_t ri = a[3].u32;
    if (ri & ~(uint32_t)(WASI_RIFLAG_RECV_PEEK | WASI_RIFLAG_RECV_WAITALL))
        return WASI_EINVAL;
    if (!wasi_mem(c, a[4].u32, 4) || !wasi_mem(c, a[5].u32, 2))
        return WASI_EFAULT;
    struct iovec iovbuf[WASI_IOV_MAX], *iov = iovbuf;
    int n, mflags = 0, out_flags = 0;
    size_t total, done = 0, got;
    int err = wasi_iovecs(c, a[1].u32, a[2].u32, iov, &n, &total);
    if (err)
        return err;
    int flags = (ri & WASI_RIFLAG_RECV_PEEK) ? MSG_PEEK : 0;
    bool all = (ri & WASI_RIFLAG_RECV_WAITALL) && !(flags & MSG_PEEK);
    do { /* WAITALL: fill every buffer unless EOF or an error comes first */
        err = wasi_io_recv(c, e, iov, n, flags, &got, &mflags);
        if (err)
            break;
        out_flags |= mflags;
        done += got;
        iov_advance(&iov, &n, got);
    } while (all && got > 0 && done < total);
    if (err && (done == 0 || c->trap != WASM_TRAP_NONE))
        return err;
    uint8_t *pf = wasi_mem(c, a[5].u32, 2);
    wasi_st16(pf, (out_flags & MSG_TRUNC) ? WASI_ROFLAG_RECV_DATA_TRUNCATED
                                          : 0);
    return wasi_put32(c, a[4].u32, (uint32_t)done);
}

/* sock_send(fd, si_data, si_data_len, si_flags, retptr); no si_flags are
 * defined, they are ignored. */
int wasi_impl_sock_send(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (!is_socket(e))
        return WASI_ENOTSOCK;
    if (!(e->rights_base & WASI_RIGHT_FD_WRITE))
        return WASI_ENOTCAPABLE;
    if (!wasi_mem(c, a[4].u32, 4))
        return WASI_EFAULT;
    struct iovec iov[WASI_IOV_MAX];
    int n;
    size_t total, done;
    int err = wasi_iovecs(c, a[1].u32, a[2].u32, iov, &n, &total);
    if (err || (err = wasi_io_send(c, e, iov, n, &done)) != 0)
        return err;
    return wasi_put32(c, a[4].u32, (uint32_t)done);
}

/* sock_shutdown(fd, sdflags) */
int wasi_impl_sock_shutdown(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (!is_socket(e))
        return WASI_ENOTSOCK;
    if (!(e->rights_base & WASI_RIGHT_SOCK_SHUTDOWN))
        return WASI_ENOTCAPABLE;
    int how;
    switch (a[1].u32) {
    case WASI_SDFLAG_RD: how = SHUT_RD; break;
    case WASI_SDFLAG_WR: how = SHUT_WR; break;
    case WASI_SDFLAG_RD | WASI_SDFLAG_WR: how = SHUT_RDWR; break;
    default: return WASI_EINVAL;
    }
    if (shutdown(e->host_fd, how) != 0)
        return wasi_errno_from_host(errno);
    return 0;
}
