/*
 * wasi/io.c - moving bytes between the kernel and linear memory, and the
 * emulation of blocking I/O that wasi_ctx_wake() can end.
 *
 * Data goes straight from the kernel into guest buffers (readv, recvmsg)
 * and back (writev, sendmsg): the iovecs point into linear memory, there is
 * no host copy.
 *
 * Blocking: an fd the table owns and that can block (socket, pipe, character
 * device) is O_NONBLOCK on the host (host_nb). A call tries once; on EAGAIN
 * it returns WASI_EAGAIN if the guest set FDFLAG_NONBLOCK, otherwise it
 * waits in poll(2) on the fd and on the wake fd, and tries again. A borrowed
 * stdio fd that is blocking on the host is polled first instead (with a zero
 * timeout when the guest asked for non-blocking), so that it too can be
 * woken and honour FDFLAG_NONBLOCK without changing the host's flags.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wasi/internal.h"

bool wasi_check_woken(wasi_call *c)
{
    if (!atomic_load_explicit(&c->ctx->woken, memory_order_acquire))
        return false;
    c->trap = WASM_TRAP_INTERRUPTED;
    wasm_instance_set_trap_message(c->inst, "wasi: woken by wasi_ctx_wake");
    return true;
}

/* Reads away a stale wake count (one left over from before a clear). */
static void drain_wake(wasi_ctx *ctx)
{
    uint64_t buf[8];
    while (read(ctx->wake_rd, buf, sizeof buf) > 0) {
    }
}

int wasi_wait_fd(wasi_call *c, int fd, short events)
{
    struct pollfd p[2] = {
        {.fd = fd, .events = events},
        {.fd = c->ctx->wake_rd, .events = POLLIN},
    };
    for (;;) {
        if (wasi_check_woken(c))
            return WASI_ECANCELED;
        int r = poll(p, 2, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return wasi_errno_from_host(errno);
        }
        if (p[0].revents) /* ready, or HUP/ERR: the retried call reports */
            return 0;
        if (p[1].revents && !atomic_load(&c->ctx->woken))
            drain_wake(c->ctx);
    }
}

/* Zero-timeout readiness check of a borrowed blocking fd. */
static int poll_now(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int r = poll(&p, 1, 0);
        if (r > 0)
            return 0;
        if (r == 0)
            return WASI_EAGAIN;
        if (errno != EINTR)
            return wasi_errno_from_host(errno);
    }
}

enum io_op { IO_READ, IO_WRITE, IO_RECV, IO_SEND };

static ssize_t io_once(enum io_op op, int fd, struct msghdr *m, int flags)
{
    switch (op) {
    case IO_READ: return readv(fd, m->msg_iov, (int)m->msg_iovlen);
    case IO_WRITE: return writev(fd, m->msg_iov, (int)m->msg_iovlen);
    case IO_RECV: return recvmsg(fd, m, flags);
    case IO_SEND: return sendmsg(fd, m, flags | MSG_NOSIGNAL);
    }
    errno = EINVAL;
    return -1;
}

/* One transfer with the blocking rules above. */
static int io_xfer(wasi_call *c, wasi_fd *e, enum io_op op, struct msghdr *m,
                   int flags, size_t *done)
{
    short ev = (op == IO_READ || op == IO_RECV) ? POLLIN : POLLOUT;
    bool guest_nb = (e->fdflags & WASI_FDFLAG_NONBLOCK) != 0;
    bool blocks = wasi_kind_blocks((wasi_fd_kind)e->kind);
    *done = 0;
    for (;;) {
        if (blocks && !e->host_nb) {
            int err = guest_nb ? poll_now(e->host_fd, ev)
                               : wasi_wait_fd(c, e->host_fd, ev);
            if (err)
                return err;
        }
        ssize_t r = io_once(op, e->host_fd, m, flags);
        if (r >= 0) {
            *done = (size_t)r;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && blocks &&
            e->host_nb && !guest_nb) {
            int err = wasi_wait_fd(c, e->host_fd, ev);
            if (err)
                return err;
            continue;
        }
        return wasi_errno_from_host(errno);
    }
}

int wasi_io_read(wasi_call *c, wasi_fd *e, struct iovec *iov, int n,
                 size_t *done)
{
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    return io_xfer(c, e, IO_READ, &m, 0, done);
}

int wasi_io_write(wasi_call *c, wasi_fd *e, const struct iovec *iov, int n,
                  size_t *done)
{
    struct msghdr m = {.msg_iov = (struct iovec *)iov,
                       .msg_iovlen = (size_t)n};
    bool sock = e->kind == WASI_FD_SOCKET_STREAM ||
                e->kind == WASI_FD_SOCKET_DGRAM;
    return io_xfer(c, e, sock ? IO_SEND : IO_WRITE, &m, 0, done);
}

int wasi_io_recv(wasi_call *c, wasi_fd *e, struct iovec *iov, int n,
                 int flags, size_t *done, int *msg_flags)
{
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    int err = io_xfer(c, e, IO_RECV, &m, flags, done);
    *msg_flags = err ? 0 : m.msg_flags;
    return err;
}

int wasi_io_send(wasi_call *c, wasi_fd *e, const struct iovec *iov, int n,
                 size_t *done)
{
    struct msghdr m = {.msg_iov = (struct iovec *)iov,
                       .msg_iovlen = (size_t)n};
    return io_xfer(c, e, IO_SEND, &m, 0, done);
}
