/*
 * exec_wasi.c - `water exec FILE.wasm [ARG...]` without --invoke: run a
 * WASI command module's _start with stdio, arguments, environment and the
 * granted directories, like `wasmtime run`.
 */
#include "cli.h"

#include "wasi/wasi.h"
#include "water/wasm.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

int exec_wasi(const char *path, wasm_module *m, int argc, char **argv,
              const char **dirs, int ndirs, const char **envs, int nenvs,
              uint64_t fuel, uint32_t max_pages);

/* "HOST::GUEST" or "DIR" (granted under the same name). */
static bool split_dir(const char *spec, char **host, char **guest)
{
    const char *sep = strstr(spec, "::");
    *host = sep ? strndup(spec, (size_t)(sep - spec)) : strdup(spec);
    *guest = strdup(sep ? sep + 2 : spec);
    return *host && *guest && **host && **guest;
}

int exec_wasi(const char *path, wasm_module *m, int argc, char **argv,
              const char **dirs, int ndirs, const char **envs, int nenvs,
              uint64_t fuel, uint32_t max_pages)
{
    int rc = 1;
    const char **args = calloc((size_t)argc + 2, sizeof *args);
    wasi_preopen *pre = calloc((size_t)ndirs + 1, sizeof *pre);
    wasm_linker *l = wasm_linker_new();
    wasi_ctx *w = NULL;
    wasm_instance *inst = NULL;
    if (!args || !pre || !l)
        goto out;
    args[0] = path;
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    for (int i = 0; i < ndirs; i++) {
        char *h, *g;
        if (!split_dir(dirs[i], &h, &g)) {
            cli_error("--dir '%s': want HOST::GUEST", dirs[i]);
            free(h);
            free(g);
            goto out;
        }
        pre[i] = (wasi_preopen){h, g, true};
    }
    wasi_options wo = {.args = args, .nargs = (size_t)argc + 1, .env = envs,
                       .nenv = (size_t)nenvs, .preopens = pre, .npreopens = (size_t)ndirs};
    wo.stdio[0] = wo.stdio[1] = wo.stdio[2] = WASI_STDIO_INHERIT;
    char msg[256];
    if (!(w = wasi_ctx_new(&wo, msg, sizeof msg))) {
        cli_error("%s", msg);
        goto out;
    }
    if (wasi_link(l) != WASM_OK) {
        cli_error("cannot define WASI");
        goto out;
    }
    wasm_instance_config cfg = {.max_memory_pages = max_pages, .userdata = w};
    wasm_error err;
    if (!(inst = wasm_instance_new(m, l, &cfg, &err))) {
        cli_error("%s: %s", path, err.message);
        goto out;
    }
    wasm_func *start = wasm_instance_func(inst, "_start");
    if (!start) {
        cli_error("%s: not a WASI command: no _start export (use --invoke NAME)", path);
        goto out;
    }
    if (fuel)
        wasm_instance_set_fuel(inst, fuel);
    signal(SIGPIPE, SIG_IGN);
    if (wasm_call(inst, start, NULL, 0, NULL, 0, &err) == WASM_OK)
        rc = 0;
    else if (err.code == WASM_ERR_TRAP && err.trap == WASM_TRAP_EXIT)
        rc = err.exit_code;
    else
        cli_error("%s: trap: %s", path, err.message);
out:
    wasm_instance_free(inst);
    wasi_ctx_free(w);
    wasm_linker_free(l);
    for (int i = 0; pre && i < ndirs; i++) {
        free((char *)pre[i].host_path);
        free((char *)pre[i].guest_path);
    }
    free(pre);
    free(args);
    return rc;
}
