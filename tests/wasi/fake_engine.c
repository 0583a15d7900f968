/*
 * tests/wasi/fake_engine.c - see fake_engine.h.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_engine.h"

#define FAKE_MAX_FUNCS 128
#define GUARD (64 * 1024)

struct wasm_instance {
    uint8_t *mem;
    uint64_t size;
    size_t map_len;
    void *userdata;
    char trap_msg[320];
    int exit_code;
};

struct fake_func {
    char *module, *name, *sig;
    wasm_host_fn fn;
    void *env;
};

struct wasm_linker {
    struct fake_func funcs[FAKE_MAX_FUNCS];
    size_t n;
};

/* ---- the engine API, as far as src/wasi needs it ---------------------- */

void *wasm_memory_ptr(wasm_instance *inst, uint64_t offset, uint64_t len)
{
    if (!inst->mem || offset > inst->size || len > inst->size - offset)
        return NULL;
    return inst->mem + offset;
}

uint64_t wasm_memory_size(const wasm_instance *inst)
{
    return inst->size;
}

void *wasm_instance_userdata(const wasm_instance *inst)
{
    return inst->userdata;
}

void wasm_instance_set_userdata(wasm_instance *inst, void *userdata)
{
    inst->userdata = userdata;
}

void wasm_instance_set_trap_message(wasm_instance *inst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inst->trap_msg, sizeof inst->trap_msg, fmt, ap);
    va_end(ap);
}

wasm_trap wasm_instance_exit(wasm_instance *inst, int exit_code)
{
    inst->exit_code = exit_code;
    return WASM_TRAP_EXIT;
}

wasm_linker *wasm_linker_new(void)
{
    return calloc(1, sizeof(wasm_linker));
}

void wasm_linker_free(wasm_linker *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->funcs[i].module);
        free(l->funcs[i].name);
        free(l->funcs[i].sig);
    }
    free(l);
}

static bool sig_ok(const char *s)
{
    const char *arrow = strstr(s, "->");
    if (!arrow)
        return false;
    for (const char *p = s; *p; p++) {
        if (p == arrow) {
            p++;
            continue;
        }
        if (!strchr("iIfFre", *p))
            return false;
    }
    return true;
}

wasm_err wasm_linker_define_func(wasm_linker *l, const char *module,
                                 const char *name, const char *signature,
                                 wasm_host_fn fn, void *env)
{
    if (!sig_ok(signature) || !fn)
        return WASM_ERR_ARGS;
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->funcs[i].module, module) &&
            !strcmp(l->funcs[i].name, name)) {
            free(l->funcs[i].sig);
            l->funcs[i].sig = strdup(signature);
            l->funcs[i].fn = fn;
            l->funcs[i].env = env;
            return WASM_OK;
        }
    }
    if (l->n == FAKE_MAX_FUNCS)
        return WASM_ERR_NOMEM;
    struct fake_func *f = &l->funcs[l->n++];
    f->module = strdup(module);
    f->name = strdup(name);
    f->sig = strdup(signature);
    f->fn = fn;
    f->env = env;
    return WASM_OK;
}

/* ---- test helpers ------------------------------------------------------ */

wasm_instance *fake_instance_new(uint64_t mem_size, void *userdata)
{
    wasm_instance *inst = calloc(1, sizeof *inst);
    if (!inst)
        return NULL;
    long page = sysconf(_SC_PAGESIZE);
    size_t body = (size_t)((mem_size + (uint64_t)page - 1) / (uint64_t)page *
                           (uint64_t)page);
    inst->map_len = body + GUARD;
    void *m = mmap(NULL, inst->map_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        free(inst);
        return NULL;
    }
    mprotect((uint8_t *)m + body, GUARD, PROT_NONE);
    /* Memory ends exactly where the guard starts when mem_size is a whole
     * number of pages (64 KiB wasm pages always are). */
    inst->mem = (uint8_t *)m + (body - mem_size);
    inst->size = mem_size;
    inst->userdata = userdata;
    return inst;
}

void fake_instance_free(wasm_instance *inst)
{
    if (!inst)
        return;
    size_t body = inst->map_len - GUARD;
    munmap(inst->mem - (body - inst->size), inst->map_len);
    free(inst);
}

uint8_t *fake_mem(wasm_instance *inst)
{
    return inst->mem;
}

const char *fake_trap_message(const wasm_instance *inst)
{
    return inst->trap_msg;
}

int fake_exit_code(const wasm_instance *inst)
{
    return inst->exit_code;
}

size_t fake_linker_count(const wasm_linker *l)
{
    return l->n;
}

const char *fake_linker_name(const wasm_linker *l, size_t i)
{
    return i < l->n ? l->funcs[i].name : NULL;
}

const char *fake_linker_module(const wasm_linker *l, size_t i)
{
    return i < l->n ? l->funcs[i].module : NULL;
}

const char *fake_linker_sig(const wasm_linker *l, const char *module,
                            const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->funcs[i].module, module) &&
            !strcmp(l->funcs[i].name, name))
            return l->funcs[i].sig;
    return NULL;
}

wasm_trap fake_call(const wasm_linker *l, wasm_instance *inst,
                    const char *name, const uint64_t *args, size_t nargs,
                    int32_t *result)
{
    const struct fake_func *f = NULL;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->funcs[i].name, name))
            f = &l->funcs[i];
    if (!f) {
        fprintf(stderr, "fake_call: %s is not defined\n", name);
        abort();
    }
    size_t nparams = (size_t)(strstr(f->sig, "->") - f->sig);
    if (nparams != nargs) {
        fprintf(stderr, "fake_call: %s takes %zu args (%s), got %zu\n", name,
                nparams, f->sig, nargs);
        abort();
    }
    wasm_slot slots[16];
    memset(slots, 0xAB, sizeof slots); /* garbage in the unused halves */
    for (size_t i = 0; i < nargs; i++) {
        if (f->sig[i] == 'i')
            slots[i].u32 = (uint32_t)args[i];
        else
            slots[i].u64 = args[i];
    }
    inst->trap_msg[0] = '\0';
    wasm_trap t = f->fn(inst, f->env, slots);
    if (t == WASM_TRAP_NONE && result)
        *result = slots[0].i32;
    return t;
}
