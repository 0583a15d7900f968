/*
 * abi_v1.c - the WATM v1 exports of a WATM_REGISTER module (wasm32 only).
 *
 * Pulled into a module by WATM_REGISTER (through the watm__abi_v1 anchor).
 * The fixed dialer role lives in abi_v1_fixed.c so that only transports that
 * offer it export watm_dial_fixed_v1 and import env.water_dial.
 *
 * Sequence (WATM-ABI.md): _start, watm_init_v1, one role export,
 * watm_ctrlpipe_v1, then watm_start_v1 on the worker thread. The init and
 * the env imports are host_v1.c's (watm_v1.h), shared with modules that
 * write their own exports.
 */
#include "wasi.h"

/* Referenced by WATM_REGISTER so that the linker pulls this file in. */
const char watm__abi_v1 = 1;

WATM_EXPORT(watm_init_v1) int32_t watm_init_v1(void)
{
    return watm_v1_init(watm_session_configure);
}

WATM_EXPORT(watm_ctrlpipe_v1) int32_t watm_ctrlpipe_v1(int32_t ctrl_fd)
{
    return watm_session_set_ctrl(ctrl_fd);
}

/* Runs a role whose network side comes from one host import. */
static int32_t role_with(enum watm_role role, int32_t internal_fd,
                         int32_t (*connect)(void), const char *what)
{
    int r = watm_v1_init(watm_session_configure);
    if (r < 0)
        return r;
    if (watm_state.role != WATM_ROLE_NONE)
        return -WATM_EBUSY;
    if (internal_fd < 0)
        return -WATM_EBADF;
    int32_t net = connect();
    if (net < 0) {
        watm_log_num(what, -net);
        return net;
    }
    r = watm_session_set_role(role, internal_fd, net);
    return r < 0 ? r : net;
}

WATM_EXPORT(watm_dial_v1) int32_t watm_dial_v1(int32_t internal_fd)
{
    return role_with(WATM_ROLE_DIALER, internal_fd, watm_v1_host_dial_fixed,
                     "dial: water_dial_fixed failed, errno");
}

WATM_EXPORT(watm_accept_v1) int32_t watm_accept_v1(int32_t internal_fd)
{
    return role_with(WATM_ROLE_LISTENER, internal_fd, watm_v1_host_accept,
                     "accept: water_accept failed, errno");
}

WATM_EXPORT(watm_associate_v1) int32_t watm_associate_v1(void)
{
    int r = watm_v1_init(watm_session_configure);
    if (r < 0)
        return r;
    if (watm_state.role != WATM_ROLE_NONE)
        return -WATM_EBUSY;
    int32_t in = watm_v1_host_accept();
    if (in < 0) {
        watm_log_num("associate: water_accept failed, errno", -in);
        return in;
    }
    int32_t out = watm_v1_host_dial_fixed();
    if (out < 0) {
        watm_log_num("associate: water_dial_fixed failed, errno", -out);
        (void)watm_sys_close(in);
        return out;
    }
    r = watm_session_set_role(WATM_ROLE_RELAY, in, out);
    return r < 0 ? r : 0;
}

WATM_EXPORT(watm_start_v1) int32_t watm_start_v1(void)
{
    return watm_session_start();
}
