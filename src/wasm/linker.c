/*
 * linker.c - the definitions imports are resolved against: host functions
 * (with their signature) and the exports of registered instances.
 *
 * A linker is only read while an instance is created, so one linker can
 * serve instantiations on many threads as long as nobody defines into it
 * at the same time.
 */
#include "linker.h"

#include "error.h"
#include "types.h"

#include <stdlib.h>
#include <string.h>

wasm_linker *wasm_linker_new(void)
{
    return calloc(1, sizeof(wasm_linker));
}

static void free_def(wasm_linker_def *d)
{
    free(d->module);
    free(d->name);
    if (d->type) {
        free(d->type->params);
        free(d->type->results);
        free(d->type);
    }
}

void wasm_linker_free(wasm_linker *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; i < l->ndefs; i++)
        free_def(&l->defs[i]);
    free(l->defs);
    free(l);
}

void wasm_linker_allow_unresolved(wasm_linker *l, bool allow)
{
    l->allow_unresolved = allow;
}

static wasm_linker_def *slot_for(wasm_linker *l, const char *module,
                                 const char *name)
{
    for (uint32_t i = 0; i < l->ndefs; i++) {
        wasm_linker_def *d = &l->defs[i];
        if (d->module && d->module_len == strlen(module) && d->name_len == strlen(name) &&
            strcmp(d->module, module) == 0 && memcmp(d->name, name, d->name_len) == 0) {
            free_def(d);
            memset(d, 0, sizeof *d);
            return d;
        }
    }
    if (l->ndefs == l->cap) {
        uint32_t ncap = l->cap ? l->cap * 2 : 32;
        wasm_linker_def *nd = realloc(l->defs, ncap * sizeof *nd);
        if (!nd)
            return NULL;
        l->defs = nd;
        l->cap = ncap;
    }
    wasm_linker_def *d = &l->defs[l->ndefs++];
    memset(d, 0, sizeof *d);
    return d;
}

/* Parses "iI->fF" into a type; NULL on a bad string or no memory. */
static wasm_type *parse_signature(const char *sig)
{
    const char *arrow = strstr(sig, "->");
    if (!arrow)
        return NULL;
    wasm_type *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    size_t np = (size_t)(arrow - sig), nr = strlen(arrow + 2);
    t->params = calloc(np ? np : 1, sizeof *t->params);
    t->results = calloc(nr ? nr : 1, sizeof *t->results);
    if (!t->params || !t->results)
        goto bad;
    for (size_t i = 0; i < np; i++)
        if (!(t->params[i] = wasm_valtype_from_letter(sig[i])))
            goto bad;
    for (size_t i = 0; i < nr; i++)
        if (!(t->results[i] = wasm_valtype_from_letter(arrow[2 + i])))
            goto bad;
    t->nparams = (uint32_t)np;
    t->nresults = (uint32_t)nr;
    t->id = wasm_type_intern(t->params, t->nparams, t->results, t->nresults);
    if (t->id == UINT32_MAX)
        goto bad;
    return t;
bad:
    free(t->params);
    free(t->results);
    free(t);
    return NULL;
}

wasm_err wasm_linker_define_func(wasm_linker *l, const char *module,
                                 const char *name, const char *signature,
                                 wasm_host_fn fn, void *env)
{
    if (!l || !module || !name || !signature || !fn)
        return WASM_ERR_ARGS;
    wasm_type *t = parse_signature(signature);
    if (!t)
        return WASM_ERR_ARGS;
    wasm_linker_def *d = slot_for(l, module, name);
    if (!d)
        goto nomem;
    d->module = strdup(module);
    d->name = strdup(name);
    d->module_len = (uint32_t)strlen(module);
    d->name_len = (uint32_t)strlen(name);
    d->kind = DEF_HOST_FUNC;
    d->type = t;
    d->fn = fn;
    d->env = env;
    if (!d->module || !d->name)
        goto nomem;
    return WASM_OK;
nomem:
    if (d) {
        free(d->module);
        free(d->name);
        d->module = NULL;
        d->name = NULL;
        d->type = NULL;
    }
    free(t->params);
    free(t->results);
    free(t);
    return WASM_ERR_NOMEM;
}

wasm_err wasm_linker_define_instance(wasm_linker *l, const char *module_name,
                                     wasm_instance *inst)
{
    if (!l || !module_name || !inst)
        return WASM_ERR_ARGS;
    const wasm_module *m = wasm_instance_module(inst);
    for (uint32_t i = 0; i < m->nexports; i++) {
        wasm_linker_def *d = slot_for(l, module_name, m->exports[i].name);
        if (!d)
            return WASM_ERR_NOMEM;
        uint32_t len = m->exports[i].name_len;
        d->module = strdup(module_name);
        d->module_len = (uint32_t)strlen(module_name);
        d->name = malloc(len + 1);
        d->name_len = len;
        if (d->name) {
            memcpy(d->name, m->exports[i].name, len);
            d->name[len] = '\0';
        }
        if (!d->module || !d->name)
            return WASM_ERR_NOMEM;
        d->kind = DEF_INSTANCE_EXPORT;
        d->inst = inst;
        d->export_index = i;
    }
    return WASM_OK;
}

const wasm_linker_def *wasm_linker_find(const wasm_linker *l, const char *module,
                                        uint32_t module_len, const char *name,
                                        uint32_t name_len)
{
    if (!l)
        return NULL;
    for (uint32_t i = 0; i < l->ndefs; i++) {
        const wasm_linker_def *d = &l->defs[i];
        if (d->module && d->module_len == module_len &&
            memcmp(d->module, module, module_len) == 0 &&
            d->name_len == name_len && memcmp(d->name, name, name_len) == 0)
            return d;
    }
    return NULL;
}
