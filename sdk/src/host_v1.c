/*
 * host_v1.c - the v1 pieces shared by the SDK's exports (abi_v1.c,
 * abi_v1_fixed.c) and by modules with exports of their own (watm_v1.h):
 * the init with /conf/watm.cfg, and the env imports, each declared once
 * here (wasm32 only).
 *
 * A module imports only the env functions it calls: wasm-ld drops the
 * imports of functions nothing reaches, so a transport without the fixed
 * dialer role still does not import env.water_dial.
 */
#include "wasi.h"

#include <string.h>

WATM_IMPORT(water_dial_fixed) int32_t watm_import_water_dial_fixed(void);
WATM_IMPORT(water_accept) int32_t watm_import_water_accept(void);
/* Each argument pair is a ciovec array: 8 bytes per entry, u32 pointer and
 * u32 length, which is exactly __wasi_ciovec_t on wasm32. */
WATM_IMPORT(water_dial)
int32_t watm_import_water_dial(const __wasi_ciovec_t *net_iovs, size_t net_iovs_len,
                               const __wasi_ciovec_t *addr_iovs, size_t addr_iovs_len);

int watm_v1_init(int (*apply)(const uint8_t *cfg, size_t len))
{
    return watm_init_once(watm_wasi_read_conf, apply);
}

int32_t watm_v1_host_dial_fixed(void)
{
    return watm_import_water_dial_fixed();
}

int32_t watm_v1_host_accept(void)
{
    return watm_import_water_accept();
}

int32_t watm_v1_host_dial(const char *address)
{
    static const char network[] = "tcp";
    __wasi_ciovec_t net = {.buf = (const uint8_t *)network, .buf_len = sizeof network - 1};
    __wasi_ciovec_t dst = {.buf = (const uint8_t *)address, .buf_len = strlen(address)};
    return watm_import_water_dial(&net, 1, &dst, 1);
}
