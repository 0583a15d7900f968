/*
 * linker.h - linker definitions (internal; the API is in water/wasm.h).
 */
#ifndef WATER_WASM_LINKER_H
#define WATER_WASM_LINKER_H

#include "runtime.h"

typedef enum { DEF_HOST_FUNC, DEF_INSTANCE_EXPORT } wasm_def_kind;

typedef struct wasm_linker_def {
    char *module, *name;       /* NUL-terminated; names may hold NULs */
    uint32_t module_len, name_len;
    wasm_def_kind kind;
    /* DEF_HOST_FUNC */
    wasm_type *type;
    wasm_host_fn fn;
    void *env;
    /* DEF_INSTANCE_EXPORT */
    wasm_instance *inst;
    uint32_t export_index;
} wasm_linker_def;

struct wasm_linker {
    wasm_linker_def *defs;
    uint32_t ndefs, cap;
    bool allow_unresolved;
};

/* Names may contain NUL bytes in wasm, hence the lengths. */
const wasm_linker_def *wasm_linker_find(const wasm_linker *l, const char *module,
                                        uint32_t module_len, const char *name,
                                        uint32_t name_len);

#endif
