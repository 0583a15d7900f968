/*
 * cmd_run.c - `water run`: runner mode. One instance of a module that drives
 * its own networking (listens, accepts, connects through the host), run on
 * the main thread until its entry function returns or a signal stops it.
 *
 * SIGINT and SIGTERM call water_runner_stop() from the handler (it is
 * async-signal-safe): the module's guest code is interrupted and its
 * blocking WASI calls are woken, the run returns WATER_OK and the command
 * exits 0.
 */
#include "cli.h"
#include "options.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char run_usage[] =
    "usage: water run -t FILE.wasm [-c CONFIG] [--entry NAME] [--allow-listen ADDR]...\n"
    "                 [--allow-dial ADDR]...\n"
    "\n"
    "Runner mode: runs a module that drives its own networking. The module (any\n"
    "WASI module) is instantiated once, its _start runs if exported, then its\n"
    "entry function until it returns or this process gets SIGINT or SIGTERM\n"
    "(then it stops and exits 0). The module writes to this process's stdout\n"
    "and stderr. It listens and connects through the host (water_ext_v1\n"
    "tcp_listen/tcp_connect, or env.create_listen/env.connect_tcp), only on\n"
    "the addresses allowed here: nothing by default.\n"
    "\n"
    "options:\n"
    "  -t, --transport, --wasm-path FILE   the module\n"
    "  -c, --config, --config-wasm FILE    config for the module (/conf/watm.cfg)\n"
    "  --entry, --entry-fn NAME            the exported function to run (default: main)\n"
    "  --allow-listen HOST:PORT            let the module listen here (repeatable,\n"
    "                                      '*' for any host or port)\n"
    "  --allow-dial HOST:PORT              let the module connect here (repeatable,\n"
    "                                      '*' for any host or port)\n"
    "  --tls-ca FILE, --tls-cert FILE, --tls-key FILE, --tls-sni NAME,\n"
    "  --tls-alpn LIST, --tls-insecure     TLS settings for a module that uses the\n"
    "                                      water_ext_v1 TLS functions\n"
    "  --max-memory PAGES                  linear memory cap (64 KiB pages)\n"
    "  --max-spin N                        stop a module that runs N loop iterations\n"
    "                                      without calling the host (default 2^31,\n"
    "                                      0: no limit)\n"
    "  -v, -vv                             more logging\n";

/* The runner a signal stops; set once it exists. */
static water_runner *_Atomic signal_runner;
static volatile sig_atomic_t signalled;

static void on_signal(int sig)
{
    (void)sig;
    signalled = 1;
    water_runner_stop(atomic_load(&signal_runner));
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* sockets use MSG_NOSIGNAL; pipes may not */
}

int cmd_run(int argc, char **argv)
{
    static const char *const allowed[] = {"entry",    "allow-dial", "allow-listen",
                                          "tls-ca",   "tls-cert",   "tls-key",
                                          "tls-sni",  "tls-alpn",   "tls-insecure",
                                          NULL};
    cli_options o;
    int rc = cli_parse(argc, argv, run_usage, allowed, &o);
    if (rc != 0) {
        cli_options_free(&o);
        return rc > 0 ? 0 : 2;
    }
    size_t wasm_len, config_len;
    uint8_t *config = NULL, *wasm = cli_read_file(o.transport, &wasm_len);
    if (!wasm || !cli_read_config(&o, &config, &config_len)) {
        free(wasm);
        cli_options_free(&o);
        return 1;
    }
    catch_signals();
    water_options opts;
    cli_water_options(&o, &opts);
    opts.stdio = true;
    water_error err;
    water_runner *r = water_runner_new(wasm, wasm_len, config, config_len, &opts, &err);
    free(wasm);
    free(config);
    if (!r) {
        cli_error("%s: %s", o.transport, err.message);
        cli_options_free(&o);
        return 1;
    }
    atomic_store(&signal_runner, r);
    if (signalled) /* a signal before the runner existed */
        water_runner_stop(r);
    water_err e = water_runner_run(r, o.entry, &err);
    /* Handlers run on this (the only) thread: after this store none can
     * reach the runner, which is freed next. */
    atomic_store(&signal_runner, NULL);
    water_runner_free(r);
    if (e != WATER_OK)
        cli_error("%s: %s", o.transport, err.message);
    cli_options_free(&o);
    return e == WATER_OK ? 0 : 1;
}
