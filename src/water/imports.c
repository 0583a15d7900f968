/*
 * imports.c - the host functions a transport module imports from `env`:
 * v1 water_dial_fixed, water_dial, water_accept; v0 host_dial, host_accept,
 * pull_config, host_defer.
 *
 * Results follow the ABI: a guest fd (>= 0) or minus a WASI errno. Why a
 * call failed is also kept in the connection (host_error) so that the
 * setup error names the real cause ("dial 127.0.0.1:9: Connection refused")
 * rather than only the module's return code.
 */
#include "host.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_NAME 256 /* bytes of a network or address string (ABI) */

water_guest *water_guest_of(wasm_instance *inst)
{
    wasi_ctx *w = wasi_ctx_of(inst);
    return w ? wasi_ctx_user(w) : NULL;
}

/* The env imports exist only for connections (never in runner mode). */
static water_conn *conn_of(wasm_instance *caller)
{
    return (water_conn *)water_guest_of(caller);
}

/* Inserts a connected socket into the module's fd table; returns the guest
 * fd or minus a WASI errno (and closes fd on failure). */
static int32_t hand_over(water_conn *c, int fd)
{
    uint32_t guest;
    int e = wasi_fd_insert(c->wasi, fd, WASI_FD_SOCKET_STREAM, &guest);
    if (e) {
        close(fd);
        water_error_set(&c->host_error, WATER_ERR_SYSTEM,
                        "cannot give the socket to the module: %s", wasi_strerror(e));
        return -e;
    }
    return (int32_t)guest;
}

static int32_t dial_for(water_conn *c, const char *network, const char *address)
{
    if (strcmp(network, "tcp") && strcmp(network, "tcp4") && strcmp(network, "tcp6")) {
        water_error_set(&c->host_error, WATER_ERR_ARGS,
                        "dial %s %s: only tcp is supported", network, address);
        return -WASI_ENOTCONN;
    }
    int fd = water_connect_tcp(address, c->t->opts.dial_timeout_ms, &c->host_error);
    if (fd < 0) {
        /* Info only: a dial during setup fails the connection with this
         * message, which the caller reports. */
        water_log(c->t, WATER_LOG_INFO, "%s", c->host_error.message);
        return -WASI_ENOTCONN;
    }
    return hand_over(c, fd);
}

/* water_dial_fixed / host_dial: dial what the application asked for. */
static wasm_trap imp_dial_fixed(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)env;
    water_conn *c = conn_of(caller);
    if (!c || !c->address) {
        if (c)
            water_error_set(&c->host_error, WATER_ERR_ROLE,
                            "the module dialed, but this role has no remote address");
        s[0].i32 = -WASI_ENODEV;
        return WASM_TRAP_NONE;
    }
    s[0].i32 = dial_for(c, c->network, c->address);
    return WASM_TRAP_NONE;
}

/* Concatenates a WASI ciovec array from guest memory into buf (NUL-ended).
 * Returns false for a bad pointer or more than MAX_NAME bytes. */
static bool gather(wasm_instance *inst, uint32_t iovs, uint32_t n, char *buf)
{
    size_t len = 0;
    if (n > MAX_NAME)
        return false;
    const uint8_t *vec = wasm_memory_ptr(inst, iovs, (uint64_t)n * 8);
    if (!vec && n)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ptr = (uint32_t)vec[8 * i] | (uint32_t)vec[8 * i + 1] << 8 |
                       (uint32_t)vec[8 * i + 2] << 16 | (uint32_t)vec[8 * i + 3] << 24;
        uint32_t l = (uint32_t)vec[8 * i + 4] | (uint32_t)vec[8 * i + 5] << 8 |
                     (uint32_t)vec[8 * i + 6] << 16 | (uint32_t)vec[8 * i + 7] << 24;
        if (l > MAX_NAME - len)
            return false;
        const void *p = wasm_memory_ptr(inst, ptr, l);
        if (!p && l)
            return false;
        if (l)
            memcpy(buf + len, p, l);
        len += l;
    }
    buf[len] = '\0';
    return memchr(buf, '\0', len) == NULL;
}

/* water_dial(net_iovs, net_len, addr_iovs, addr_len): the module names the
 * destination; the allow-list decides. */
static wasm_trap imp_water_dial(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)env;
    water_conn *c = conn_of(caller);
    char network[MAX_NAME + 1], address[MAX_NAME + 1];
    if (!c) {
        s[0].i32 = -WASI_ENODEV;
        return WASM_TRAP_NONE;
    }
    if (!gather(caller, s[0].u32, s[1].u32, network) ||
        !gather(caller, s[2].u32, s[3].u32, address)) {
        water_error_set(&c->host_error, WATER_ERR_ARGS,
                        "water_dial: bad iovec or string longer than %d bytes", MAX_NAME);
        s[0].i32 = -WASI_EINVAL;
        return WASM_TRAP_NONE;
    }
    if (!water_address_allowed(c->t, address)) {
        water_error_set(&c->host_error, WATER_ERR_DENIED,
                        "the module may not dial %s: not in the allow-list", address);
        water_log(c->t, WATER_LOG_WARN, "%s", c->host_error.message);
        s[0].i32 = -WASI_ENOTCONN;
        return WASM_TRAP_NONE;
    }
    s[0].i32 = dial_for(c, network, address);
    return WASM_TRAP_NONE;
}

/* water_accept / host_accept: hand over the accepted connection, once. */
static wasm_trap imp_accept(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)env;
    water_conn *c = conn_of(caller);
    if (!c || c->pending_net_fd < 0) {
        if (c)
            water_error_set(&c->host_error, WATER_ERR_ROLE,
                            "the module accepted, but no connection is waiting");
        s[0].i32 = -WASI_ENODEV;
        return WASM_TRAP_NONE;
    }
    int fd = c->pending_net_fd;
    c->pending_net_fd = -1;
    s[0].i32 = hand_over(c, fd);
    return WASM_TRAP_NONE;
}

/* pull_config (v0): the config as a readable fd, or -EACCES without one. */
static wasm_trap imp_pull_config(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)env;
    water_conn *c = conn_of(caller);
    uint32_t guest;
    /* The instance's own config: the transport's or the connection's
     * (water_dial_with); ENOENT when it has none. */
    int e = c ? wasi_config_fd_open(c->wasi, &guest) : WASI_ENOENT;
    s[0].i32 = e == WASI_ENOENT ? -WASI_EACCES : e ? -e : (int32_t)guest;
    return WASM_TRAP_NONE;
}

static wasm_trap imp_defer(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)caller;
    (void)env;
    (void)s;
    return WASM_TRAP_NONE;
}

static const struct {
    const char *name, *sig;
    wasm_host_fn fn;
} imports[] = {
    {"water_dial_fixed", "->i", imp_dial_fixed},
    {"water_dial", "iiii->i", imp_water_dial},
    {"water_accept", "->i", imp_accept},
    {"host_dial", "->i", imp_dial_fixed},
    {"host_accept", "->i", imp_accept},
    {"pull_config", "->i", imp_pull_config},
    {"host_defer", "->", imp_defer},
};

wasm_err water_define_imports(wasm_linker *l)
{
    for (size_t i = 0; i < sizeof imports / sizeof imports[0]; i++) {
        wasm_err e = wasm_linker_define_func(l, "env", imports[i].name, imports[i].sig,
                                             imports[i].fn, NULL);
        if (e != WASM_OK)
            return e;
    }
    return WASM_OK;
}
