/*
 * ss_abi.c - the WATM v1 exports of the Shadowsocks module and its ss_dial
 * (wasm32 only).
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
 * Not WATM_REGISTER: the SDK's exports connect both sides of a role at once
 * and run its generic worker, while here the relay dials late and the loop
 * (ss_loop.c) seals and opens chunks in place. What stays the same comes
 * from the SDK's v1 pieces (watm_v1.h): the init with /conf/watm.cfg (C
 * constructors, read once, zeroed after parsing: it holds the password) and
 * the env imports; the I/O goes through its system layer (watm_sys.h).
 */
#include "ss.h"
#include "watm_v1.h"

enum role { ROLE_NONE, ROLE_CLIENT, ROLE_SERVER };

static struct {
    struct ss_config cfg;
    enum role role;
    int app_fd, net_fd, ctrl_fd;
} ss = {.app_fd = -1, .net_fd = -1, .ctrl_fd = -1};

static int apply_config(const uint8_t *cfg, size_t len)
{
    return ss_config_parse(&ss.cfg, cfg, len);
}

/* The start of both role exports: the init, then -WATM_EBUSY when this
 * instance already has its connection. */
static int begin_role(void)
{
    int r = watm_v1_init(apply_config);
    if (r < 0)
        return r;
    return ss.role == ROLE_NONE ? 0 : -WATM_EBUSY;
}

WATM_EXPORT(watm_init_v1) int32_t watm_init_v1(void)
{
    return watm_v1_init(apply_config);
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
    int r = begin_role();
    if (r < 0)
        return r;
    if (internal_fd < 0)
        return -WATM_EBADF;
    if (ss.cfg.target_len == 0) {
        ss_log("dial: the client role needs \"target\": \"host:port\" in the config", NULL);
        return -WATM_EINVAL;
    }
    int32_t net = watm_v1_host_dial_fixed();
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
    int r = begin_role();
    if (r < 0)
        return r;
    int32_t in = watm_v1_host_accept();
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

/* ---- ss.h: the server's dial ---------------------------------------------- */

int ss_dial(const char *address)
{
    return watm_v1_host_dial(address);
}
