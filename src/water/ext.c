/*
 * ext.c - the water_ext_v1 host extension (docs/host-extension.md): the
 * per-instance state (a table of TLS session handles), the argument checks
 * every function shares, and linking.
 *
 * The state of an instance hangs off its water_guest (host.h), found through
 * the WASI context's user pointer; it is created on the first TLS call and
 * freed with the instance (water_ext_free). Only the thread running the
 * instance touches it, so there is no lock.
 */
#include "ext.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct water_ext {
    struct ext_tls *sessions[EXT_MAX_SESSIONS];
    uint32_t used; /* 1 + the highest handle ever used */
};

int ext_buf(wasm_instance *inst, uint32_t ptr, uint32_t len, uint8_t **out)
{
    if (len > EXT_MAX_LEN)
        return -WASI_EMSGSIZE;
    uint8_t *p = wasm_memory_ptr(inst, ptr, len);
    if (!p)
        return -WASI_EFAULT;
    *out = p;
    return 0;
}

bool ext_no_partial_overlap(const uint8_t *out, size_t out_len, const uint8_t *in,
                            size_t in_len)
{
    if (out_len == 0 || in_len == 0 || out == in)
        return true;
    uintptr_t o = (uintptr_t)out, i = (uintptr_t)in;
    return o + out_len <= i || i + in_len <= o;
}

struct water_ext *ext_state(wasm_instance *inst)
{
    water_guest *g = water_guest_of(inst);
    if (!g)
        return NULL;
    if (!g->ext)
        g->ext = calloc(1, sizeof *g->ext);
    return g->ext;
}

struct ext_tls *ext_session(wasm_instance *inst, int32_t h)
{
    water_guest *g = water_guest_of(inst);
    if (!g || !g->ext || h < 0 || (uint32_t)h >= g->ext->used)
        return NULL;
    return g->ext->sessions[h];
}

int32_t ext_session_add(wasm_instance *inst, struct ext_tls *s)
{
    struct water_ext *x = ext_state(inst);
    if (!x)
        return -WASI_ENOMEM;
    for (uint32_t h = 0; h < EXT_MAX_SESSIONS; h++) {
        if (!x->sessions[h]) {
            x->sessions[h] = s;
            if (h >= x->used)
                x->used = h + 1;
            return (int32_t)h;
        }
    }
    return -WASI_EMFILE;
}

void ext_session_remove(wasm_instance *inst, int32_t h)
{
    water_guest *g = water_guest_of(inst);
    if (g && g->ext && h >= 0 && (uint32_t)h < g->ext->used)
        g->ext->sessions[h] = NULL;
}

void water_ext_free(struct water_ext *ext)
{
    if (!ext)
        return;
    for (uint32_t h = 0; h < ext->used; h++)
        ext_tls_session_free(ext->sessions[h]);
    free(ext);
}

wasm_err water_ext_define(wasm_linker *l)
{
    /* OpenSSL's one-time global set-up, here on the thread that loads the
     * transport rather than lazily on some short-lived connection thread,
     * whose thread-local state it would leave behind. */
    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
    wasm_err e = ext_crypto_define(l);
    return e != WASM_OK ? e : ext_tls_define(l);
}
