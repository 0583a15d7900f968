/*
 * ss_abi.c - the WATM v1 exports of the Shadowsocks module and its sys
 * interface on WASI preview 1 (wasm32 only).
 *
 * Roles (see README.md):
 *   - dialer (watm_dial_v1): the Shadowsocks client. The host dials the
 *     server (env.water_dial_fixed, `water dial --remote SERVER`); the
 *     internal fd is the application's plaintext.
 *   - relay (watm_associate_v1): the Shadowsocks server. The target is
 *     inside the client's first encrypted chunk, so associate only accepts
 *     (env.water_accept) and returns; watm_start_v1 then reads and
 *     authenticates the first chunk on the worker thread (cancellable, with
 *     a deadline) and dials the target itself with env.water_dial, which the
 *     host checks against its --allow-dial list. env.water_dial_fixed (the
 *     relay's --forward address) is not used.
 * No listener or fixed-dialer role, and no v0 build: the module needs the
 * host's water_ext_v1 crypto, which only v1-era hosts of this project have.
 *
 * From the SDK it uses the WASI start-up and config reading
 * (watm_wasi_ctors, watm_wasi_read_conf: /conf/watm.cfg), the JSON string
 * reader and the log helpers; its own loop (ss_loop.c) replaces the SDK's
 * generic worker to seal and open chunks in place.
 */
#include "ss.h"
#include "wasi.h" /* the SDK's WASI internals: WATM_EXPORT, config, ctors */

#include <stdlib.h>
#include <string.h>

WATM_IMPORT(water_dial_fixed) int32_t ss_import_water_dial_fixed(void);
WATM_IMPORT(water_accept) int32_t ss_import_water_accept(void);
WATM_IMPORT(water_dial)
int32_t ss_import_water_dial(const __wasi_ciovec_t *net_iovs, size_t net_iovs_len,
                             const __wasi_ciovec_t *addr_iovs, size_t addr_iovs_len);

enum role { ROLE_NONE, ROLE_CLIENT, ROLE_SERVER };

static struct {
    bool initialised;
    struct ss_config cfg;
    enum role role;
    int app_fd, net_fd, ctrl_fd;
} ss = {.app_fd = -1, .net_fd = -1, .ctrl_fd = -1};

static int init(void)
{
    if (ss.initialised)
        return 0;
    watm_wasi_ctors();
    uint8_t *cfg;
    size_t len;
    int r = watm_wasi_read_conf(&cfg, &len);
    if (r < 0)
        return r;
    r = ss_config_parse(&ss.cfg, cfg, len);
    if (cfg != NULL) {
        memset(cfg, 0, len); /* the password */
        free(cfg);
    }
    if (r == 0)
        ss.initialised = true;
    return r;
}

WATM_EXPORT(watm_init_v1) int32_t watm_init_v1(void)
{
    return init();
}

WATM_EXPORT(watm_ctrlpipe_v1) int32_t watm_ctrlpipe_v1(int32_t ctrl_fd)
{
    if (ctrl_fd < 0)
        return -WATM_EBADF;
    ss.ctrl_fd = ctrl_fd;
    return 0;
}

WATM_EXPORT(watm_dial_v1) int32_t watm_dial_v1(int32_t internal_fd)
{
    int r = init();
    if (r < 0)
        return r;
    if (ss.role != ROLE_NONE)
        return -WATM_EBUSY;
    if (internal_fd < 0)
        return -WATM_EBADF;
    if (ss.cfg.target_len == 0) {
        ss_log("dial: the client role needs \"target\": \"host:port\" in the config", NULL);
        return -WATM_EINVAL;
    }
    int32_t net = ss_import_water_dial_fixed();
    if (net < 0) {
        ss_log("dial: the host could not reach the Shadowsocks server", NULL);
        return net;
    }
    ss.role = ROLE_CLIENT;
    ss.app_fd = internal_fd;
    ss.net_fd = net;
    return net;
}

WATM_EXPORT(watm_associate_v1) int32_t watm_associate_v1(void)
{
    int r = init();
    if (r < 0)
        return r;
    if (ss.role != ROLE_NONE)
        return -WATM_EBUSY;
    int32_t in = ss_import_water_accept();
    if (in < 0) {
        ss_log("associate: water_accept failed", NULL);
        return in;
    }
    ss.role = ROLE_SERVER;
    ss.net_fd = in;
    return 0;
}

WATM_EXPORT(watm_start_v1) int32_t watm_start_v1(void)
{
    if (ss.ctrl_fd < 0) {
        ss_log("start: no control pipe was given", NULL);
        return -WATM_EBADF;
    }
    switch (ss.role) {
    case ROLE_CLIENT:
        return ss_run_client(&ss.cfg, ss.app_fd, ss.net_fd, ss.ctrl_fd);
    case ROLE_SERVER:
        return ss_run_server(&ss.cfg, ss.net_fd, ss.ctrl_fd);
    default:
        ss_log("start: no role was set up (dial or associate first)", NULL);
        return -WATM_ENOTCONN;
    }
}

/* ---- ss.h sys interface on WASI ----------------------------------------- */

#define POLL_MAX 3

int ss_sys_poll(struct ss_pollfd *p, size_t n, int timeout_ms)
{
    __wasi_subscription_t subs[2 * POLL_MAX + 1];
    __wasi_event_t events[2 * POLL_MAX + 1];
    __wasi_size_t nsubs = 0, nevents = 0;

    if (n > POLL_MAX)
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
        subs[nsubs].userdata = UINT64_MAX;
        subs[nsubs].u.tag = __WASI_EVENTTYPE_CLOCK;
        subs[nsubs].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        subs[nsubs].u.u.clock.timeout = (uint64_t)timeout_ms * 1000000u;
        subs[nsubs].u.u.clock.precision = 1000000u;
        nsubs++;
    }
    if (nsubs == 0)
        return -WATM_EINVAL;
    __wasi_errno_t e = __wasi_poll_oneoff(subs, events, nsubs, &nevents);
    if (e != 0)
        return -(int)e;
    int ready = 0;
    for (__wasi_size_t k = 0; k < nevents && k < nsubs; k++) {
        uint64_t u = events[k].userdata;
        if (u == UINT64_MAX || u / 2 >= n)
            continue;
        /* An event with an error counts as ready: the next read or write
         * reports the error itself. */
        if (u % 2)
            p[u / 2].can_write = true;
        else
            p[u / 2].can_read = true;
        ready++;
    }
    return ready;
}

long ss_sys_readv(int fd, const struct ss_iov *iov, size_t n)
{
    __wasi_iovec_t v[8];
    __wasi_size_t got = 0;
    if (n > 8)
        n = 8;
    for (size_t i = 0; i < n; i++)
        v[i] = (__wasi_iovec_t){.buf = iov[i].base, .buf_len = iov[i].len};
    __wasi_errno_t e = __wasi_fd_read((__wasi_fd_t)fd, v, n, &got);
    return e ? -(long)e : (long)got;
}

long ss_sys_writev(int fd, const struct ss_iov *iov, size_t n)
{
    __wasi_ciovec_t v[64];
    __wasi_size_t put = 0;
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++)
        v[i] = (__wasi_ciovec_t){.buf = iov[i].base, .buf_len = iov[i].len};
    __wasi_errno_t e = __wasi_fd_write((__wasi_fd_t)fd, v, n, &put);
    return e ? -(long)e : (long)put;
}

int ss_sys_shutdown_wr(int fd)
{
    return watm_sys_shutdown_wr(fd);
}

int ss_sys_set_nonblock(int fd)
{
    return watm_sys_set_nonblock(fd);
}

uint64_t ss_sys_now_ms(void)
{
    __wasi_timestamp_t t = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1000000u, &t);
    return t / 1000000u;
}

int ss_sys_dial(const char *address)
{
    static const char network[] = "tcp";
    __wasi_ciovec_t net = {.buf = (const uint8_t *)network, .buf_len = 3};
    __wasi_ciovec_t dst = {.buf = (const uint8_t *)address, .buf_len = strlen(address)};
    return ss_import_water_dial(&net, 1, &dst, 1);
}
