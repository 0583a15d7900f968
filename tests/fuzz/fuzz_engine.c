/*
 * fuzz_engine.c - libFuzzer target for the whole engine: decode, validate,
 * compile, instantiate, and call every exported function.
 *
 * Each input is a candidate module. The target:
 *   1. wasm_module_new() (decode + validate + compile);
 *   2. walks the introspection API (imports, exports, names);
 *   3. instantiates with a linker that binds every import it cannot resolve
 *      to a trapping stub (imports of tables, memories and globals still
 *      fail to link, which is a normal outcome), under small limits; for
 *      inputs of odd length the linker first gets, for each function
 *      import, a host function of its type that returns zeros, so that
 *      code calling imports goes on past the call;
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
 *    runtime.h (it is compiled with the engine sources, see CMakeLists.txt);
 *  - fuel alone does not bound time: it counts back-edges and calls, not
 *    instructions, so a 19 KB loop body or a loop of 10-million-element
 *    table.fill runs for minutes on 100000 units. A watchdog (a CPU-time
 *    timer of this thread) interrupts the instance once all its calls
 *    together have used CPU_BUDGET_MS; it only matters for such inputs.
 */
#define _GNU_SOURCE /* gettid, SIGEV_THREAD_ID */
#include "water/wasm.h"

#include "wasm/module.h"
#include "wasm/runtime.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id /* glibc before 2.38 */
#define sigev_notify_thread_id _sigev_un._tid
#endif

enum {
    FUEL_PER_CALL = 100000,
    MAX_CALL_DEPTH = 200,
    MAX_MEMORY_PAGES = 16,
    MAX_CALLS = 256, /* exported functions called per input */
    CPU_BUDGET_MS = 500, /* for all calls of one input, start included */
};

/* ---- watchdog ------------------------------------------------------------- */

static _Atomic(wasm_instance *) watched; /* interrupted when the timer fires */
static timer_t watchdog;
static bool have_watchdog;

static void on_watchdog(int sig)
{
    (void)sig;
    wasm_instance *inst = atomic_load(&watched);
    if (inst)
        wasm_instance_interrupt(inst); /* async-signal-safe */
}

/* A timer on this thread's CPU clock whose signal goes to this thread, so
 * the handler never runs while another thread frees the instance. Without
 * one (timer_create failed) fuel is the only limit. */
static void watchdog_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_watchdog;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGRTMIN, &sa, NULL) != 0)
        return;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGRTMIN;
    sev.sigev_notify_thread_id = gettid();
    have_watchdog = timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &watchdog) == 0;
}

static void watchdog_arm(wasm_instance *inst)
{
    atomic_store(&watched, inst);
    if (have_watchdog) {
        struct itimerspec its = {.it_value = {CPU_BUDGET_MS / 1000,
                                              (CPU_BUDGET_MS % 1000) * 1000000L}};
        timer_settime(watchdog, 0, &its, NULL);
    }
}

/* After this returns the handler can no longer see inst. */
static void watchdog_disarm(void)
{
    if (have_watchdog) {
        struct itimerspec off;
        memset(&off, 0, sizeof off);
        timer_settime(watchdog, 0, &off, NULL);
    }
    atomic_store(&watched, NULL);
}

/* ---- the target ----------------------------------------------------------- */

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

/* A host function that reads its arguments and returns zeros. env holds
 * the counts: nparams << 32 | nresults. */
static wasm_trap host_zeros(wasm_instance *caller, void *env, wasm_slot *slots)
{
    (void)caller;
    uint64_t counts = (uint64_t)(uintptr_t)env;
    uint32_t nparams = (uint32_t)(counts >> 32), nresults = (uint32_t)counts;
    for (uint32_t k = 0; k < nparams; k++)
        sink += slots[k].u64;
    for (uint32_t k = 0; k < nresults; k++)
        slots[k].u64 = 0;
    return WASM_TRAP_NONE;
}

static char type_letter(wasm_valtype t)
{
    switch (t) {
    case WASM_I32: return 'i';
    case WASM_I64: return 'I';
    case WASM_F32: return 'f';
    case WASM_F64: return 'F';
    case WASM_FUNCREF: return 'r';
    case WASM_EXTERNREF: return 'e';
    default: return '?';
    }
}

/* Defines host_zeros for every function import, with the import's type.
 * Failures (a name the C API cannot spell, two imports of one name with
 * different types) only leave that import to the trapping stub or make
 * linking fail, both ordinary outcomes. */
static void define_imports(wasm_linker *l, const wasm_module *m)
{
    wasm_extern_info info;
    for (uint32_t i = 0, n = wasm_module_import_count(m); i < n; i++) {
        if (!wasm_module_import(m, i, &info) || info.kind != WASM_EXTERN_FUNC)
            continue;
        const wasm_functype_info *t = &info.func;
        char *sig = malloc((size_t)t->nparams + t->nresults + 3);
        if (!sig)
            return;
        char *p = sig;
        for (uint32_t k = 0; k < t->nparams; k++)
            *p++ = type_letter(t->params[k]);
        *p++ = '-';
        *p++ = '>';
        for (uint32_t k = 0; k < t->nresults; k++)
            *p++ = type_letter(t->results[k]);
        *p = '\0';
        void *env = (void *)(uintptr_t)((uint64_t)t->nparams << 32 | t->nresults);
        (void)wasm_linker_define_func(l, info.module, info.name, sig, host_zeros, env);
        free(sig);
    }
}

static void run_module(wasm_module *m, bool with_host_funcs)
{
    wasm_linker *l = wasm_linker_new();
    if (!l)
        return;
    wasm_linker_allow_unresolved(l, true);
    if (with_host_funcs)
        define_imports(l, m);
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
    watchdog_arm(inst);
    if (has_start) {
        wasm_instance_set_fuel(inst, FUEL_PER_CALL);
        if (wasm_call(inst, inst->funcs[m->start], NULL, 0, NULL, 0, &err) != WASM_OK)
            goto done;
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
done:
    watchdog_disarm();
    wasm_instance_free(inst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool initialised;
    if (!initialised) {
        watchdog_init();
        initialised = true;
    }
    wasm_error err;
    wasm_module *m = wasm_module_new(data, size, &err);
    if (!m) {
        /* A failed decode must still say why. */
        if (err.code == WASM_OK || err.message[0] == '\0')
            __builtin_trap();
        return 0;
    }
    walk_module(m);
    run_module(m, size & 1);
    wasm_module_free(m);
    return 0;
}
