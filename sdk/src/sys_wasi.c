/*
 * sys_wasi.c - the SDK's sys interface on WASI preview 1, the config file
 * lookup, and the _start export (wasm32 only).
 *
 * Calls the __wasi_* functions directly, so errors arrive as WASI errno
 * values and need no translation, and nothing depends on wasi-libc's preopen
 * table or stdio.
 */
#include "wasi.h"

#include <stdlib.h>
#include <string.h>

/* Up to 3 fds, each with a read and a write subscription. */
#define POLL_MAX_FDS 3
/* Preopen fds are numbered from 3 up; stop scanning after this many. */
#define PREOPEN_SCAN_MAX 256

extern void __wasm_call_ctors(void);

static bool ctors_done;

void watm_wasi_ctors(void)
{
    if (!ctors_done) {
        ctors_done = true;
        __wasm_call_ctors();
    }
}

/* The ABI runs _start once after instantiation when it is exported. */
WATM_EXPORT(_start) void watm_wasi_start(void)
{
    watm_wasi_ctors();
}

int watm_sys_poll(struct watm_pollfd *p, size_t n)
{
    __wasi_subscription_t subs[2 * POLL_MAX_FDS];
    __wasi_event_t events[2 * POLL_MAX_FDS];
    __wasi_size_t nsubs = 0, nevents = 0;

    if (n > POLL_MAX_FDS)
        return -WATM_EINVAL;
    memset(subs, 0, sizeof subs);
    for (size_t i = 0; i < n; i++) {
        p[i].can_read = p[i].can_write = false;
        if (p[i].want_read) {
            subs[nsubs].userdata = i * 2;
            subs[nsubs].u.tag = __WASI_EVENTTYPE_FD_READ;
            subs[nsubs].u.u.fd_read.file_descriptor = (__wasi_fd_t)p[i].fd;
            nsubs++;
        }
        if (p[i].want_write) {
            subs[nsubs].userdata = i * 2 + 1;
            subs[nsubs].u.tag = __WASI_EVENTTYPE_FD_WRITE;
            subs[nsubs].u.u.fd_write.file_descriptor = (__wasi_fd_t)p[i].fd;
            nsubs++;
        }
    }
    if (nsubs == 0)
        return -WATM_EINVAL; /* would wait forever */

    __wasi_errno_t e = __wasi_poll_oneoff(subs, events, nsubs, &nevents);
    if (e != 0)
        return -(int)e;
    /* An event with an error also counts as ready: the next read or write
     * on that fd reports the error itself. */
    for (__wasi_size_t k = 0; k < nevents && k < nsubs; k++) {
        uint64_t i = events[k].userdata / 2;
        if (i >= n)
            continue;
        if (events[k].userdata % 2)
            p[i].can_write = true;
        else
            p[i].can_read = true;
    }
    return 0;
}

ssize_t watm_sys_read(int fd, void *buf, size_t len)
{
    __wasi_iovec_t iov = {.buf = buf, .buf_len = len};
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_fd_read((__wasi_fd_t)fd, &iov, 1, &n);
    return e ? -(ssize_t)e : (ssize_t)n;
}

ssize_t watm_sys_write(int fd, const void *buf, size_t len)
{
    __wasi_ciovec_t iov = {.buf = buf, .buf_len = len};
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_fd_write((__wasi_fd_t)fd, &iov, 1, &n);
    return e ? -(ssize_t)e : (ssize_t)n;
}

int watm_sys_shutdown_wr(int fd)
{
    __wasi_errno_t e = __wasi_sock_shutdown((__wasi_fd_t)fd, __WASI_SDFLAGS_WR);
    return e ? -(int)e : 0;
}

int watm_sys_set_nonblock(int fd)
{
    __wasi_fdstat_t st;
    __wasi_errno_t e = __wasi_fd_fdstat_get((__wasi_fd_t)fd, &st);
    if (e != 0)
        return -(int)e;
    if (st.fs_flags & __WASI_FDFLAGS_NONBLOCK)
        return 0;
    e = __wasi_fd_fdstat_set_flags((__wasi_fd_t)fd, st.fs_flags | __WASI_FDFLAGS_NONBLOCK);
    return e ? -(int)e : 0;
}

int watm_sys_close(int fd)
{
    __wasi_errno_t e = __wasi_fd_close((__wasi_fd_t)fd);
    return e ? -(int)e : 0;
}

void watm_sys_log_write(const char *s, size_t len)
{
    __wasi_ciovec_t iov = {.buf = (const uint8_t *)s, .buf_len = len};
    __wasi_size_t n;
    (void)__wasi_fd_write(2, &iov, 1, &n); /* no stderr: nothing to do */
}

/* "/conf", "/conf/", "conf", "./conf" all name the config directory. */
static bool is_conf_dir(const char *name, size_t len)
{
    while (len > 1 && name[len - 1] == '/')
        len--;
    if (len >= 2 && name[0] == '.' && name[1] == '/') {
        name += 2;
        len -= 2;
    }
    if (len >= 1 && name[0] == '/') {
        name++;
        len--;
    }
    return len == 4 && memcmp(name, "conf", 4) == 0;
}

int watm_wasi_read_conf(uint8_t **cfg, size_t *len)
{
    *cfg = NULL;
    *len = 0;
    for (int fd = 3; fd < 3 + PREOPEN_SCAN_MAX; fd++) {
        __wasi_prestat_t ps;
        __wasi_errno_t e = __wasi_fd_prestat_get((__wasi_fd_t)fd, &ps);
        if (e == __WASI_ERRNO_BADF)
            break; /* end of the preopens */
        if (e != 0 || ps.tag != __WASI_PREOPENTYPE_DIR)
            continue;
        char name[64];
        size_t n = ps.u.dir.pr_name_len;
        if (n == 0 || n >= sizeof name)
            continue;
        if (__wasi_fd_prestat_dir_name((__wasi_fd_t)fd, (uint8_t *)name, n) != 0)
            continue;
        if (!is_conf_dir(name, n))
            continue;

        __wasi_fd_t cfd;
        e = __wasi_path_open((__wasi_fd_t)fd, 0, "watm.cfg", 0, __WASI_RIGHTS_FD_READ, 0,
                             0, &cfd);
        if (e == __WASI_ERRNO_NOENT)
            return 0; /* a /conf without watm.cfg: no config */
        if (e != 0) {
            watm_log_num("config: cannot open /conf/watm.cfg, errno", e);
            return -(int)e;
        }
        int r = watm_config_read_fd((int)cfd, cfg, len);
        (void)__wasi_fd_close(cfd);
        if (r < 0)
            watm_log_num("config: cannot read /conf/watm.cfg, errno", -r);
        return r;
    }
    return 0; /* no /conf preopen: no config */
}
