/*
 * module.h - the decoded, validated, compiled module (internal).
 *
 * Stages hand over explicit results: decode.c fills every field except the
 * compiled code and validates everything outside function bodies;
 * compile.c validates each body and translates it to internal code
 * (wasm_code). After wasm_module_new() returns, a module is immutable.
 *
 * Index spaces follow the spec: imported functions (tables, memories,
 * globals) come first, then the module's own definitions.
 */
#ifndef WATER_WASM_MODULE_H
#define WATER_WASM_MODULE_H

#include "water/wasm.h"

#include <stdint.h>

/* A function type. `id` is a process-wide canonical id: two types are equal
 * iff their ids are equal (types.c interns them). */
typedef struct wasm_type {
    uint32_t nparams, nresults;
    wasm_valtype *params;  /* nparams entries */
    wasm_valtype *results; /* nresults entries */
    uint32_t id;
} wasm_type;

typedef struct wasm_limits {
    uint32_t min, max;
    bool has_max;
} wasm_limits;

typedef struct wasm_tabletype {
    wasm_valtype elem; /* WASM_FUNCREF or WASM_EXTERNREF */
    wasm_limits limits;
} wasm_tabletype;

typedef struct wasm_globaltype {
    wasm_valtype type;
    bool mutable_;
} wasm_globaltype;

/* A constant expression (2.0 has exactly one instruction before `end`). */
typedef enum wasm_const_kind {
    WASM_CONST_I32,
    WASM_CONST_I64,
    WASM_CONST_F32,
    WASM_CONST_F64,
    WASM_CONST_REF_NULL,
    WASM_CONST_REF_FUNC,
    WASM_CONST_GLOBAL_GET,
} wasm_const_kind;

typedef struct wasm_const_expr {
    wasm_const_kind kind;
    wasm_valtype type;  /* the expression's result type */
    uint64_t bits;      /* I32/I64/F32/F64: raw bits (i32 zero-extended) */
    uint32_t index;     /* REF_FUNC: function index; GLOBAL_GET: global index */
} wasm_const_expr;

typedef struct wasm_import {
    char *module, *name; /* NUL-terminated copies; valid UTF-8 */
    uint32_t module_len, name_len;
    wasm_externkind kind;
    uint32_t type_index;      /* FUNC */
    wasm_tabletype table;     /* TABLE */
    wasm_limits memory;       /* MEMORY */
    wasm_globaltype global;   /* GLOBAL */
} wasm_import;

typedef struct wasm_export {
    char *name;
    uint32_t name_len;
    wasm_externkind kind;
    uint32_t index;
} wasm_export;

typedef struct wasm_global_def {
    wasm_globaltype type;
    wasm_const_expr init;
} wasm_global_def;

typedef enum wasm_segment_mode {
    WASM_SEG_ACTIVE,
    WASM_SEG_PASSIVE,
    WASM_SEG_DECLARATIVE, /* element segments only */
} wasm_segment_mode;

typedef struct wasm_elem_segment {
    wasm_segment_mode mode;
    wasm_valtype type;       /* WASM_FUNCREF or WASM_EXTERNREF */
    uint32_t table_index;    /* ACTIVE */
    wasm_const_expr offset;  /* ACTIVE; type i32 */
    uint32_t count;
    wasm_const_expr *items;  /* count entries: REF_FUNC, REF_NULL or GLOBAL_GET */
} wasm_elem_segment;

typedef struct wasm_data_segment {
    wasm_segment_mode mode;
    uint32_t memory_index;   /* ACTIVE (always 0 in 2.0) */
    wasm_const_expr offset;  /* ACTIVE; type i32 */
    uint32_t size;
    const uint8_t *bytes;    /* points into wasm_module.bytes */
} wasm_data_segment;

typedef struct wasm_code wasm_code; /* compiled body, defined by compile.h */

/* A function defined by the module (not an import). */
typedef struct wasm_func_def {
    uint32_t type_index;
    uint32_t code_offset;   /* offset in wasm_module.bytes of the first
                               instruction (after the locals vector) */
    uint32_t code_size;     /* bytes from code_offset to the end of the body,
                               the final `end` included (not checked here) */
    uint32_t nlocals;       /* declared locals, not counting params */
    wasm_valtype *locals;   /* nlocals entries, expanded */
    wasm_code *code;        /* set by compile.c */
} wasm_func_def;

typedef struct wasm_custom_section {
    char *name;
    uint32_t name_len;
    uint32_t offset, size;  /* payload (after the name) in wasm_module.bytes */
} wasm_custom_section;

struct wasm_module {
    uint8_t *bytes;  /* owned copy of the binary */
    size_t size;

    uint32_t ntypes;
    wasm_type *types;

    uint32_t nimports;
    wasm_import *imports;
    /* Counts of imported entities per kind (they are first in each space). */
    uint32_t nfunc_imports, ntable_imports, nmemory_imports, nglobal_imports;

    /* Function index space: func_types[i] is the type index of function i
     * (imports included), nfuncs entries. */
    uint32_t nfuncs;
    uint32_t *func_types;
    uint32_t nfunc_defs;          /* == nfuncs - nfunc_imports */
    wasm_func_def *func_defs;

    /* Table index space, imports included. */
    uint32_t ntables;
    wasm_tabletype *tables;

    /* Memory index space, imports included (at most 1 in 2.0). */
    uint32_t nmemories;
    wasm_limits *memories;

    /* Global index space: types for all; defs for the module's own. */
    uint32_t nglobals;
    wasm_globaltype *global_types;
    uint32_t nglobal_defs;
    wasm_global_def *global_defs;

    uint32_t nexports;
    wasm_export *exports;

    bool has_start;
    uint32_t start;

    uint32_t nelems;
    wasm_elem_segment *elems;

    bool has_data_count;
    uint32_t data_count;
    uint32_t ndatas;
    wasm_data_segment *datas;

    /* declared_funcs[i] is true when function i may appear in ref.func inside
     * a body (spec 3.4.10 C.refs: referenced by an export, a global init or
     * an element segment). nfuncs entries. */
    bool *declared_funcs;

    uint32_t ncustoms;
    wasm_custom_section *customs;

    /* From the `name` section, if present and well-formed; nfuncs entries,
     * NULL entries where unnamed. Malformed name sections are ignored. */
    char **func_names;
};

/* decode.c: decodes and validates everything but function bodies. Returns
 * WASM_OK or fills err (code WASM_ERR_MALFORMED / INVALID / UNSUPPORTED). */
wasm_err wasm_decode(wasm_module *m, wasm_error *err);
/* Frees everything wasm_decode allocated, and compiled code. */
void wasm_module_release(wasm_module *m);

#endif /* WATER_WASM_MODULE_H */
