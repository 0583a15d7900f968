/*
 * transport.c - loading a transport module: compile once, detect the ABI
 * version and roles by export names (WATM-ABI.md), check signatures, build
 * the shared linker, and prove with a trial instance that it links.
 */
#include "host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const water_abi_names v1_names = {
    "watm_init_v1", "watm_dial_v1", "watm_dial_fixed_v1", "watm_accept_v1",
    "watm_associate_v1", "watm_ctrlpipe_v1", "watm_start_v1",
};
static const water_abi_names v0_names = {
    "_water_init", "_water_dial", NULL, "_water_accept",
    "_water_associate", "_water_cancel_with", "_water_worker",
};

static bool has_export(const wasm_module *m, const char *name, wasm_extern_info *info)
{
    wasm_extern_info tmp;
    return name && wasm_module_find_export(m, name, info ? info : &tmp);
}

/* Checks that an export, if present, is a function (i32 x nparams) -> i32.
 * Returns false and fills err when present with another type. */
static bool check_sig(const wasm_module *m, const char *name, uint32_t nparams,
                      bool *present, water_error *err)
{
    wasm_extern_info info;
    *present = has_export(m, name, &info);
    if (!*present)
        return true;
    bool ok = info.kind == WASM_EXTERN_FUNC && info.func.nparams == nparams &&
              info.func.nresults == 1 && info.func.results[0] == WASM_I32;
    for (uint32_t i = 0; ok && i < nparams; i++)
        ok = info.func.params[i] == WASM_I32;
    if (!ok)
        water_error_set(err, WATER_ERR_ABI, "export %s: expected a function (%s) -> i32",
                        name, nparams ? "i32" : "");
    return ok;
}

static bool detect_abi(water_transport *t, water_error *err)
{
    const wasm_module *m = t->module;
    static const char *const v1_markers[] = {"watm_dial_v1", "watm_dial_fixed_v1",
                                             "watm_accept_v1", "watm_associate_v1",
                                             "watm_init_v1"};
    bool v1 = false;
    for (size_t i = 0; i < sizeof v1_markers / sizeof v1_markers[0]; i++)
        v1 |= has_export(m, v1_markers[i], NULL);
    if (has_export(m, "_water_v0", NULL)) {
        t->info.abi_version = 0;
        t->names = v0_names;
    } else if (v1) {
        t->info.abi_version = 1;
        t->names = v1_names;
    } else {
        water_error_set(err, WATER_ERR_ABI,
                        "not a WATER transport: it exports neither _water_v0 nor any "
                        "watm_*_v1 function");
        return false;
    }
    const water_abi_names *n = &t->names;
    bool init, ctrl, start;
    if (!check_sig(m, n->init, 0, &init, err) || !check_sig(m, n->ctrl, 1, &ctrl, err) ||
        !check_sig(m, n->start, 0, &start, err) ||
        !check_sig(m, n->dial, 1, &t->info.dial, err) ||
        !check_sig(m, n->accept, 1, &t->info.accept, err) ||
        !check_sig(m, n->associate, 0, &t->info.relay, err))
        return false;
    if (n->dial_fixed && !check_sig(m, n->dial_fixed, 1, &t->info.dial_fixed, err))
        return false;
    const char *missing = !ctrl ? n->ctrl : !start ? n->start
                        : (!init && t->info.abi_version == 0) ? n->init : NULL;
    if (missing) {
        water_error_set(err, WATER_ERR_ABI, "WATM v%d transport without the required export %s",
                        t->info.abi_version, missing);
        return false;
    }
    if (!init)
        t->names.init = NULL;
    if (!t->info.dial && !t->info.dial_fixed && !t->info.accept && !t->info.relay) {
        water_error_set(err, WATER_ERR_ABI, "the transport offers no role (no dial, "
                        "accept or associate export)");
        return false;
    }
    wasm_extern_info s;
    t->has_start = has_export(m, "_start", &s) && s.kind == WASM_EXTERN_FUNC &&
                   s.func.nparams == 0 && s.func.nresults == 0;
    for (uint32_t i = 0; i < wasm_module_import_count(m); i++) {
        wasm_extern_info imp;
        wasm_module_import(m, i, &imp);
        if (!strcmp(imp.module, "env") && !strcmp(imp.name, "water_dial"))
            t->info.uses_water_dial = true;
    }
    return true;
}

/* Names the first import nothing provides, for a clearer message than the
 * linker's. */
static bool check_imports(water_transport *t, water_error *err)
{
    wasi_ctx *w = wasi_ctx_new(&(wasi_options){0}, NULL, 0);
    if (!w) {
        water_error_set(err, WATER_ERR_NOMEM, "cannot create a WASI context");
        return false;
    }
    wasm_instance_config cfg = {.max_memory_pages = t->opts.max_memory_pages,
                                .userdata = w};
    wasm_error e;
    wasm_instance *inst = wasm_instance_new(t->module, t->linker, &cfg, &e);
    wasi_ctx_free(w);
    if (inst) {
        wasm_instance_free(inst);
        return true;
    }
    water_error_set(err, e.code == WASM_ERR_LINK ? WATER_ERR_ABI : WATER_ERR_MODULE,
                    "cannot instantiate the transport: %s%s", e.message,
                    e.code == WASM_ERR_LINK ? " (this host provides WASI preview 1, "
                                              "the WATER imports of env and "
                                              "water_ext_v1)" : "");
    return false;
}

/* Copies n strings into a new NULL-ended array (*out); false when out of
 * memory (what was copied is still in *out, for water_transport_free). */
static bool copy_list(const char *const *src, size_t n, char ***out)
{
    *out = calloc(n + 1, sizeof **out);
    if (!*out)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((*out)[i] = strdup(src[i])))
            return false;
    return true;
}

/* *dst = a copy of src (NULL stays NULL); false when out of memory. */
static bool dup_option(const char *src, const char **dst)
{
    *dst = src ? strdup(src) : NULL;
    return !src || *dst;
}

bool water_transport_copy_options(water_transport *t, const water_options *opts,
                                  water_error *err)
{
    if (opts)
        t->opts = *opts;
    /* The TLS strings become our own copies below (water_transport_free
     * frees them): never keep the caller's pointers, even on failure. */
    water_tls_options tls = t->opts.tls;
    t->opts.tls = (water_tls_options){.insecure = tls.insecure};
    if (!t->opts.max_memory_pages)
        t->opts.max_memory_pages = 4096;
    if (!t->opts.dial_timeout_ms)
        t->opts.dial_timeout_ms = 10000;
    if (!t->opts.stop_timeout_ms)
        t->opts.stop_timeout_ms = 1000;
    if (!t->opts.spin_fuel)
        t->opts.spin_fuel = WATER_SPIN_FUEL_DEFAULT;
    t->nallow = opts && opts->allow_dial ? opts->nallow_dial : 0;
    t->nlisten_allow = opts && opts->allow_listen ? opts->nallow_listen : 0;
    if (!copy_list(opts ? opts->allow_dial : NULL, t->nallow, &t->allow) ||
        !copy_list(opts ? opts->allow_listen : NULL, t->nlisten_allow, &t->listen_allow))
        return water_error_set(err, WATER_ERR_NOMEM, "out of memory") == WATER_OK;
    t->opts.allow_dial = (const char *const *)t->allow;
    t->opts.allow_listen = (const char *const *)t->listen_allow;
    if (!dup_option(tls.ca_file, &t->opts.tls.ca_file) ||
        !dup_option(tls.cert_file, &t->opts.tls.cert_file) ||
        !dup_option(tls.key_file, &t->opts.tls.key_file) ||
        !dup_option(tls.sni, &t->opts.tls.sni) || !dup_option(tls.alpn, &t->opts.tls.alpn))
        return water_error_set(err, WATER_ERR_NOMEM, "out of memory") == WATER_OK;
    return true;
}

water_transport *water_transport_new(const uint8_t *wasm, size_t wasm_len,
                                     const void *config, size_t config_len,
                                     const water_options *opts, water_error *err)
{
    if (err)
        err->code = WATER_OK, err->message[0] = '\0';
    if (!wasm) {
        water_error_set(err, WATER_ERR_ARGS, "no module bytes");
        return NULL;
    }
    water_transport *t = calloc(1, sizeof *t);
    if (!t) {
        water_error_set(err, WATER_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (!water_transport_copy_options(t, opts, err))
        goto fail;
    if (config) {
        t->config = malloc(config_len ? config_len : 1);
        if (!t->config) {
            water_error_set(err, WATER_ERR_NOMEM, "out of memory");
            goto fail;
        }
        memcpy(t->config, config, config_len);
        t->config_len = config_len;
        t->has_config = true;
    }
    wasm_error e;
    t->module = wasm_module_new(wasm, wasm_len, &e);
    if (!t->module) {
        water_error_set(err, WATER_ERR_MODULE, "%s", e.message);
        goto fail;
    }
    if (!detect_abi(t, err))
        goto fail;
    t->linker = wasm_linker_new();
    if (!t->linker || wasi_link(t->linker) != WASM_OK ||
        water_define_imports(t->linker) != WASM_OK ||
        water_ext_net_define(t->linker) != WASM_OK ||
        water_ext_define(t->linker) != WASM_OK) {
        water_error_set(err, WATER_ERR_NOMEM, "cannot build the linker");
        goto fail;
    }
    if (!check_imports(t, err) || !water_ext_tls_load(t, err))
        goto fail;
    return t;
fail:
    water_transport_free(t);
    return NULL;
}

water_transport *water_transport_load(const char *path, const void *config,
                                      size_t config_len, const water_options *opts,
                                      water_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        water_error_set(err, WATER_ERR_ARGS, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
        } else {
            buf = nb;
            cap *= 2;
        }
    }
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        water_error_set(err, WATER_ERR_SYSTEM, "%s: cannot read", path);
        return NULL;
    }
    water_transport *t = water_transport_new(buf, n, config, config_len, opts, err);
    free(buf);
    if (!t && err) {
        char msg[sizeof err->message];
        memcpy(msg, err->message, sizeof msg);
        snprintf(err->message, sizeof err->message, "%.100s: %.290s", path, msg);
    }
    return t;
}

void water_transport_free(water_transport *t)
{
    if (!t)
        return;
    wasm_linker_free(t->linker);
    wasm_module_free(t->module);
    for (size_t i = 0; t->allow && i < t->nallow; i++)
        free(t->allow[i]);
    free(t->allow);
    for (size_t i = 0; t->listen_allow && i < t->nlisten_allow; i++)
        free(t->listen_allow[i]);
    free(t->listen_allow);
    water_ext_tls_unload(t);
    free((char *)t->opts.tls.ca_file);
    free((char *)t->opts.tls.cert_file);
    free((char *)t->opts.tls.key_file);
    free((char *)t->opts.tls.sni);
    free((char *)t->opts.tls.alpn);
    free(t->config);
    free(t);
}

void water_transport_info(const water_transport *t, water_info *out)
{
    *out = t->info;
}

void water_meter(const water_transport *t, wasm_instance *inst)
{
    if (t->opts.spin_fuel != UINT64_MAX)
        wasm_instance_set_fuel_refill(inst, t->opts.spin_fuel);
    else if (t->opts.fuel)
        wasm_instance_set_fuel(inst, t->opts.fuel);
}

water_err water_call_error(const water_transport *t, const char *name, const wasm_error *e,
                           water_error *err)
{
    if (e->code == WASM_ERR_TRAP && e->trap == WASM_TRAP_EXIT)
        return water_error_set(err, WATER_ERR_TRANSPORT, "module: %s exited with code %d",
                               name, e->exit_code);
    if (e->code == WASM_ERR_TRAP && e->trap == WASM_TRAP_FUEL &&
        t->opts.spin_fuel != UINT64_MAX)
        return water_error_set(err, WATER_ERR_TRAP,
                               "module: %s: %s after %llu loop iterations without a call "
                               "to the host (a spinning module; the limit is spin_fuel, "
                               "water --max-spin)",
                               name, e->message, (unsigned long long)t->opts.spin_fuel);
    return water_error_set(err, WATER_ERR_TRAP, "module: %s: %s", name, e->message);
}
