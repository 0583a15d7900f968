/*
 * abi_v0.c - the older WATM v0 exports and imports (wasm32 only).
 *
 * Pulled into a module instead of abi_v1.c when the transport is compiled
 * with -DWATM_ABI_V0. Same roles and worker; the differences are names, the
 * config arriving as an fd from env.pull_config (-EACCES: none), and
 * env.host_defer called when the worker ends.
 */
#include "wasi.h"

/* Referenced by WATM_REGISTER under WATM_ABI_V0. */
const char watm__abi_v0 = 1;

WATM_IMPORT(host_dial) int32_t watm_import_host_dial(void);
WATM_IMPORT(host_accept) int32_t watm_import_host_accept(void);
WATM_IMPORT(pull_config) int32_t watm_import_pull_config(void);
WATM_IMPORT(host_defer) void watm_import_host_defer(void);

/* The version marker: hosts look for the name only. */
WATM_EXPORT(_water_v0) void watm_water_v0(void)
{
}

/* The config arrives as an fd from env.pull_config; -EACCES: none. */
static int v0_load_config(uint8_t **cfg, size_t *len)
{
    int32_t fd = watm_import_pull_config();
    if (fd == -WATM_EACCES)
        return 0;
    if (fd < 0) {
        watm_log_num("init: pull_config failed, errno", -fd);
        return fd;
    }
    int r = watm_config_read_fd(fd, cfg, len);
    (void)watm_sys_close(fd);
    if (r < 0)
        watm_log_num("init: cannot read the config, errno", -r);
    return r;
}

static int v0_init(void)
{
    return watm_init_once(v0_load_config, watm_session_configure);
}

WATM_EXPORT(_water_init) int32_t watm_water_init(void)
{
    return v0_init();
}

WATM_EXPORT(_water_cancel_with) int32_t watm_water_cancel_with(int32_t cancel_fd)
{
    return watm_session_set_ctrl(cancel_fd);
}

static int32_t role_with(enum watm_role role, int32_t caller_fd,
                         int32_t (*connect)(void), const char *what)
{
    int r = v0_init();
    if (r < 0)
        return r;
    if (watm_state.role != WATM_ROLE_NONE)
        return -WATM_EBUSY;
    if (caller_fd < 0)
        return -WATM_EBADF;
    int32_t net = connect();
    if (net < 0) {
        watm_log_num(what, -net);
        return net;
    }
    r = watm_session_set_role(role, caller_fd, net);
    return r < 0 ? r : net;
}

WATM_EXPORT(_water_dial) int32_t watm_water_dial(int32_t caller_fd)
{
    return role_with(WATM_ROLE_DIALER, caller_fd, watm_import_host_dial,
                     "dial: host_dial failed, errno");
}

WATM_EXPORT(_water_accept) int32_t watm_water_accept(int32_t caller_fd)
{
    return role_with(WATM_ROLE_LISTENER, caller_fd, watm_import_host_accept,
                     "accept: host_accept failed, errno");
}

WATM_EXPORT(_water_associate) int32_t watm_water_associate(void)
{
    int r = v0_init();
    if (r < 0)
        return r;
    if (watm_state.role != WATM_ROLE_NONE)
        return -WATM_EBUSY;
    int32_t in = watm_import_host_accept();
    if (in < 0) {
        watm_log_num("associate: host_accept failed, errno", -in);
        return in;
    }
    int32_t out = watm_import_host_dial();
    if (out < 0) {
        watm_log_num("associate: host_dial failed, errno", -out);
        (void)watm_sys_close(in);
        return out;
    }
    r = watm_session_set_role(WATM_ROLE_RELAY, in, out);
    return r < 0 ? r : 0;
}

WATM_EXPORT(_water_worker) int32_t watm_water_worker(void)
{
    int32_t r = watm_session_start();
    watm_import_host_defer();
    return r;
}
