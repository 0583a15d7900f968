/*
 * watm_v1.h - the pieces of the SDK's WATM v1 glue, for a module that
 * defines its own v1 exports instead of using WATM_REGISTER.
 *
 * WATM_REGISTER gives a module the SDK's whole set of v1 exports: the roles
 * of WATM-ABI.md, each connecting its network side at once, and the SDK's
 * worker. A module whose roles do not fit that shape (transports/shadowsocks:
 * its relay role accepts in watm_associate_v1 and dials the target only after
 * reading it from the client on the worker thread; it has no listener role)
 * writes its exports itself, with WATM_EXPORT, and takes from here what
 * stays the same: the once-per-instance init with the config, and the host's
 * env imports. It runs its own loop over watm_sys.h.
 *
 * Such a module must not use WATM_REGISTER (the SDK's exports would clash
 * with its own), and links libwatm.a as any transport does; the SDK still
 * provides _start. wasm32 only.
 *
 * Results: >= 0 success, minus a WASI errno (WATM_E*) on failure.
 */
#ifndef WATM_V1_H
#define WATM_V1_H

#include "watm.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exports the function that follows under `name`:
 *   WATM_EXPORT(watm_init_v1) int32_t my_init(void) { ... } */
#define WATM_EXPORT(name) __attribute__((export_name(#name)))

/*
 * The init every v1 export starts with. The first call runs the module's C
 * constructors, reads /conf/watm.cfg from the host's /conf preopen and
 * passes the bytes to apply (cfg == NULL, len == 0 when there is no such
 * preopen or file; cfg != NULL, len == 0 for an empty file). The bytes are
 * valid during apply only: they are zeroed (a config may hold a password)
 * and freed when it returns. Returns apply's result, or the error reading
 * the file (logged). Once a call has succeeded, later calls return 0 and do
 * nothing; after a failure the next call tries again.
 */
int watm_v1_init(int (*apply)(const uint8_t *cfg, size_t len));

/*
 * The host's env imports of WATM v1 (WATM-ABI.md). Each returns a new
 * connected fd owned by the module, or a negative errno. A module imports
 * only the ones it calls.
 */
/* env.water_dial_fixed: the host dials the remote it was given (dialer,
 * relay). */
int32_t watm_v1_host_dial_fixed(void);
/* env.water_accept: the next connection on the host's listener (listener,
 * relay). */
int32_t watm_v1_host_accept(void);
/* env.water_dial("tcp", address): the host dials "host:port" itself, if its
 * policy allows the address (WATER-in-C: --allow-dial). address is a
 * NUL-terminated string, the caller's, read during the call only. */
int32_t watm_v1_host_dial(const char *address);

#ifdef __cplusplus
}
#endif
#endif /* WATM_V1_H */
