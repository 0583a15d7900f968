/*
 * wasi.h - what the WASI-only files of the SDK share (wasm32 builds only).
 */
#ifndef WATM_WASI_H
#define WATM_WASI_H

#include "internal.h"

#include <wasi/api.h>

#define WATM_EXPORT(name) __attribute__((export_name(#name)))
#define WATM_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

/* Runs the module's C constructors once (from _start or the first export). */
void watm_wasi_ctors(void);

/* Reads /conf/watm.cfg from the host's preopened /conf directory.
 * *cfg = NULL, *len = 0 when there is no such preopen or file.
 * 0 or a negative errno. The caller frees *cfg. */
int watm_wasi_read_conf(uint8_t **cfg, size_t *len);

/* v1 init, shared by abi_v1.c and abi_v1_fixed.c: reads and applies the
 * config once. 0 or a negative errno. */
int watm_v1_init(void);

#endif /* WATM_WASI_H */
