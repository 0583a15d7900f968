/*
 * api.c - the public engine API of water/wasm.h that is not instantiation
 * or linking: modules and their introspection, calls, memory, globals,
 * interrupts and fuel.
 */
#include "error.h"
#include "runtime.h"
#include "types.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- modules ---------------------------------------------------------------- */

wasm_module *wasm_module_new(const uint8_t *bytes, size_t len, wasm_error *err)
{
    wasm_error_clear(err);
    if (!bytes && len) {
        wasm_error_set(err, WASM_ERR_ARGS, UINT32_MAX, "no bytes");
        return NULL;
    }
    if (len > UINT32_MAX) {
        wasm_error_set(err, WASM_ERR_LIMIT, UINT32_MAX, "module larger than 4 GiB");
        return NULL;
    }
    wasm_module *m = calloc(1, sizeof *m);
    if (!m || !(m->bytes = malloc(len ? len : 1))) {
        free(m);
        wasm_error_set(err, WASM_ERR_NOMEM, UINT32_MAX, "out of memory");
        return NULL;
    }
    if (len)
        memcpy(m->bytes, bytes, len);
    m->size = len;
    if (wasm_decode(m, err) != WASM_OK || wasm_compile_module(m, err) != WASM_OK) {
        wasm_module_free(m);
        return NULL;
    }
    return m;
}

void wasm_module_free(wasm_module *m)
{
    if (!m)
        return;
    wasm_module_release(m);
    free(m->bytes);
    free(m);
}

static wasm_functype_info functype_info(const wasm_type *t)
{
    return (wasm_functype_info){t->nparams, t->nresults, t->params, t->results};
}

static void fill_info(const wasm_module *m, wasm_externkind kind, uint32_t index,
                      wasm_extern_info *out)
{
    out->kind = kind;
    switch (kind) {
    case WASM_EXTERN_FUNC:
        out->func = functype_info(&m->types[m->func_types[index]]);
        break;
    case WASM_EXTERN_TABLE:
        out->valtype = m->tables[index].elem;
        out->limits = (wasm_limits_info){m->tables[index].limits.min,
                                         m->tables[index].limits.max,
                                         m->tables[index].limits.has_max};
        break;
    case WASM_EXTERN_MEMORY:
        out->limits = (wasm_limits_info){m->memories[index].min, m->memories[index].max,
                                         m->memories[index].has_max};
        break;
    case WASM_EXTERN_GLOBAL:
        out->valtype = m->global_types[index].type;
        out->mutable_ = m->global_types[index].mutable_;
        break;
    }
}

uint32_t wasm_module_import_count(const wasm_module *m) { return m->nimports; }
uint32_t wasm_module_export_count(const wasm_module *m) { return m->nexports; }

bool wasm_module_import(const wasm_module *m, uint32_t i, wasm_extern_info *out)
{
    if (i >= m->nimports)
        return false;
    memset(out, 0, sizeof *out);
    const wasm_import *imp = &m->imports[i];
    out->module = imp->module;
    out->name = imp->name;
    out->kind = imp->kind;
    switch (imp->kind) {
    case WASM_EXTERN_FUNC:
        out->func = functype_info(&m->types[imp->type_index]);
        break;
    case WASM_EXTERN_TABLE:
        out->valtype = imp->table.elem;
        out->limits = (wasm_limits_info){imp->table.limits.min, imp->table.limits.max,
                                         imp->table.limits.has_max};
        break;
    case WASM_EXTERN_MEMORY:
        out->limits = (wasm_limits_info){imp->memory.min, imp->memory.max,
                                         imp->memory.has_max};
        break;
    case WASM_EXTERN_GLOBAL:
        out->valtype = imp->global.type;
        out->mutable_ = imp->global.mutable_;
        break;
    }
    return true;
}

bool wasm_module_export(const wasm_module *m, uint32_t i, wasm_extern_info *out)
{
    if (i >= m->nexports)
        return false;
    memset(out, 0, sizeof *out);
    out->name = m->exports[i].name;
    fill_info(m, m->exports[i].kind, m->exports[i].index, out);
    return true;
}

static const wasm_export *find_export(const wasm_module *m, const char *name)
{
    size_t len = strlen(name);
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].name_len == len && memcmp(m->exports[i].name, name, len) == 0)
            return &m->exports[i];
    return NULL;
}

bool wasm_module_find_export(const wasm_module *m, const char *name,
                             wasm_extern_info *out)
{
    const wasm_export *e = find_export(m, name);
    if (!e)
        return false;
    memset(out, 0, sizeof *out);
    out->name = e->name;
    fill_info(m, e->kind, e->index, out);
    return true;
}

const char *wasm_module_func_name(const wasm_module *m, uint32_t func_index)
{
    if (!m->func_names || func_index >= m->nfuncs)
        return NULL;
    return m->func_names[func_index];
}

/* ---- instances ---------------------------------------------------------------- */

const wasm_module *wasm_instance_module(const wasm_instance *inst) { return inst->module; }
void *wasm_instance_userdata(const wasm_instance *inst) { return inst->userdata; }
void wasm_instance_set_userdata(wasm_instance *inst, void *userdata)
{
    inst->userdata = userdata;
}

wasm_func *wasm_instance_func(wasm_instance *inst, const char *name)
{
    const wasm_export *e = find_export(inst->module, name);
    if (!e || e->kind != WASM_EXTERN_FUNC)
        return NULL;
    return inst->funcs[e->index];
}

wasm_functype_info wasm_func_type(const wasm_func *f) { return functype_info(f->type); }

void wasm_instance_interrupt(wasm_instance *inst)
{
    atomic_fetch_or_explicit(&inst->poll, WASM_POLL_INTERRUPT, memory_order_relaxed);
}

void wasm_instance_clear_interrupt(wasm_instance *inst)
{
    atomic_fetch_and_explicit(&inst->poll, ~WASM_POLL_INTERRUPT, memory_order_relaxed);
}

void wasm_instance_set_fuel(wasm_instance *inst, uint64_t fuel)
{
    inst->fuel = fuel;
    if (fuel == UINT64_MAX)
        atomic_fetch_and_explicit(&inst->poll, ~WASM_POLL_FUEL, memory_order_relaxed);
    else
        atomic_fetch_or_explicit(&inst->poll, WASM_POLL_FUEL, memory_order_relaxed);
}
uint64_t wasm_instance_fuel(const wasm_instance *inst) { return inst->fuel; }

void wasm_instance_set_fuel_refill(wasm_instance *inst, uint64_t fuel)
{
    inst->fuel_refill = fuel;
    if (fuel)
        wasm_instance_set_fuel(inst, fuel);
}

void wasm_instance_set_trap_message(wasm_instance *inst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inst->trap_message, sizeof inst->trap_message, fmt, ap);
    va_end(ap);
}

wasm_trap wasm_instance_exit(wasm_instance *inst, int exit_code)
{
    inst->exit_code = exit_code;
    return WASM_TRAP_EXIT;
}

/* ---- calls ---------------------------------------------------------------------- */

static void trap_error(wasm_error *err, wasm_trap trap, wasm_instance *inst,
                       const wasm_func *entry)
{
    wasm_exec *ctx = wasm_exec_get();
    const wasm_instance *where = ctx && ctx->trap_inst ? ctx->trap_inst : inst;
    uint32_t fi = ctx && ctx->trap_code ? ctx->trap_code->func_index : entry->index;
    if (trap == WASM_TRAP_HOST || trap == WASM_TRAP_EXIT)
        fi = UINT32_MAX; /* reported by the host function itself */
    const char *name = fi != UINT32_MAX ? wasm_module_func_name(where->module, fi) : NULL;
    char fn[96] = "";
    if (fi != UINT32_MAX)
        snprintf(fn, sizeof fn, " in function %u%s%s%s", fi, name ? " (" : "",
                 name ? name : "", name ? ")" : "");
    const char *host = inst->trap_message;
    wasm_error_set(err, WASM_ERR_TRAP, UINT32_MAX, "%s%s%s%s", wasm_trap_message(trap),
                   host[0] ? ": " : "", host, fn);
    if (err) {
        err->trap = trap;
        err->func_index = fi;
        err->exit_code = trap == WASM_TRAP_EXIT ? inst->exit_code : 0;
    }
}

wasm_err wasm_call(wasm_instance *inst, wasm_func *f, const wasm_val *args,
                   size_t nargs, wasm_val *results, size_t nresults,
                   wasm_error *err)
{
    wasm_error_clear(err);
    if (!inst || !f)
        return wasm_error_set(err, WASM_ERR_ARGS, UINT32_MAX, "no function");
    const wasm_type *t = f->type;
    if (nargs != t->nparams || nresults < t->nresults)
        return wasm_error_set(err, WASM_ERR_ARGS, UINT32_MAX,
                              "function takes %u arguments and returns %u results",
                              t->nparams, t->nresults);
    for (size_t i = 0; i < nargs; i++)
        if (args[i].type != t->params[i])
            return wasm_error_set(err, WASM_ERR_ARGS, UINT32_MAX,
                                  "argument %zu: expected %s, got %s", i,
                                  wasm_valtype_name(t->params[i]),
                                  wasm_valtype_name(args[i].type));
    wasm_exec *ctx = wasm_exec_get();
    if (!ctx)
        return wasm_error_set(err, WASM_ERR_NOMEM, UINT32_MAX, "no execution context");
    uint32_t n = t->nparams > t->nresults ? t->nparams : t->nresults;
    wasm_slot *base = ctx->sp;
    if (base + n > ctx->stack_end) {
        trap_error(err, WASM_TRAP_STACK_EXHAUSTED, inst, f);
        return WASM_ERR_TRAP;
    }
    for (size_t i = 0; i < nargs; i++) {
        base[i].u64 = 0;
        switch (t->params[i]) {
        case WASM_I32: base[i].i32 = args[i].of.i32; break;
        case WASM_I64: base[i].i64 = args[i].of.i64; break;
        case WASM_F32: base[i].u32 = args[i].of.f32_bits; break;
        case WASM_F64: base[i].u64 = args[i].of.f64_bits; break;
        default: base[i].ref = args[i].of.ref; break;
        }
    }
    inst->trap_message[0] = '\0';
    ctx->trap_code = NULL;
    ctx->trap_inst = NULL;
    wasm_slot *saved_sp = ctx->sp;
    ctx->sp = base + n;
    wasm_trap trap = wasm_interp_call(inst, f, base);
    ctx->sp = saved_sp;
    if (trap != WASM_TRAP_NONE) {
        trap_error(err, trap, inst, f);
        return WASM_ERR_TRAP;
    }
    for (uint32_t i = 0; i < t->nresults; i++) {
        results[i].type = t->results[i];
        switch (t->results[i]) {
        case WASM_I32: results[i].of.i32 = base[i].i32; break;
        case WASM_I64: results[i].of.i64 = base[i].i64; break;
        case WASM_F32: results[i].of.f32_bits = base[i].u32; break;
        case WASM_F64: results[i].of.f64_bits = base[i].u64; break;
        default: results[i].of.ref = base[i].ref; break;
        }
    }
    return WASM_OK;
}

/* ---- memory and globals ---------------------------------------------------------- */

void *wasm_memory_ptr(wasm_instance *inst, uint64_t offset, uint64_t len)
{
    wasm_memory *m = inst->memory;
    if (!m || offset > m->size || len > m->size - offset)
        return NULL;
    return m->base + offset;
}

uint64_t wasm_memory_size(const wasm_instance *inst)
{
    return inst->memory ? inst->memory->size : 0;
}

int64_t wasm_memory_grow(wasm_instance *inst, uint32_t delta)
{
    return inst->memory ? wasm_memory_grow_by(inst->memory, delta) : -1;
}

static wasm_global *find_global(wasm_instance *inst, const char *name)
{
    const wasm_export *e = find_export(inst->module, name);
    if (!e || e->kind != WASM_EXTERN_GLOBAL)
        return NULL;
    return inst->globals[e->index];
}

wasm_err wasm_global_get(wasm_instance *inst, const char *name, wasm_val *out)
{
    wasm_global *g = find_global(inst, name);
    if (!g)
        return WASM_ERR_NOT_FOUND;
    out->type = g->type;
    switch (g->type) {
    case WASM_I32: out->of.i32 = g->val.i32; break;
    case WASM_I64: out->of.i64 = g->val.i64; break;
    case WASM_F32: out->of.f32_bits = g->val.u32; break;
    case WASM_F64: out->of.f64_bits = g->val.u64; break;
    default: out->of.ref = g->val.ref; break;
    }
    return WASM_OK;
}

wasm_err wasm_global_set(wasm_instance *inst, const char *name, const wasm_val *val)
{
    wasm_global *g = find_global(inst, name);
    if (!g)
        return WASM_ERR_NOT_FOUND;
    if (!g->mutable_ || val->type != g->type)
        return WASM_ERR_ARGS;
    g->val.u64 = 0;
    switch (g->type) {
    case WASM_I32: g->val.i32 = val->of.i32; break;
    case WASM_I64: g->val.i64 = val->of.i64; break;
    case WASM_F32: g->val.u32 = val->of.f32_bits; break;
    case WASM_F64: g->val.u64 = val->of.f64_bits; break;
    default: g->val.ref = val->of.ref; break;
    }
    return WASM_OK;
}
