/*
 * watm_sys.h - the SDK's system layer: the few system calls its portable
 * code makes (the worker, the handshake helpers, config reading), public for
 * transports that run their own I/O loop instead of the SDK's worker
 * (transports/shadowsocks).
 *
 * One contract, two implementations of the calls that touch the platform:
 *   - WASI preview 1 (sdk/src/sys_wasi.c, in libwatm.a): what modules use.
 *     Calls __wasi_* directly, so errors arrive as WASI errnos untranslated;
 *   - POSIX (sdk/tests/sys_posix.c, in the native test library watm_native):
 *     a stand-in so that portable code runs natively over real sockets in
 *     unit tests. It translates errno to the WASI numbers, as a WASI host
 *     would, and never raises SIGPIPE.
 * read, write and log_write are readv/writev of one buffer, and
 * watm_ctrl_check a read, written once for both (sdk/src/io.c). Code
 * written against this header compiles unchanged for both.
 *
 * Results: >= 0 on success, minus a WASI errno (WATM_E*) on failure. No
 * function keeps a pointer past its return. The fds are the module's (the
 * host's numbers on WASI); the layer never opens one.
 */
#ifndef WATM_SYS_H
#define WATM_SYS_H

#include "watm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* At most this many fds per watm_sys_poll (the control pipe and two data
 * fds); more gives -WATM_EINVAL. */
#define WATM_SYS_POLL_MAX 3
/* At most this many entries per readv/writev are used; the rest are left
 * alone (the result says how far the call got, as for any short read). */
#define WATM_SYS_IOV_MAX 64

struct watm_pollfd {
    int fd;
    bool want_read, want_write; /* in */
    bool can_read, can_write;   /* out: ready, or an error/hangup to collect
                                   by reading or writing */
};

/*
 * Waits until at least one requested event of p[0..n) is ready, or until
 * timeout_ms milliseconds have passed (timeout_ms < 0: no limit). Sets every
 * entry's can_read/can_write (false unless asked for and ready). An fd with
 * an error or hangup counts as ready for what was asked: the next read or
 * write reports the outcome. Entries with neither want_* set are ignored.
 * Returns the number of entries with an event (0: the timeout passed), or
 * -WATM_EINVAL when n > WATM_SYS_POLL_MAX or when nothing is asked for and
 * there is no timeout (it would wait forever), or another negative errno.
 */
int watm_sys_poll(struct watm_pollfd *p, size_t n, int timeout_ms);

/* One read of up to len bytes: the byte count, 0 at end of stream,
 * -WATM_EAGAIN when a non-blocking fd has nothing yet, or -errno. */
ssize_t watm_sys_read(int fd, void *buf, size_t len);
/* One write: the bytes taken (maybe fewer than len), -WATM_EAGAIN when a
 * non-blocking fd cannot take any now, or -errno (-WATM_EPIPE...). */
ssize_t watm_sys_write(int fd, const void *buf, size_t len);

/* A buffer for a scatter read and a gather write (the shape of WASI's
 * iovec and ciovec). */
struct watm_iov {
    uint8_t *base;
    size_t len;
};
struct watm_ciov {
    const uint8_t *base;
    size_t len;
};

/* watm_sys_read into iov[0..n) in order, in one system call. */
ssize_t watm_sys_readv(int fd, const struct watm_iov *iov, size_t n);
/* watm_sys_write of iov[0..n) in order, in one system call. */
ssize_t watm_sys_writev(int fd, const struct watm_ciov *iov, size_t n);

/* Ends fd's write side (the peer reads EOF); reading goes on. 0 or -errno. */
int watm_sys_shutdown_wr(int fd);
/* Makes fd non-blocking (a no-op when it already is). 0 or -errno. */
int watm_sys_set_nonblock(int fd);
/* Closes fd. 0 or -errno. */
int watm_sys_close(int fd);
/* Milliseconds from a monotonic clock (arbitrary origin; 0 if none). */
uint64_t watm_sys_now_ms(void);
/* Writes s[0..len) to stderr in one write, best effort (no stderr: nothing). */
void watm_sys_log_write(const char *s, size_t len);

/* ---- over the layer (portable, sdk/src/io.c) ------------------------------ */

/* Reads the control pipe after watm_sys_poll said it is readable:
 * -WATM_ECANCELED for a stop byte or EOF (the host wants the connection to
 * end), 0 for a spurious wake-up, another negative errno on error. The
 * control fd must be non-blocking. */
int watm_ctrl_check(int ctrl_fd);

#ifdef __cplusplus
}
#endif
#endif /* WATM_SYS_H */
