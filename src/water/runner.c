/*
 * runner.c - runner mode (`water run`): one instance of a module that drives
 * its own networking, run to the end of its entry function on the caller's
 * thread.
 *
 * The module is any WASI preview 1 module. Its linker offers WASI, the
 * water_ext_v1 extension (crypto and TLS from ext.c, tcp_connect and
 * tcp_listen from ext_net.c) and the water-rs preview's env.connect_tcp and
 * env.create_listen (ext_net.c). It does NOT offer the per-connection env
 * imports of imports.c (water_dial, water_accept, ...), which expect a
 * water_conn behind the guest pointer.
 *
 * The runner holds a transport object of its own (never shared with
 * connections) so that host functions find the options, the allow-lists,
 * the TLS contexts (water_ext_tls_load) and the log through the water_guest
 * (host.h), exactly as in a connection; water_transport_free() frees it.
 *
 * Invariants:
 *  - the instance and its WASI context live from water_runner_new() to
 *    water_runner_free(), so water_runner_stop() never reaches freed state;
 *  - stopping is sticky: the interrupt flag and the WASI wake stay set, so
 *    a stop that comes before or during a call ends it, and `stopping`
 *    tells a stop (WATER_OK) from any other interruption.
 */
#include "host.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ENTRY "main"

struct water_runner {
    water_guest g;           /* first: the WASI context's user pointer */
    water_transport *t;      /* module, linker, copied options */
    wasi_ctx *wasi;
    wasm_instance *inst;
    atomic_bool stopping;    /* water_runner_stop() was called */
    bool ran;                /* water_runner_run() was called */
};

static bool build_linker(water_transport *t, water_error *err)
{
    t->linker = wasm_linker_new();
    if (!t->linker || wasi_link(t->linker) != WASM_OK ||
        water_ext_define(t->linker) != WASM_OK ||
        water_ext_net_define(t->linker) != WASM_OK ||
        water_preview_net_define(t->linker) != WASM_OK) {
        water_error_set(err, WATER_ERR_NOMEM, "cannot build the linker");
        return false;
    }
    return true;
}

static bool make_instance(water_runner *r, const void *config, size_t config_len,
                          water_error *err)
{
    static const char *const args[] = {"water-run"};
    wasi_options wo = {.args = args, .nargs = 1, .config = config,
                       .config_len = config_len, .user = &r->g};
    if (r->t->opts.stdio) {
        wo.stdio[1] = WASI_STDIO_INHERIT;
        wo.stdio[2] = WASI_STDIO_INHERIT;
    }
    char msg[200];
    r->wasi = wasi_ctx_new(&wo, msg, sizeof msg);
    if (!r->wasi) {
        water_error_set(err, WATER_ERR_SYSTEM, "WASI: %s", msg);
        return false;
    }
    wasm_instance_config cfg = {.max_memory_pages = r->t->opts.max_memory_pages,
                                .userdata = r->wasi};
    wasm_error e;
    r->inst = wasm_instance_new(r->t->module, r->t->linker, &cfg, &e);
    if (r->inst)
        return true;
    if (e.code == WASM_ERR_LINK)
        water_error_set(err, WATER_ERR_ABI,
                        "cannot instantiate the module: %s (in runner mode this host "
                        "provides WASI preview 1, water_ext_v1, env.connect_tcp and "
                        "env.create_listen)", e.message);
    else
        water_error_set(err, e.code == WASM_ERR_LIMIT ? WATER_ERR_MODULE : WATER_ERR_TRAP,
                        "module: instantiation failed: %s", e.message);
    return false;
}

water_runner *water_runner_new(const uint8_t *wasm, size_t wasm_len,
                               const void *config, size_t config_len,
                               const water_options *opts, water_error *err)
{
    if (err)
        err->code = WATER_OK, err->message[0] = '\0';
    if (!wasm) {
        water_error_set(err, WATER_ERR_ARGS, "no module bytes");
        return NULL;
    }
    water_runner *r = calloc(1, sizeof *r);
    water_transport *t = r ? calloc(1, sizeof *t) : NULL;
    if (!t) {
        free(r);
        water_error_set(err, WATER_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->t = r->g.t = t;
    atomic_init(&r->stopping, false);
    if (!water_transport_copy_options(t, opts, err))
        goto fail;
    wasm_error e;
    t->module = wasm_module_new(wasm, wasm_len, &e);
    if (!t->module) {
        water_error_set(err, WATER_ERR_MODULE, "%s", e.message);
        goto fail;
    }
    wasm_extern_info s;
    t->has_start = wasm_module_find_export(t->module, "_start", &s) &&
                   s.kind == WASM_EXTERN_FUNC && s.func.nparams == 0 &&
                   s.func.nresults == 0;
    /* The WASI context copies the config: the transport keeps none. */
    if (!build_linker(t, err) || !water_ext_tls_load(t, err) ||
        !make_instance(r, config, config ? config_len : 0, err))
        goto fail;
    return r;
fail:
    water_runner_free(r);
    return NULL;
}

/* Appends the names of the module's exported functions to buf, for the
 * message about a missing entry. */
static void list_functions(const wasm_module *m, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < wasm_module_export_count(m) && n + 1 < cap; i++) {
        wasm_extern_info x;
        if (!wasm_module_export(m, i, &x) || x.kind != WASM_EXTERN_FUNC)
            continue;
        int w = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", x.name);
        if (w < 0 || (size_t)w >= cap - n) {
            if (cap > 4)
                memcpy(buf + cap - 4, "...", 4);
            return;
        }
        n += (size_t)w;
    }
    if (!n)
        snprintf(buf, cap, "none");
}

/* Checks that `entry` is an exported function () -> () or () -> i32. */
static bool check_entry(const water_runner *r, const char *entry, water_error *err)
{
    wasm_extern_info x;
    if (!wasm_module_find_export(r->t->module, entry, &x) || x.kind != WASM_EXTERN_FUNC) {
        char names[200];
        list_functions(r->t->module, names, sizeof names);
        water_error_set(err, WATER_ERR_ABI,
                        "the module exports no function '%s' to run (choose the entry "
                        "with --entry; exported functions: %s)", entry, names);
        return false;
    }
    if (x.func.nparams != 0 || x.func.nresults > 1 ||
        (x.func.nresults == 1 && x.func.results[0] != WASM_I32)) {
        water_error_set(err, WATER_ERR_ABI,
                        "the entry function '%s' must take no arguments and return "
                        "nothing or an i32", entry);
        return false;
    }
    return true;
}

/* Calls an export with no arguments. Returns WATER_OK and *result (0 when it
 * returns nothing or called proc_exit(0)); *stopped when a stop ended it. */
static water_err call(water_runner *r, const char *name, int32_t *result, bool *stopped,
                      water_error *err)
{
    wasm_func *f = wasm_instance_func(r->inst, name);
    wasm_functype_info ft = wasm_func_type(f);
    wasm_val res[1];
    wasm_error e;
    *result = 0;
    *stopped = false;
    water_meter(r->t, r->inst);
    if (wasm_call(r->inst, f, NULL, 0, res, ft.nresults, &e) == WASM_OK) {
        if (ft.nresults)
            *result = res[0].of.i32;
        return WATER_OK;
    }
    if (e.code == WASM_ERR_TRAP && e.trap == WASM_TRAP_EXIT) {
        if (e.exit_code == 0)
            return WATER_OK;
        return water_error_set(err, WATER_ERR_TRANSPORT, "module: %s exited with code %d",
                               name, e.exit_code);
    }
    if (e.code == WASM_ERR_TRAP && e.trap == WASM_TRAP_INTERRUPTED &&
        atomic_load(&r->stopping)) {
        *stopped = true;
        return WATER_OK;
    }
    return water_call_error(r->t, name, &e, err);
}

water_err water_runner_run(water_runner *r, const char *entry, water_error *err)
{
    water_error dummy;
    if (!err)
        err = &dummy;
    err->code = WATER_OK;
    err->message[0] = '\0';
    if (!r)
        return water_error_set(err, WATER_ERR_ARGS, "no runner");
    if (r->ran)
        return water_error_set(err, WATER_ERR_ARGS, "the runner has already run");
    r->ran = true;
    if (!entry || !*entry)
        entry = DEFAULT_ENTRY;
    if (!check_entry(r, entry, err))
        return err->code;
    int32_t result = 0;
    bool stopped = false;
    /* `--entry _start` runs a WASI command once, as its own entry. */
    if (r->t->has_start && strcmp(entry, "_start") != 0 &&
        (call(r, "_start", &result, &stopped, err) != WATER_OK || stopped))
        goto out;
    water_log(r->t, WATER_LOG_DEBUG, "runner: calling %s", entry);
    if (call(r, entry, &result, &stopped, err) == WATER_OK && !stopped && result != 0) {
        /* a negative result is minus a WASI errno, when it is one */
        const char *name = result < 0 && result > -65536 ? wasi_errno_name(-result) : "E?";
        bool known = strcmp(name, "E?") != 0;
        water_error_set(err, WATER_ERR_TRANSPORT, "module: %s returned %d%s%s%s", entry,
                        result, known ? " (" : "", known ? name : "", known ? ")" : "");
    }
out:
    if (err->code == WATER_OK)
        water_log(r->t, WATER_LOG_INFO, "runner: %s", stopped ? "stopped" : "the module returned");
    return err->code;
}

void water_runner_stop(water_runner *r)
{
    if (!r)
        return;
    atomic_store(&r->stopping, true);
    if (r->inst)
        wasm_instance_interrupt(r->inst);
    if (r->wasi)
        wasi_ctx_wake(r->wasi);
}

void water_runner_free(water_runner *r)
{
    if (!r)
        return;
    water_ext_free(r->g.ext);
    r->g.ext = NULL;
    wasm_instance_free(r->inst);
    wasi_ctx_free(r->wasi); /* closes every socket the module holds */
    water_transport_free(r->t);
    free(r);
}
