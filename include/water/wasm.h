/*
 * water/wasm.h - the WebAssembly engine of WATER, usable on its own.
 *
 * Life cycle: wasm_module_new() decodes, validates and compiles a binary once;
 * the module is then immutable and may be shared by any number of threads.
 * wasm_instance_new() links it against a wasm_linker (host functions and the
 * exports of other instances) and instantiates it; an instance is used by one
 * thread at a time (wasm_instance_interrupt() is the one call that may come
 * from another thread).
 *
 * Errors: every call that can fail fills a caller-owned wasm_error, whose
 * message names what failed and where (byte offset, function, import).
 *
 * Values cross the boundary as wasm_val (typed) for wasm_call(), and as
 * wasm_slot (untyped 64-bit cells) for host functions, because host calls
 * sit on the hot path of every WASI fd_read/fd_write.
 */
#ifndef WATER_WASM_H
#define WATER_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- values ---------------------------------------------------------- */

typedef enum wasm_valtype {
    WASM_I32 = 0x7F,
    WASM_I64 = 0x7E,
    WASM_F32 = 0x7D,
    WASM_F64 = 0x7C,
    WASM_V128 = 0x7B, /* recognised only to refuse it */
    WASM_FUNCREF = 0x70,
    WASM_EXTERNREF = 0x6F,
} wasm_valtype;

/* A reference is an opaque pointer; NULL is the null reference. A funcref
 * points to a wasm_func; an externref is whatever the host passed in. */
typedef struct wasm_val {
    wasm_valtype type;
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uint32_t f32_bits; /* exact bit patterns, NaN payloads included */
        uint64_t f64_bits;
        void *ref;
    } of;
} wasm_val;

/* One untyped value cell (little-endian: an i32 lives in the low 4 bytes). */
typedef union wasm_slot {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    double f64;
    void *ref;
} wasm_slot;

/* ---- errors ---------------------------------------------------------- */

#define WASM_ERROR_LIST(X)                                                   \
    X(WASM_OK, "ok")                                                         \
    X(WASM_ERR_MALFORMED, "malformed module")                                \
    X(WASM_ERR_INVALID, "invalid module")                                    \
    X(WASM_ERR_UNSUPPORTED, "unsupported feature")                           \
    X(WASM_ERR_LINK, "unlinkable import")                                    \
    X(WASM_ERR_INSTANTIATE, "instantiation failed")                          \
    X(WASM_ERR_TRAP, "trap")                                                 \
    X(WASM_ERR_LIMIT, "limit exceeded")                                      \
    X(WASM_ERR_NOMEM, "out of host memory")                                  \
    X(WASM_ERR_ARGS, "bad arguments")                                        \
    X(WASM_ERR_NOT_FOUND, "not found")

#define WASM_TRAP_LIST(X)                                                    \
    X(WASM_TRAP_NONE, "no trap")                                             \
    X(WASM_TRAP_UNREACHABLE, "unreachable")                                  \
    X(WASM_TRAP_DIV_ZERO, "integer divide by zero")                          \
    X(WASM_TRAP_INT_OVERFLOW, "integer overflow")                            \
    X(WASM_TRAP_INVALID_CONVERSION, "invalid conversion to integer")         \
    X(WASM_TRAP_MEMORY_OOB, "out of bounds memory access")                   \
    X(WASM_TRAP_TABLE_OOB, "out of bounds table access")                     \
    X(WASM_TRAP_UNDEFINED_ELEMENT, "undefined element")                      \
    X(WASM_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element")              \
    X(WASM_TRAP_INDIRECT_TYPE, "indirect call type mismatch")                \
    X(WASM_TRAP_STACK_EXHAUSTED, "call stack exhausted")                     \
    X(WASM_TRAP_INTERRUPTED, "interrupted")                                  \
    X(WASM_TRAP_FUEL, "fuel exhausted")                                      \
    X(WASM_TRAP_HOST, "host function failed")                                \
    X(WASM_TRAP_EXIT, "exit") /* a host function asked to end the run */

#define WASM_ENUM_ROW(name, msg) name,
typedef enum wasm_err { WASM_ERROR_LIST(WASM_ENUM_ROW) } wasm_err;
typedef enum wasm_trap { WASM_TRAP_LIST(WASM_ENUM_ROW) } wasm_trap;
#undef WASM_ENUM_ROW

typedef struct wasm_error {
    wasm_err code;
    wasm_trap trap;       /* when code == WASM_ERR_TRAP */
    int exit_code;        /* when trap == WASM_TRAP_EXIT */
    uint32_t offset;      /* byte offset in the module, or UINT32_MAX */
    uint32_t func_index;  /* function index, or UINT32_MAX */
    char message[320];    /* complete human-readable text */
} wasm_error;

const char *wasm_strerror(wasm_err code);
const char *wasm_trap_message(wasm_trap trap);

/* ---- modules --------------------------------------------------------- */

typedef struct wasm_module wasm_module;

typedef enum wasm_externkind {
    WASM_EXTERN_FUNC = 0,
    WASM_EXTERN_TABLE = 1,
    WASM_EXTERN_MEMORY = 2,
    WASM_EXTERN_GLOBAL = 3,
} wasm_externkind;

/* Decode, validate and compile. The bytes are copied; the caller keeps its
 * buffer. Returns NULL and fills *err on failure. Thread-safe. */
wasm_module *wasm_module_new(const uint8_t *bytes, size_t len, wasm_error *err);
/* Frees the module. Every instance of it must have been freed before. */
void wasm_module_free(wasm_module *m);

/* Introspection. Strings and arrays stay valid as long as the module. */
typedef struct wasm_functype_info {
    uint32_t nparams, nresults;
    const wasm_valtype *params, *results;
} wasm_functype_info;

typedef struct wasm_limits_info {
    uint32_t min, max;
    bool has_max;
} wasm_limits_info;

typedef struct wasm_extern_info {
    const char *module; /* imports only; NUL-terminated, may contain no NUL */
    const char *name;
    wasm_externkind kind;
    wasm_functype_info func;  /* WASM_EXTERN_FUNC */
    wasm_limits_info limits;  /* TABLE, MEMORY */
    wasm_valtype valtype;     /* GLOBAL: its type; TABLE: element type */
    bool mutable_;            /* GLOBAL */
} wasm_extern_info;

uint32_t wasm_module_import_count(const wasm_module *m);
bool wasm_module_import(const wasm_module *m, uint32_t i, wasm_extern_info *out);
uint32_t wasm_module_export_count(const wasm_module *m);
bool wasm_module_export(const wasm_module *m, uint32_t i, wasm_extern_info *out);
/* Finds an export by name; returns false if there is none. */
bool wasm_module_find_export(const wasm_module *m, const char *name,
                             wasm_extern_info *out);
/* The function's name from the `name` section, or NULL. */
const char *wasm_module_func_name(const wasm_module *m, uint32_t func_index);

/* ---- host functions and linking -------------------------------------- */

typedef struct wasm_instance wasm_instance;
typedef struct wasm_func wasm_func;
typedef struct wasm_linker wasm_linker;

/*
 * A host function. slots[0..nparams) hold the arguments; the function writes
 * its results to slots[0..nresults) (so read arguments before writing
 * results). `caller` is the calling instance (for its memory); `env` is the
 * pointer given at definition. Return WASM_TRAP_NONE, or a trap code to
 * abort the wasm call (wasm_instance_set_trap_message() may add details).
 */
typedef wasm_trap (*wasm_host_fn)(wasm_instance *caller, void *env,
                                  wasm_slot *slots);

/*
 * Signature strings: parameter letters, "->", result letters, with
 * i = i32, I = i64, f = f32, F = f64, r = funcref, e = externref.
 * Examples: "iiii->i", "->", "I->".
 */
wasm_linker *wasm_linker_new(void);
void wasm_linker_free(wasm_linker *l);
/* Strings are copied. Returns WASM_ERR_ARGS for a bad signature string. A
 * later definition of the same (module, name) replaces the earlier one. */
wasm_err wasm_linker_define_func(wasm_linker *l, const char *module,
                                 const char *name, const char *signature,
                                 wasm_host_fn fn, void *env);
/* Makes every export of `inst` importable as (module_name, export name).
 * The instance must outlive every instance linked against it. */
wasm_err wasm_linker_define_instance(wasm_linker *l, const char *module_name,
                                     wasm_instance *inst);
/* When set, an import that the linker cannot resolve is bound to a stub
 * that traps with "unlinked import MODULE.NAME" when called (functions only);
 * otherwise instantiation fails with WASM_ERR_LINK. */
void wasm_linker_allow_unresolved(wasm_linker *l, bool allow);

/* ---- instances ------------------------------------------------------- */

typedef struct wasm_instance_config {
    uint32_t max_memory_pages; /* 0: 65536 (4 GiB) */
    uint32_t max_call_depth;   /* 0: 20000 frames (the value stack, 1 Mi
                                  slots per thread, may end a call earlier) */
    uint64_t max_table_elements; /* all tables together; 0: 10 million */
    uint64_t fuel;             /* fuel for the start function and later calls
                                  (see wasm_instance_set_fuel); 0: unlimited */
    void *userdata;            /* returned by wasm_instance_userdata() */
} wasm_instance_config;

/*
 * Links and instantiates: resolves imports, allocates memory, tables and
 * globals, applies active segments, runs the start function. `linker` and
 * `config` may be NULL. The linker is only read during the call. Returns NULL
 * and fills *err (WASM_ERR_LINK, WASM_ERR_LIMIT, WASM_ERR_INSTANTIATE, or
 * WASM_ERR_TRAP when the start function traps).
 */
wasm_instance *wasm_instance_new(const wasm_module *m, const wasm_linker *linker,
                                 const wasm_instance_config *config,
                                 wasm_error *err);
void wasm_instance_free(wasm_instance *inst);
const wasm_module *wasm_instance_module(const wasm_instance *inst);
void *wasm_instance_userdata(const wasm_instance *inst);
void wasm_instance_set_userdata(wasm_instance *inst, void *userdata);

/* An exported function, or NULL if `name` is not a function export. Valid as
 * long as the instance. */
wasm_func *wasm_instance_func(wasm_instance *inst, const char *name);
/* The type of a function (an export, or a funcref value). */
wasm_functype_info wasm_func_type(const wasm_func *f);

/*
 * Calls a function. Arguments are checked against its type. On success fills
 * results[0..nresults) and returns WASM_OK. On a trap returns WASM_ERR_TRAP
 * with err->trap, err->func_index and a message naming the function. The
 * instance stays usable after a trap.
 */
wasm_err wasm_call(wasm_instance *inst, wasm_func *f, const wasm_val *args,
                   size_t nargs, wasm_val *results, size_t nresults,
                   wasm_error *err);

/* Asks a running call on `inst` to stop with WASM_TRAP_INTERRUPTED at its
 * next loop back-edge or call. Safe from any thread and from signal handlers.
 * The flag stays set until wasm_instance_clear_interrupt(). */
void wasm_instance_interrupt(wasm_instance *inst);
void wasm_instance_clear_interrupt(wasm_instance *inst);
/* Limits work: each loop back-edge and call uses one unit; at zero the call
 * traps with WASM_TRAP_FUEL. Straight-line code and bulk operations
 * (memory.fill, table.fill, ...) are not charged, so fuel bounds iterations,
 * not time. UINT64_MAX (the default) means unlimited. */
void wasm_instance_set_fuel(wasm_instance *inst, uint64_t fuel);
uint64_t wasm_instance_fuel(const wasm_instance *inst);
/* A budget for the work between two calls out to the host: sets the fuel
 * to `fuel` now and again each time a host function called by this
 * instance returns, so a module that keeps calling the host (polls, reads,
 * writes) runs as long as it likes, and one that loops without calling out
 * traps with WASM_TRAP_FUEL. 0 turns the refill off (the fuel left stays). */
void wasm_instance_set_fuel_refill(wasm_instance *inst, uint64_t fuel);

/* For host functions: adds detail to the trap they are about to return. */
void wasm_instance_set_trap_message(wasm_instance *inst, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* For host functions that end the run (WASI proc_exit): returns
 * WASM_TRAP_EXIT after recording the code, which wasm_call() reports in
 * err->exit_code. */
wasm_trap wasm_instance_exit(wasm_instance *inst, int exit_code);

/* ---- memory and globals ---------------------------------------------- */

/* The one checked door into linear memory: a pointer to [offset, offset+len)
 * of the instance's memory 0, or NULL if any byte is out of bounds (or the
 * instance has no memory). Valid until the next memory.grow. */
void *wasm_memory_ptr(wasm_instance *inst, uint64_t offset, uint64_t len);
/* Current size in bytes (0 without memory). */
uint64_t wasm_memory_size(const wasm_instance *inst);
/* Grows by `delta` pages; returns the old size in pages or -1. */
int64_t wasm_memory_grow(wasm_instance *inst, uint32_t delta);

/* Reads or writes an exported global; set fails on an immutable global or a
 * type mismatch. */
wasm_err wasm_global_get(wasm_instance *inst, const char *name, wasm_val *out);
wasm_err wasm_global_set(wasm_instance *inst, const char *name,
                         const wasm_val *val);

#ifdef __cplusplus
}
#endif
#endif /* WATER_WASM_H */
