/*
 * fuzz_engine.c - libFuzzer target for the whole engine: decode, validate,
 * compile, instantiate, and call every exported function.
 *
 * Each input is a candidate module. The target:
 *   1. wasm_module_new() (decode + validate + compile);
 *   2. walks the introspection API (imports, exports, names);
 *   3. instantiates with a linker that binds every import it cannot resolve
 *      to a trapping stub (imports of tables, memories and globals still
 *      fail to link, which is a normal outcome), under small limits;
 *   4. calls each exported function with zero arguments of its types,
 *      with a fresh fuel budget per call;
 *   5. frees everything.
 * Any outcome reported through wasm_error is fine; what counts as a bug is
 * a crash, a sanitizer report, a leak, an engine assert, or a hang.
 *
 * Invariants the target relies on (so that no input can hang it):
 *  - every call runs with FUEL_PER_CALL units, at most MAX_CALLS calls;
 *  - the start function runs under the same fuel. wasm_instance_new() would
 *    run it with unlimited fuel (wasm_instance_config has no fuel field), so
 *    the target instantiates with has_start cleared and calls the start
 *    function itself; this is the one place it reaches into module.h and
 *    runtime.h (it is compiled with the engine sources, see CMakeLists.txt).
 */
#include "water/wasm.h"

#include "wasm/module.h"
#include "wasm/runtime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    FUEL_PER_CALL = 100000,
    MAX_CALL_DEPTH = 200,
    MAX_MEMORY_PAGES = 16,
    MAX_CALLS = 64, /* exported functions called per input */
};

/* Everything read from the engine is summed here, so that nothing is
 * optimised away and every value returned is actually loaded. */
static volatile uint64_t sink;

static void zero_value(wasm_val *v, wasm_valtype t)
{
    memset(v, 0, sizeof *v);
    v->type = t;
}

static void touch_info(const wasm_extern_info *info)
{
    if (info->module)
        sink += strlen(info->module);
    if (info->name)
        sink += strlen(info->name);
    if (info->kind == WASM_EXTERN_FUNC) {
        for (uint32_t k = 0; k < info->func.nparams; k++)
            sink += (uint64_t)info->func.params[k];
        for (uint32_t k = 0; k < info->func.nresults; k++)
            sink += (uint64_t)info->func.results[k];
    }
}

static void walk_module(const wasm_module *m)
{
    wasm_extern_info info;
    for (uint32_t i = 0, n = wasm_module_import_count(m); i < n; i++)
        if (wasm_module_import(m, i, &info))
            touch_info(&info);
    for (uint32_t i = 0, n = wasm_module_export_count(m); i < n; i++) {
        if (!wasm_module_export(m, i, &info))
            continue;
        touch_info(&info);
        wasm_extern_info again;
        if (wasm_module_find_export(m, info.name, &again))
            sink += again.kind;
    }
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        const char *name = wasm_module_func_name(m, i);
        if (name)
            sink += strlen(name);
    }
}

/* Calls f with zero arguments under a fresh fuel budget. */
static void call_with_zeros(wasm_instance *inst, wasm_func *f)
{
    wasm_functype_info t = wasm_func_type(f);
    wasm_val *args = calloc(t.nparams ? t.nparams : 1, sizeof *args);
    wasm_val *results = calloc(t.nresults ? t.nresults : 1, sizeof *results);
    if (!args || !results) {
        free(args);
        free(results);
        return;
    }
    for (uint32_t k = 0; k < t.nparams; k++)
        zero_value(&args[k], t.params[k]);
    wasm_error err;
    wasm_instance_set_fuel(inst, FUEL_PER_CALL);
    if (wasm_call(inst, f, args, t.nparams, results, t.nresults, &err) == WASM_OK) {
        for (uint32_t k = 0; k < t.nresults; k++)
            sink += results[k].of.i64;
    } else {
        sink += strlen(err.message);
    }
    free(args);
    free(results);
}

static void read_globals_and_memory(wasm_instance *inst, const wasm_module *m)
{
    wasm_extern_info info;
    for (uint32_t i = 0, n = wasm_module_export_count(m); i < n; i++) {
        if (!wasm_module_export(m, i, &info) || info.kind != WASM_EXTERN_GLOBAL)
            continue;
        wasm_val v;
        if (wasm_global_get(inst, info.name, &v) == WASM_OK) {
            sink += v.of.i64;
            (void)wasm_global_set(inst, info.name, &v);
        }
    }
    uint64_t size = wasm_memory_size(inst);
    const uint8_t *p = wasm_memory_ptr(inst, 0, size);
    if (p && size)
        sink += p[0] + p[size - 1];
    if (wasm_memory_ptr(inst, size, 1) != NULL)
        __builtin_trap(); /* the checked door let a byte past the end through */
}

static void run_module(wasm_module *m)
{
    wasm_linker *l = wasm_linker_new();
    if (!l)
        return;
    wasm_linker_allow_unresolved(l, true);
    wasm_instance_config cfg = {
        .max_memory_pages = MAX_MEMORY_PAGES,
        .max_call_depth = MAX_CALL_DEPTH,
    };
    /* See the file comment: run the start function ourselves, with fuel. */
    bool has_start = m->has_start;
    m->has_start = false;
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, l, &cfg, &err);
    m->has_start = has_start;
    wasm_linker_free(l);
    if (!inst)
        return;
    if (has_start) {
        wasm_instance_set_fuel(inst, FUEL_PER_CALL);
        if (wasm_call(inst, inst->funcs[m->start], NULL, 0, NULL, 0, &err) != WASM_OK) {
            wasm_instance_free(inst);
            return;
        }
    }
    wasm_extern_info info;
    uint32_t calls = 0;
    for (uint32_t i = 0, n = wasm_module_export_count(m); i < n && calls < MAX_CALLS; i++) {
        if (!wasm_module_export(m, i, &info) || info.kind != WASM_EXTERN_FUNC)
            continue;
        wasm_func *f = wasm_instance_func(inst, info.name);
        if (!f)
            continue; /* a name with an embedded NUL finds nothing: fine */
        call_with_zeros(inst, f);
        calls++;
    }
    read_globals_and_memory(inst, m);
    wasm_instance_free(inst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wasm_error err;
    wasm_module *m = wasm_module_new(data, size, &err);
    if (!m) {
        /* A failed decode must still say why. */
        if (err.code == WASM_OK || err.message[0] == '\0')
            __builtin_trap();
        return 0;
    }
    walk_module(m);
    run_module(m);
    wasm_module_free(m);
    return 0;
}
