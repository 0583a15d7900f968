/*
 * cmd_pt.c - `water pt`: run as a Tor pluggable transport (managed proxy,
 * PT spec 1.0) that tor starts through ClientTransportPlugin or
 * ServerTransportPlugin. The protocol itself is src/front/pt.c.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "options.h"
#include "server.h"
#include "front/front.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TRANSPORTS 32

static const char pt_usage[] =
    "usage: water pt -t NAME=FILE.wasm[:CONFIG] [-t ...] [options]\n"
    "\n"
    "Runs as a Tor pluggable transport (PT 1.0 managed proxy): tor starts it\n"
    "with the TOR_PT_* environment, e.g.\n"
    "  ClientTransportPlugin water exec /usr/bin/water pt -t water=/path/xor.wasm\n"
    "  ServerTransportPlugin water exec /usr/bin/water pt -t water=/path/xor.wasm\n"
    "and it answers on stdout (VERSION, CMETHOD/SMETHOD, ...).\n"
    "\n"
    "Clients get a SOCKS5 listener per transport; the bridge line's arguments\n"
    "(key=value) are added to each connection's module config as JSON string\n"
    "members. Servers add ServerTransportOptions to the module config and\n"
    "publish them as the bridge line's arguments (ARGS), so keep secrets that\n"
    "clients must not see in CONFIG. CONFIG after '.wasm:' is a config file.\n"
    "\n"
    "options:\n"
    "  -t, --transport NAME=FILE.wasm[:CONFIG]  a transport (repeatable)\n"
    "  --max-memory PAGES                       linear memory cap per connection\n"
    "  --max-spin N                             end a connection whose module runs N\n"
    "                                           loop iterations without calling the\n"
    "                                           host (default 2^31, 0: no limit)\n"
    "  --timeout MS                             SOCKS5/ExtORPort handshake limit\n"
    "                                           (default 10000)\n"
    "  -v, -vv                                  more LOG lines\n";

/* NAME=FILE.wasm[:CONFIG] (spec is a copy we may cut): the config follows
 * the first ".wasm:". */
static bool parse_transport(char *spec, front_pt_transport *t, char **config_path)
{
    char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return false;
    *eq = '\0';
    t->name = spec;
    t->wasm_path = eq + 1;
    *config_path = NULL;
    char *sep = strstr(eq + 1, ".wasm:");
    if (sep) {
        sep[5] = '\0';
        *config_path = sep + 6;
        if (!**config_path)
            return false;
    }
    return true;
}

int cmd_pt(int argc, char **argv)
{
    front_pt_transport ts[MAX_TRANSPORTS];
    uint8_t *configs[MAX_TRANSPORTS] = {0};
    char *specs[MAX_TRANSPORTS] = {0}; /* copies: argv stays as tor sees it */
    size_t n = 0;
    int verbose = 0, rc = 2;
    unsigned long pages = 0, timeout = 0;
    uint64_t spin = 0; /* 0: the library default */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(pt_usage, stdout);
            rc = 0;
            goto out;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose++;
            continue;
        }
        if (!strcmp(a, "-vv")) {
            verbose += 2;
            continue;
        }
        bool known = !strcmp(a, "-t") || !strcmp(a, "--transport") ||
                     !strcmp(a, "--max-memory") || !strcmp(a, "--timeout") ||
                     !strcmp(a, "--max-spin");
        if (!known) {
            cli_error("pt: unknown option '%s'", a);
            fputs(pt_usage, stderr);
            goto out;
        }
        if (i + 1 >= argc) {
            cli_error("pt: option '%s' needs a value", a);
            goto out;
        }
        char *v = argv[++i], *end;
        if (!strcmp(a, "--max-memory")) {
            pages = strtoul(v, &end, 10);
            if (*end || !pages || pages > 65536) {
                cli_error("pt: --max-memory wants a page count from 1 to 65536");
                goto out;
            }
        } else if (!strcmp(a, "--max-spin")) {
            if (!cli_parse_spin("pt", v, &spin))
                goto out;
        } else if (!strcmp(a, "--timeout")) {
            timeout = strtoul(v, &end, 10);
            if (*end || !timeout || timeout > 600000) {
                cli_error("pt: --timeout wants milliseconds from 1 to 600000");
                goto out;
            }
        } else {
            char *config_path;
            if (n == MAX_TRANSPORTS) {
                cli_error("pt: at most %d transports", MAX_TRANSPORTS);
                goto out;
            }
            front_pt_transport *t = &ts[n];
            *t = (front_pt_transport){0};
            if (!(specs[n] = strdup(v))) {
                cli_error("pt: out of memory");
                goto out;
            }
            if (!parse_transport(specs[n], t, &config_path)) {
                cli_error("pt: -t wants NAME=FILE.wasm[:CONFIG], not '%s'", v);
                free(specs[n]);
                specs[n] = NULL;
                goto out;
            }
            if (config_path) {
                size_t len;
                configs[n] = cli_read_file(config_path, &len);
                if (!configs[n]) {
                    free(specs[n]);
                    specs[n] = NULL;
                    goto out;
                }
                t->config = configs[n];
                t->config_len = len;
            }
            n++;
        }
    }
    if (n == 0) {
        cli_error("pt: no transport: give -t NAME=FILE.wasm");
        fputs(pt_usage, stderr);
        goto out;
    }
    int stop = cli_stop_fd();
    if (stop < 0) {
        rc = 1;
        goto out;
    }

    front_pt_options o = {
        .transports = ts,
        .ntransports = n,
        .water = {.max_memory_pages = (uint32_t)pages,
                  .spin_fuel = spin,
                  .log_level = verbose >= 2 ? WATER_LOG_DEBUG
                             : verbose     ? WATER_LOG_INFO : WATER_LOG_WARN},
        .out = stdout,
        .stop_fd = stop,
        .stdin_fd = STDIN_FILENO,
        .timeout_ms = (uint32_t)timeout,
    };
    rc = front_pt_run(&o);
out:
    for (size_t i = 0; i < n; i++) {
        free(configs[i]);
        free(specs[i]);
    }
    return rc;
}
