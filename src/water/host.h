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
    water_options opts;       /* copy; allow_dial points to `allow`,
                                 allow_listen to `listen_allow` */
    char **allow;
    size_t nallow;
    char **listen_allow;
    size_t nlisten_allow;
    water_info info;
    water_abi_names names;
    bool has_start;           /* exports _start */
    struct water_tls_ctx *tls; /* ext_tls.c: the SSL_CTXs built from opts.tls
                                  at load; NULL when the module uses no TLS */
};

typedef enum water_role {
    ROLE_DIAL,
    ROLE_DIAL_FIXED,
    ROLE_ACCEPT,
    ROLE_RELAY,
} water_role;

/* What the WASI context's user pointer of every module instance points to:
 * the first member of water_conn (and of the runner's state), so that host
 * functions find the transport's options and the instance's extension
 * state (water_ext_v1: TLS sessions) without knowing the rest. */
typedef struct water_guest {
    water_transport *t;
    struct water_ext *ext;    /* created on first use, freed with the instance */
} water_guest;

struct water_conn {
    water_guest g;            /* first: see water_guest */
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

/* The guest state of an instance (through its WASI context), or NULL. */
water_guest *water_guest_of(wasm_instance *inst);
/* ext_*.c: frees what an instance holds in water_ext_v1 (NULL is ignored). */
void water_ext_free(struct water_ext *ext);

/* error.c */
water_err water_error_set(water_error *err, water_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void water_log(const water_transport *t, water_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* imports.c: defines the env.* imports of both ABI versions on l. */
wasm_err water_define_imports(wasm_linker *l);

/* transport.c: fills t->opts from opts (may be NULL) with defaults, copying
 * the allow-lists (freed by water_transport_free). Also used by runner.c. */
bool water_transport_copy_options(water_transport *t, const water_options *opts,
                                  water_error *err);

/* net.c. water_connect_tcp/water_listen_tcp leave the cause in errno when
 * they fail (EINVAL for a bad address, EHOSTUNREACH for an unknown host). */
bool water_address_allowed(const water_transport *t, const char *address);
/* Before each call into a module: its fuel per the options (spin_fuel,
 * else fuel). */
void water_meter(const water_transport *t, wasm_instance *inst);
/* The error for a failed call of `name` into a module (a trap, an exit),
 * naming the limit when it was the spin budget. */
water_err water_call_error(const water_transport *t, const char *name, const wasm_error *e,
                           water_error *err);
bool water_listen_allowed(const water_transport *t, const char *address);

/* ext.c: defines the water_ext_v1 crypto and TLS functions on l
 * (docs/host-extension.md). */
wasm_err water_ext_define(wasm_linker *l);
/* ext_tls.c: when t's module imports water_ext_v1 TLS functions, builds the
 * client (and, with a certificate and key, the server) SSL_CTX from
 * t->opts.tls; false with a message naming the bad file or setting. */
bool water_ext_tls_load(water_transport *t, water_error *err);
/* ext_tls.c: frees what water_ext_tls_load built (t->tls may be NULL). */
void water_ext_tls_unload(water_transport *t);

/* ext_net.c: water_ext_v1.tcp_connect and tcp_listen (safe in any instance:
 * they use only the caller's water_guest and WASI context). */
wasm_err water_ext_net_define(wasm_linker *l);
/* ext_net.c: the water-rs "v1 preview" env.connect_tcp and env.create_listen,
 * for runner mode only (their names are free for transports to use). */
wasm_err water_preview_net_define(wasm_linker *l);

#endif
