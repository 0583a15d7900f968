/*
 * error.h - filling wasm_error (internal).
 */
#ifndef WATER_WASM_ERROR_H
#define WATER_WASM_ERROR_H

#include "water/wasm.h"

/* Sets err (if non-NULL) and returns `code`. `offset` is a byte offset in the
 * module or UINT32_MAX; the message is prefixed with it when known. */
wasm_err wasm_error_set(wasm_error *err, wasm_err code, uint32_t offset,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Clears err to WASM_OK. */
void wasm_error_clear(wasm_error *err);

#endif
