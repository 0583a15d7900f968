/*
 * sys_wasi.c - the system layer of watm_sys.h on WASI preview 1 (the calls
 * that differ per platform; io.c derives the rest), the config file lookup,
 * the once-per-instance init and the _start export (wasm32 only).
 * sdk/tests/sys_posix.c is the same layer on POSIX for native tests.
 *
 * Calls the __wasi_* functions directly, so errors arrive as WASI errno
 * values and need no translation, and nothing depends on wasi-libc's preopen
 * table or stdio.
 */
#include "wasi.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Each fd gets a read and a write subscription; one more for the timeout. */
#define POLL_SUBS_MAX (2 * WATM_SYS_POLL_MAX + 1)
/* The userdata of the timeout's subscription (fds use 2 * i + 0/1). */
#define POLL_TIMEOUT_TAG UINT64_MAX
/* Preopen fds are numbered from 3 up; stop scanning after this many. */
#define PREOPEN_SCAN_MAX 256
#define NS_PER_MS 1000000u

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

static bool initialised;

int watm_init_once(int (*load)(uint8_t **cfg, size_t *len),
                   int (*apply)(const uint8_t *cfg, size_t len))
{
    if (initialised)
        return 0;
    watm_wasi_ctors();
    uint8_t *cfg = NULL;
    size_t len = 0;
    int r = load(&cfg, &len);
    if (r < 0)
        return r;
    r = apply(cfg, len);
    if (cfg != NULL) {
        memset(cfg, 0, len); /* it may hold a password */
        free(cfg);
    }
    if (r == 0)
        initialised = true;
    return r;
}

/* ---- the system layer (watm_sys.h) --------------------------------------- */

int watm_sys_poll(struct watm_pollfd *p, size_t n, int timeout_ms)
{
    __wasi_subscription_t subs[POLL_SUBS_MAX];
    __wasi_event_t events[POLL_SUBS_MAX];
    __wasi_size_t nsubs = 0, nevents = 0;

    if (n > WATM_SYS_POLL_MAX)
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
    if (timeout_ms >= 0) {
        subs[nsubs].userdata = POLL_TIMEOUT_TAG;
        subs[nsubs].u.tag = __WASI_EVENTTYPE_CLOCK;
        subs[nsubs].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        subs[nsubs].u.u.clock.timeout = (uint64_t)timeout_ms * NS_PER_MS;
        subs[nsubs].u.u.clock.precision = NS_PER_MS;
        nsubs++;
    }
    if (nsubs == 0)
        return -WATM_EINVAL; /* would wait forever */

    __wasi_errno_t e = __wasi_poll_oneoff(subs, events, nsubs, &nevents);
    if (e != 0)
        return -(int)e;
    /* An event with an error also counts as ready: the next read or write
     * on that fd reports the error itself. */
    for (__wasi_size_t k = 0; k < nevents && k < nsubs; k++) {
        uint64_t u = events[k].userdata;
        if (u == POLL_TIMEOUT_TAG || u / 2 >= n)
            continue;
        if (u % 2)
            p[u / 2].can_write = true;
        else
            p[u / 2].can_read = true;
    }
    int ready = 0;
    for (size_t i = 0; i < n; i++)
        ready += p[i].can_read || p[i].can_write;
    return ready;
}

/* struct watm_iov and watm_ciov have the layout of WASI's iovec and ciovec
 * (checked here), so an array goes to the host as it is, without a copy. */
_Static_assert(sizeof(struct watm_iov) == sizeof(__wasi_iovec_t) &&
                   offsetof(struct watm_iov, base) == offsetof(__wasi_iovec_t, buf) &&
                   offsetof(struct watm_iov, len) == offsetof(__wasi_iovec_t, buf_len),
               "struct watm_iov is __wasi_iovec_t");
_Static_assert(sizeof(struct watm_ciov) == sizeof(__wasi_ciovec_t) &&
                   offsetof(struct watm_ciov, base) == offsetof(__wasi_ciovec_t, buf) &&
                   offsetof(struct watm_ciov, len) == offsetof(__wasi_ciovec_t, buf_len),
               "struct watm_ciov is __wasi_ciovec_t");

ssize_t watm_sys_readv(int fd, const struct watm_iov *iov, size_t n)
{
    __wasi_size_t got = 0;
    __wasi_errno_t e = __wasi_fd_read((__wasi_fd_t)fd, (const __wasi_iovec_t *)iov,
                                      n < WATM_SYS_IOV_MAX ? n : WATM_SYS_IOV_MAX, &got);
    return e ? -(ssize_t)e : (ssize_t)got;
}

ssize_t watm_sys_writev(int fd, const struct watm_ciov *iov, size_t n)
{
    __wasi_size_t put = 0;
    __wasi_errno_t e = __wasi_fd_write((__wasi_fd_t)fd, (const __wasi_ciovec_t *)iov,
                                       n < WATM_SYS_IOV_MAX ? n : WATM_SYS_IOV_MAX, &put);
    return e ? -(ssize_t)e : (ssize_t)put;
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

uint64_t watm_sys_now_ms(void)
{
    __wasi_timestamp_t t = 0;
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, NS_PER_MS, &t) != 0)
        return 0;
    return t / NS_PER_MS;
}

/* ---- the config file ------------------------------------------------------ */

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
