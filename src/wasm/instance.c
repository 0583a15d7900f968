/*
 * instance.c - instantiation (spec 4.5.4): resolve imports, allocate
 * functions, tables, memory and globals, evaluate segments, run start.
 * Also the bulk table/memory operations shared with the interpreter.
 *
 * Active segments are applied in order as table.init/memory.init would be:
 * a segment out of bounds fails instantiation, but what earlier segments
 * wrote into imported tables or memories stays (2.0 semantics).
 */
#include "error.h"
#include "linker.h"
#include "runtime.h"
#include "types.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_CALL_DEPTH 20000
#define DEFAULT_MAX_TABLE_ELEMENTS (10u * 1000u * 1000u)

/* ---- bulk operations ----------------------------------------------------- */

wasm_trap wasm_op_memory_init(wasm_instance *inst, uint32_t seg, uint32_t d,
                              uint32_t s, uint32_t n)
{
    const wasm_data_segment *ds = &inst->module->datas[seg];
    uint64_t len = inst->data_dropped[seg] ? 0 : ds->size;
    wasm_memory *m = inst->memory;
    if ((uint64_t)s + n > len || (uint64_t)d + n > m->size)
        return WASM_TRAP_MEMORY_OOB;
    memcpy(m->base + d, ds->bytes + s, n);
    return WASM_TRAP_NONE;
}

wasm_trap wasm_op_table_init(wasm_instance *inst, uint32_t table, uint32_t seg,
                             uint32_t d, uint32_t s, uint32_t n)
{
    const wasm_elem_inst *e = &inst->elems[seg];
    wasm_table *t = inst->tables[table];
    if ((uint64_t)s + n > e->count || (uint64_t)d + n > t->size)
        return WASM_TRAP_TABLE_OOB;
    memcpy(t->elems + d, e->refs + s, (size_t)n * sizeof(void *));
    return WASM_TRAP_NONE;
}

wasm_trap wasm_op_table_copy(wasm_instance *inst, uint32_t dt, uint32_t st,
                             uint32_t d, uint32_t s, uint32_t n)
{
    wasm_table *dst = inst->tables[dt], *src = inst->tables[st];
    if ((uint64_t)s + n > src->size || (uint64_t)d + n > dst->size)
        return WASM_TRAP_TABLE_OOB;
    memmove(dst->elems + d, src->elems + s, (size_t)n * sizeof(void *));
    return WASM_TRAP_NONE;
}

/* ---- imports ------------------------------------------------------------- */

static wasm_trap unlinked_stub(wasm_instance *caller, void *env, wasm_slot *slots)
{
    (void)slots;
    const wasm_import *imp = env;
    wasm_instance_set_trap_message(caller, "unlinked import %s.%s", imp->module,
                                   imp->name);
    return WASM_TRAP_HOST;
}

static bool limits_match(uint32_t have_min, bool have_has_max, uint32_t have_max,
                         const wasm_limits *want)
{
    if (have_min < want->min)
        return false;
    if (want->has_max && (!have_has_max || have_max > want->max))
        return false;
    return true;
}

static wasm_err link_fail(wasm_error *err, const wasm_import *imp, uint32_t i,
                          const char *why)
{
    return wasm_error_set(err, WASM_ERR_LINK, UINT32_MAX, "import %u (%s.%s): %s",
                          i, imp->module, imp->name, why);
}

static wasm_err resolve_import(wasm_instance *inst, const wasm_linker *l,
                               uint32_t i, uint32_t idx[4], wasm_error *err)
{
    const wasm_module *m = inst->module;
    const wasm_import *imp = &m->imports[i];
    const wasm_linker_def *d = wasm_linker_find(l, imp->module, imp->module_len,
                                                imp->name, imp->name_len);
    if (imp->kind == WASM_EXTERN_FUNC) {
        uint32_t fi = idx[0]++;
        const wasm_type *want = &m->types[imp->type_index];
        if (!d || d->kind == DEF_HOST_FUNC) {
            if (!d && !(l && l->allow_unresolved))
                return link_fail(err, imp, i, "unknown import");
            if (d && d->type->id != want->id)
                return link_fail(err, imp, i, "incompatible import type (signature differs)");
            wasm_func *f = &inst->own_funcs[fi];
            *f = (wasm_func){want, want->id, inst, NULL,
                             d ? d->fn : unlinked_stub, d ? d->env : (void *)imp, fi, NULL};
            inst->funcs[fi] = f;
            return WASM_OK;
        }
        const wasm_export *ex = &d->inst->module->exports[d->export_index];
        if (ex->kind != WASM_EXTERN_FUNC)
            return link_fail(err, imp, i, "incompatible import type (not a function)");
        wasm_func *f = d->inst->funcs[ex->index];
        if (f->type_id != want->id)
            return link_fail(err, imp, i, "incompatible import type (signature differs)");
        inst->funcs[fi] = f;
        return WASM_OK;
    }
    if (!d)
        return link_fail(err, imp, i, "unknown import");
    if (d->kind != DEF_INSTANCE_EXPORT)
        return link_fail(err, imp, i, "incompatible import type (host function)");
    const wasm_export *ex = &d->inst->module->exports[d->export_index];
    if (ex->kind != imp->kind)
        return link_fail(err, imp, i, "incompatible import type (kind differs)");
    switch (imp->kind) {
    case WASM_EXTERN_TABLE: {
        wasm_table *t = d->inst->tables[ex->index];
        if (t->elem != imp->table.elem ||
            !limits_match(t->size, t->max != UINT32_MAX, t->max, &imp->table.limits))
            return link_fail(err, imp, i, "incompatible import type (table)");
        inst->tables[idx[1]++] = t;
        return WASM_OK;
    }
    case WASM_EXTERN_MEMORY: {
        wasm_memory *mem = d->inst->memory;
        const wasm_limits *want = &imp->memory;
        bool has_max = d->inst->module->memories[0].has_max;
        if (!limits_match(mem->pages, has_max, d->inst->module->memories[0].max, want))
            return link_fail(err, imp, i, "incompatible import type (memory limits)");
        inst->memory = mem;
        idx[2]++;
        return WASM_OK;
    }
    case WASM_EXTERN_GLOBAL: {
        wasm_global *g = d->inst->globals[ex->index];
        if (g->type != imp->global.type || g->mutable_ != imp->global.mutable_)
            return link_fail(err, imp, i, "incompatible import type (global)");
        inst->globals[idx[3]++] = g;
        return WASM_OK;
    }
    default:
        return link_fail(err, imp, i, "unknown import kind");
    }
}

/* ---- constant expressions ------------------------------------------------ */

static wasm_slot eval_const(const wasm_instance *inst, const wasm_const_expr *e)
{
    wasm_slot v = {.u64 = 0};
    switch (e->kind) {
    case WASM_CONST_I32:
    case WASM_CONST_I64:
    case WASM_CONST_F32:
    case WASM_CONST_F64:
        v.u64 = e->bits;
        break;
    case WASM_CONST_REF_NULL:
        v.ref = NULL;
        break;
    case WASM_CONST_REF_FUNC:
        v.ref = inst->funcs[e->index];
        break;
    case WASM_CONST_GLOBAL_GET:
        v = inst->globals[e->index]->val;
        break;
    }
    return v;
}

/* ---- instantiation ------------------------------------------------------- */

static wasm_err alloc_instance(wasm_instance *inst, wasm_error *err)
{
    const wasm_module *m = inst->module;
    inst->own_funcs = calloc(m->nfuncs ? m->nfuncs : 1, sizeof *inst->own_funcs);
    inst->funcs = calloc(m->nfuncs ? m->nfuncs : 1, sizeof *inst->funcs);
    inst->tables = calloc(m->ntables ? m->ntables : 1, sizeof *inst->tables);
    inst->own_tables = calloc(m->ntables ? m->ntables : 1, sizeof *inst->own_tables);
    inst->globals = calloc(m->nglobals ? m->nglobals : 1, sizeof *inst->globals);
    inst->own_globals = calloc(m->nglobals ? m->nglobals : 1, sizeof *inst->own_globals);
    inst->elems = calloc(m->nelems ? m->nelems : 1, sizeof *inst->elems);
    inst->data_dropped = calloc(m->ndatas ? m->ndatas : 1, sizeof *inst->data_dropped);
    if (!inst->own_funcs || !inst->funcs || !inst->tables || !inst->own_tables ||
        !inst->globals || !inst->own_globals || !inst->elems || !inst->data_dropped)
        return wasm_error_set(err, WASM_ERR_NOMEM, UINT32_MAX, "out of memory");
    return WASM_OK;
}

static wasm_err define_own(wasm_instance *inst, wasm_error *err)
{
    const wasm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nfunc_defs; i++) {
        uint32_t fi = m->nfunc_imports + i;
        const wasm_type *t = &m->types[m->func_defs[i].type_index];
        inst->own_funcs[fi] = (wasm_func){t, t->id, inst, m->func_defs[i].code,
                                          NULL, NULL, fi, NULL};
        inst->funcs[fi] = &inst->own_funcs[fi];
    }
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const wasm_tabletype *tt = &m->tables[i];
        if (wasm_table_init(&inst->own_tables[i], tt->elem, tt->limits.min,
                            tt->limits.has_max ? tt->limits.max : UINT32_MAX, NULL,
                            &inst->table_budget) != 0)
            return wasm_error_set(err, WASM_ERR_LIMIT, UINT32_MAX,
                                  "table %u: cannot allocate %u elements (limit: %llu "
                                  "table elements per instance)", i, tt->limits.min,
                                  (unsigned long long)inst->max_table_elements);
        inst->tables[i] = &inst->own_tables[i];
    }
    if (m->nmemories > m->nmemory_imports) {
        const wasm_limits *l = &m->memories[0];
        uint32_t max = l->has_max ? l->max : WASM_MAX_PAGES;
        if (max > inst->max_memory_pages)
            max = inst->max_memory_pages;
        if (l->min > max)
            return wasm_error_set(err, WASM_ERR_LIMIT, UINT32_MAX,
                                  "memory needs %u pages, above the limit of %u pages",
                                  l->min, max);
        if (wasm_memory_init(&inst->own_memory, l->min, max) != 0)
            return wasm_error_set(err, WASM_ERR_NOMEM, UINT32_MAX,
                                  "cannot allocate memory of %u pages", l->min);
        inst->memory = &inst->own_memory;
    }
    for (uint32_t i = 0; i < m->nglobal_defs; i++) {
        uint32_t gi = m->nglobal_imports + i;
        const wasm_global_def *gd = &m->global_defs[i];
        wasm_global *g = &inst->own_globals[gi];
        g->type = gd->type.type;
        g->mutable_ = gd->type.mutable_;
        g->val = eval_const(inst, &gd->init);
        inst->globals[gi] = g;
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wasm_elem_segment *es = &m->elems[i];
        wasm_elem_inst *ei = &inst->elems[i];
        ei->refs = calloc(es->count ? es->count : 1, sizeof *ei->refs);
        if (!ei->refs)
            return wasm_error_set(err, WASM_ERR_NOMEM, UINT32_MAX, "out of memory");
        for (uint32_t k = 0; k < es->count; k++)
            ei->refs[k] = eval_const(inst, &es->items[k]).ref;
        ei->count = es->count;
    }
    return WASM_OK;
}

static wasm_err init_segments(wasm_instance *inst, wasm_error *err)
{
    const wasm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wasm_elem_segment *es = &m->elems[i];
        if (es->mode == WASM_SEG_ACTIVE) {
            uint32_t off = (uint32_t)eval_const(inst, &es->offset).u64;
            if (es->table_index < m->ntable_imports && es->count)
                inst->escaped = true;
            if (wasm_op_table_init(inst, es->table_index, i, off, 0, es->count))
                return wasm_error_set(err, WASM_ERR_INSTANTIATE, UINT32_MAX,
                                      "element segment %u: out of bounds table access", i);
        }
        if (es->mode != WASM_SEG_PASSIVE)
            inst->elems[i].count = 0; /* elem.drop */
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wasm_data_segment *ds = &m->datas[i];
        if (ds->mode != WASM_SEG_ACTIVE)
            continue;
        uint32_t off = (uint32_t)eval_const(inst, &ds->offset).u64;
        if (wasm_op_memory_init(inst, i, off, 0, ds->size))
            return wasm_error_set(err, WASM_ERR_INSTANTIATE, UINT32_MAX,
                                  "data segment %u: out of bounds memory access", i);
        inst->data_dropped[i] = true;
    }
    return WASM_OK;
}

/* A failed instantiation may already have put references to its functions
 * into an imported table, where they stay callable (spec 4.5.4). Such an
 * instance is kept until the process exits. */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static wasm_instance *kept;

static void keep_failed(wasm_instance *inst)
{
    pthread_mutex_lock(&kept_lock);
    inst->next_kept = kept;
    kept = inst;
    pthread_mutex_unlock(&kept_lock);
}

wasm_instance *wasm_instance_new(const wasm_module *m, const wasm_linker *linker,
                                 const wasm_instance_config *config,
                                 wasm_error *err)
{
    wasm_error_clear(err);
    if (!m) {
        wasm_error_set(err, WASM_ERR_ARGS, UINT32_MAX, "no module");
        return NULL;
    }
    wasm_instance *inst = calloc(1, sizeof *inst);
    if (!inst) {
        wasm_error_set(err, WASM_ERR_NOMEM, UINT32_MAX, "out of memory");
        return NULL;
    }
    inst->module = m;
    inst->fuel = UINT64_MAX;
    inst->max_call_depth = DEFAULT_MAX_CALL_DEPTH;
    inst->max_memory_pages = WASM_MAX_PAGES;
    inst->max_table_elements = DEFAULT_MAX_TABLE_ELEMENTS;
    if (config) {
        if (config->max_table_elements)
            inst->max_table_elements = config->max_table_elements;
        if (config->fuel)
            wasm_instance_set_fuel(inst, config->fuel); /* sets the poll bit too */
        if (config->max_call_depth)
            inst->max_call_depth = config->max_call_depth;
        if (config->max_memory_pages && config->max_memory_pages < WASM_MAX_PAGES)
            inst->max_memory_pages = config->max_memory_pages;
        inst->userdata = config->userdata;
    }
    inst->table_budget = inst->max_table_elements;
    if (alloc_instance(inst, err) != WASM_OK)
        goto fail;
    uint32_t idx[4] = {0, 0, 0, 0};
    for (uint32_t i = 0; i < m->nimports; i++)
        if (resolve_import(inst, linker, i, idx, err) != WASM_OK)
            goto fail;
    if (define_own(inst, err) != WASM_OK || init_segments(inst, err) != WASM_OK)
        goto fail;
    if (m->has_start) {
        wasm_func *start = inst->funcs[m->start];
        if (wasm_call(inst, start, NULL, 0, NULL, 0, err) != WASM_OK)
            goto fail;
    }
    return inst;
fail:
    if (inst->escaped)
        keep_failed(inst);
    else
        wasm_instance_free(inst);
    return NULL;
}

void wasm_instance_free(wasm_instance *inst)
{
    if (!inst)
        return;
    const wasm_module *m = inst->module;
    if (inst->own_tables)
        for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
            wasm_table_release(&inst->own_tables[i]);
    wasm_memory_release(&inst->own_memory);
    if (inst->elems)
        for (uint32_t i = 0; i < m->nelems; i++)
            free(inst->elems[i].refs);
    free(inst->own_funcs);
    free(inst->funcs);
    free(inst->tables);
    free(inst->own_tables);
    free(inst->globals);
    free(inst->own_globals);
    free(inst->elems);
    free(inst->data_dropped);
    free(inst);
}
