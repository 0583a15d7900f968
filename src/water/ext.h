/*
 * ext.h - what the files of the water_ext_v1 host extension share
 * (ext.c: state, handles, argument checks, linking; ext_crypto.c: the
 * stateless crypto functions; ext_tls.c: TLS). The contract is
 * docs/host-extension.md.
 *
 * Every host function here returns one i32 to the guest: >= 0 on success,
 * minus a WASI errno on failure. None of them ever traps because of an
 * argument: every pointer goes through ext_buf() (wasm_memory_ptr, the one
 * checked door into guest memory), every length through the 16 MiB cap.
 */
#ifndef WATER_EXT_H
#define WATER_EXT_H

#include "host.h"

#include <stdbool.h>
#include <stdint.h>

#define EXT_MODULE "water_ext_v1"
/* Largest length or capacity one call accepts (-EMSGSIZE above). */
#define EXT_MAX_LEN (16u << 20)
/* TLS sessions one instance may hold at once (-EMFILE above). */
#define EXT_MAX_SESSIONS 64

/* Maps the guest buffer [ptr, ptr + len) to *out. Returns 0, -WASI_EMSGSIZE
 * when len exceeds EXT_MAX_LEN, or -WASI_EFAULT when any byte of it is
 * outside memory 0 (a zero-length buffer must still start inside memory or
 * at its end). */
int ext_buf(wasm_instance *inst, uint32_t ptr, uint32_t len, uint8_t **out);

/* True when an output [out, out + out_len) may be written while the input
 * [in, in + in_len) is still needed: the two are disjoint or start at the
 * same byte (in place). Empty ranges never conflict. */
bool ext_no_partial_overlap(const uint8_t *out, size_t out_len, const uint8_t *in,
                            size_t in_len);

/* Per-instance state; created on first use. NULL when the instance has no
 * WATER guest state (no transport) or memory is short. */
struct water_ext *ext_state(wasm_instance *inst);

/* The TLS session behind handle h of the instance, or NULL (freed, unknown,
 * or no state). */
struct ext_tls *ext_session(wasm_instance *inst, int32_t h);
/* Stores s under the lowest free handle; returns it, or -WASI_EMFILE /
 * -WASI_ENOMEM (the caller then frees s). */
int32_t ext_session_add(wasm_instance *inst, struct ext_tls *s);
/* Removes handle h (the caller frees the session). */
void ext_session_remove(wasm_instance *inst, int32_t h);

/* ext_crypto.c */
wasm_err ext_crypto_define(wasm_linker *l);
/* ext_tls.c */
wasm_err ext_tls_define(wasm_linker *l);
void ext_tls_session_free(struct ext_tls *s);

#endif
