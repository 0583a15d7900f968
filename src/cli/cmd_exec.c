/*
 * cmd_exec.c - `water exec`: call one exported function of a module and
 * print its results, or (without --invoke) run a WASI command module.
 */
#include "cli.h"
#include "values.h"

#include "wasi/wasi.h"
#include "water/wasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: water exec FILE.wasm --invoke NAME [ARG...]\n"
          "       water exec FILE.wasm [--dir HOST::GUEST]... [--env K=V]... [ARG...]\n"
          "\n"
          "With --invoke, calls the exported function NAME with the arguments\n"
          "(parsed by the function's parameter types) and prints each result on\n"
          "its own line. Otherwise runs the module's _start as a WASI command,\n"
          "with stdio, the arguments, and the granted directories.\n"
          "\n"
          "options:\n"
          "  --invoke NAME        call this exported function\n"
          "  --dir HOST::GUEST    grant a host directory to the module (WASI)\n"
          "  --env K=V            set an environment variable for the module (WASI)\n"
          "  --fuel N             stop with a trap after N loop iterations and calls\n"
          "  --max-memory PAGES   cap linear memory (64 KiB pages)\n",
          out);
}

int exec_wasi(const char *path, wasm_module *m, int argc, char **argv,
              const char **dirs, int ndirs, const char **envs, int nenvs,
              uint64_t fuel, uint32_t max_pages);

static int invoke(wasm_module *m, const char *name, int argc, char **argv,
                  uint64_t fuel, uint32_t max_pages)
{
    wasm_error err;
    /* WASI with stdio and nothing else granted; other imports that nothing
     * defines trap if called, so a module with imports can still have its
     * pure functions called. */
    wasi_options wo = {.stdio = {WASI_STDIO_INHERIT, WASI_STDIO_INHERIT, WASI_STDIO_INHERIT}};
    wasi_ctx *w = wasi_ctx_new(&wo, NULL, 0);
    wasm_linker *l = wasm_linker_new();
    if (!w || !l || wasi_link(l) != WASM_OK) {
        cli_error("out of memory");
        wasm_linker_free(l);
        wasi_ctx_free(w);
        return 1;
    }
    wasm_linker_allow_unresolved(l, true);
    wasm_instance_config cfg = {.max_memory_pages = max_pages, .userdata = w};
    wasm_instance *inst = wasm_instance_new(m, l, &cfg, &err);
    wasm_linker_free(l);
    if (!inst) {
        cli_error("instantiation failed: %s", err.message);
        wasi_ctx_free(w);
        return 1;
    }
    int rc = 1;
    wasm_val *args = NULL, *results = NULL;
    /* A WASI reactor expects _initialize before its other exports. */
    wasm_func *init = wasm_instance_func(inst, "_initialize");
    if (init && wasm_call(inst, init, NULL, 0, NULL, 0, &err) != WASM_OK) {
        cli_error("_initialize: %s", err.message);
        goto out;
    }
    wasm_func *f = wasm_instance_func(inst, name);
    if (!f) {
        cli_error("no exported function '%s'", name);
        goto out;
    }
    wasm_functype_info t = wasm_func_type(f);
    if ((uint32_t)argc != t.nparams) {
        cli_error("'%s' takes %u arguments, %d given", name, t.nparams, argc);
        goto out;
    }
    args = calloc(t.nparams + 1, sizeof *args);
    results = calloc(t.nresults + 1, sizeof *results);
    if (!args || !results)
        goto out;
    for (uint32_t i = 0; i < t.nparams; i++)
        if (!value_parse(argv[i], t.params[i], &args[i])) {
            cli_error("argument %u: '%s' is not a valid %s", i + 1, argv[i],
                      t.params[i] == WASM_I32 ? "i32" : t.params[i] == WASM_I64 ? "i64"
                      : t.params[i] == WASM_F32 ? "f32" : t.params[i] == WASM_F64 ? "f64"
                      : "reference");
            goto out;
        }
    if (fuel)
        wasm_instance_set_fuel(inst, fuel);
    if (wasm_call(inst, f, args, t.nparams, results, t.nresults, &err) != WASM_OK) {
        cli_error("%s: %s", err.code == WASM_ERR_TRAP ? "trap" : "call failed", err.message);
        goto out;
    }
    for (uint32_t i = 0; i < t.nresults; i++) {
        char buf[64];
        value_format(buf, sizeof buf, &results[i]);
        puts(buf);
    }
    rc = 0;
out:
    free(args);
    free(results);
    wasm_instance_free(inst);
    wasi_ctx_free(w);
    return rc;
}

int cmd_exec(int argc, char **argv)
{
    const char *path = NULL, *name = NULL;
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    const char **envs = calloc((size_t)argc + 1, sizeof *envs);
    int ndirs = 0, nenvs = 0, rest = argc, rc = 2;
    uint64_t fuel = 0;
    uint32_t max_pages = 0;
    if (!dirs || !envs)
        goto out;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (!path && a[0] == '-' && a[1] == '-' && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "--invoke"))
                name = v;
            else if (!strcmp(a, "--dir"))
                dirs[ndirs++] = v;
            else if (!strcmp(a, "--env"))
                envs[nenvs++] = v;
            else if (!strcmp(a, "--fuel"))
                fuel = strtoull(v, NULL, 10);
            else if (!strcmp(a, "--max-memory"))
                max_pages = (uint32_t)strtoul(v, NULL, 10);
            else {
                cli_error("exec: unknown option '%s'", a);
                usage(stderr);
                goto out;
            }
        } else if (!path) {
            path = a;
        } else if (!strcmp(a, "--invoke") && !name && i + 1 < argc) {
            name = argv[++i];
        } else if (!strcmp(a, "--")) {
            rest = i + 1;
            break;
        } else {
            rest = i;
            break;
        }
    }
    if (!path) {
        usage(stderr);
        goto out;
    }
    size_t len;
    uint8_t *bytes = cli_read_file(path, &len);
    if (!bytes) {
        rc = 1;
        goto out;
    }
    wasm_error err;
    wasm_module *m = wasm_module_new(bytes, len, &err);
    free(bytes);
    if (!m) {
        cli_error("%s: %s", path, err.message);
        rc = 1;
        goto out;
    }
    if (name)
        rc = invoke(m, name, argc - rest, argv + rest, fuel, max_pages);
    else
        rc = exec_wasi(path, m, argc - rest, argv + rest, dirs, ndirs, envs, nenvs,
                       fuel, max_pages);
    wasm_module_free(m);
out:
    free(dirs);
    free(envs);
    return rc;
}
