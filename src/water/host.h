/*
 * host.h - the WATER host's internal structures (src/water/).
 *
 * A transport owns the compiled module and one linker (WASI plus the WATER
 * imports), both read-only after load. A connection owns one instance, its
 * WASI context (fd table), the host end of its control pipe and its worker
 * thread. Host functions reach their connection through the WASI context's
 * user pointer.
 */
#ifndef WATER_HOST_H
#define WATER_HOST_H

#include "water.h"

#include "wasi/wasi.h"
#include "water/wasm.h"

#include <pthread.h>

/* Names of the exports of one ABI version; NULL where the version has none. */
typedef struct water_abi_names {
    const char *init, *dial, *dial_fixed, *accept, *associate, *ctrl, *start;
} water_abi_names;

struct water_transport {
    wasm_module *module;
    wasm_linker *linker;
    uint8_t *config;
    size_t config_len;
    bool has_config;
    water_options opts;       /* copy; allow_dial points to `allow` */
    char **allow;
    size_t nallow;
    water_info info;
    water_abi_names names;
    bool has_start;           /* exports _start */
};

typedef enum water_role {
    ROLE_DIAL,
    ROLE_DIAL_FIXED,
    ROLE_ACCEPT,
    ROLE_RELAY,
} water_role;

struct water_conn {
    water_transport *t;
    water_role role;
    wasm_instance *inst;
    wasi_ctx *wasi;
    int app_fd;               /* our end of the socket pair, or -1 */
    int ctrl_w;               /* host end of the control pipe, or -1 */
    char *network, *address;  /* what water_dial_fixed/host_dial dials */
    int pending_net_fd;       /* what water_accept/host_accept hands over */
    water_error host_error;   /* why a host function failed, for messages */

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;                /* the worker has returned (under lock) */
    bool stop_sent;           /* the stop byte was written (under lock) */
    water_error result;       /* how it ended */
};

/* error.c */
water_err water_error_set(water_error *err, water_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void water_log(const water_transport *t, water_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* imports.c: defines the env.* imports of both ABI versions on l. */
wasm_err water_define_imports(wasm_linker *l);

/* net.c */
bool water_address_allowed(const water_transport *t, const char *address);

#endif
