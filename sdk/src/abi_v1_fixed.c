/*
 * abi_v1_fixed.c - the v1 fixed dialer role (wasm32 only): the module names
 * its destination, "dial_address" from the config (or whatever the
 * transport's configure hook set with watm_set_dial_address), and asks the
 * host to dial it through env.water_dial. Pulled in by
 * WATM_OFFER_FIXED_DIALER().
 */
#include "wasi.h"

#include <string.h>

/* Referenced by WATM_OFFER_FIXED_DIALER. */
const char watm__abi_v1_fixed = 1;

/* Each argument pair is a ciovec array: 8 bytes per entry, u32 pointer and
 * u32 length, which is exactly __wasi_ciovec_t on wasm32. */
WATM_IMPORT(water_dial)
int32_t watm_import_water_dial(const __wasi_ciovec_t *net_iovs, size_t net_iovs_len,
                               const __wasi_ciovec_t *addr_iovs, size_t addr_iovs_len);

WATM_EXPORT(watm_dial_fixed_v1) int32_t watm_dial_fixed_v1(int32_t internal_fd)
{
    int r = watm_v1_init();
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
    static const char network[] = "tcp";
    __wasi_ciovec_t net = {.buf = (const uint8_t *)network, .buf_len = 3};
    __wasi_ciovec_t dst = {.buf = (const uint8_t *)addr, .buf_len = strlen(addr)};
    int32_t fd = watm_import_water_dial(&net, 1, &dst, 1);
    if (fd < 0) {
        watm_log_num("dial_fixed: water_dial failed, errno", -fd);
        return fd;
    }
    r = watm_session_set_role(WATM_ROLE_FIXED_DIALER, internal_fd, fd);
    return r < 0 ? r : fd;
}
