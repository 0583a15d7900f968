/*
 * wasi.h - what the WASI-only files of the SDK share (wasm32 builds only).
 */
#ifndef WATM_WASI_H
#define WATM_WASI_H

#include "internal.h"
#include "watm_v1.h" /* WATM_EXPORT, watm_v1_init, the v1 env imports */

#include <wasi/api.h>

#define WATM_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

/* Runs the module's C constructors once (from _start or the first export). */
void watm_wasi_ctors(void);

/* Reads /conf/watm.cfg from the host's preopened /conf directory.
 * *cfg = NULL, *len = 0 when there is no such preopen or file.
 * 0 or a negative errno. The caller frees *cfg. */
int watm_wasi_read_conf(uint8_t **cfg, size_t *len);

/*
 * The init of every ABI (v1 through watm_v1_init, v0 with its own load):
 * the first call runs the C constructors, then load (a malloc'd config, or
 * NULL/0 for none), then apply; zeroes and frees the config. Once a call
 * has succeeded later calls return 0 and do nothing; after a failure the
 * next call tries again. 0 or the first negative errno.
 */
int watm_init_once(int (*load)(uint8_t **cfg, size_t *len),
                   int (*apply)(const uint8_t *cfg, size_t len));

#endif /* WATM_WASI_H */
