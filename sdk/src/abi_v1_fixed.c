/*
 * abi_v1_fixed.c - the v1 fixed dialer role (wasm32 only): the module names
 * its destination, "dial_address" from the config (or whatever the
 * transport's configure hook set with watm_set_dial_address), and asks the
 * host to dial it through env.water_dial (watm_v1_host_dial). Pulled in by
 * WATM_OFFER_FIXED_DIALER().
 */
#include "wasi.h"

/* Referenced by WATM_OFFER_FIXED_DIALER. */
const char watm__abi_v1_fixed = 1;

WATM_EXPORT(watm_dial_fixed_v1) int32_t watm_dial_fixed_v1(int32_t internal_fd)
{
    int r = watm_v1_init(watm_session_configure);
    if (r < 0)
        return r;
    if (watm_state.role != WATM_ROLE_NONE)
        return -WATM_EBUSY;
    if (internal_fd < 0)
        return -WATM_EBADF;
    const char *addr = watm_dial_address();
    if (addr == NULL) {
        watm_log("dial_fixed: no \"dial_address\" in the config");
        return -WATM_EINVAL;
    }
    int32_t fd = watm_v1_host_dial(addr);
    if (fd < 0) {
        watm_log_num("dial_fixed: water_dial failed, errno", -fd);
        return fd;
    }
    r = watm_session_set_role(WATM_ROLE_FIXED_DIALER, internal_fd, fd);
    return r < 0 ? r : fd;
}
