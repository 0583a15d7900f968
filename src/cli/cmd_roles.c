/*
 * cmd_roles.c - `water dial`, `water listen` and `water relay`: a TCP
 * listener whose clients are carried through a transport role.
 */
#include "cli.h"
#include "options.h"
#include "server.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char dial_usage[] =
    "usage: water dial -t FILE.wasm [-c CONFIG] --listen ADDR --remote ADDR\n"
    "\n"
    "Accepts plain TCP on --listen and carries each connection to --remote\n"
    "through the transport's dialer role (the module wraps the bytes).\n"
    "\n"
    "options:\n"
    "  -t, --transport, --wasm-path FILE   the transport module\n"
    "  -c, --config, --config-wasm FILE    config for the module (/conf/watm.cfg)\n"
    "  --listen HOST:PORT                  where to accept (port 0 picks one)\n"
    "  --remote HOST:PORT                  where the transport dials\n"
    "  --allow-dial HOST:PORT              let the module dial this itself (repeatable,\n"
    "                                      '*' for any host or port)\n"
    "  --max-memory PAGES                  linear memory cap per connection (64 KiB pages)\n"
    "  --module-stdio                      let the module write to stdout and stderr\n"
    "  -v, -vv                             more logging\n";

static const char listen_usage[] =
    "usage: water listen -t FILE.wasm [-c CONFIG] --listen ADDR --forward ADDR\n"
    "\n"
    "Accepts transport connections on --listen (the module unwraps the bytes)\n"
    "and forwards the plaintext of each to --forward over plain TCP.\n"
    "\n"
    "options: as for `water dial`, with --forward HOST:PORT in place of --remote.\n";

static const char relay_usage[] =
    "usage: water relay -t FILE.wasm [-c CONFIG] --listen ADDR --forward ADDR\n"
    "\n"
    "Runs the transport's relay role: for each connection accepted on --listen\n"
    "the module pairs it with a connection the host dials to --forward.\n"
    "\n"
    "options: as for `water dial`, with --forward HOST:PORT in place of --remote.\n";

typedef struct role_ctx {
    water_transport *t;
    const char *target;
} role_ctx;

static water_conn *open_dial(void *arg, int client_fd, water_error *err)
{
    role_ctx *r = arg;
    return water_dial(r->t, "tcp", r->target, client_fd, err);
}

static water_conn *open_listen(void *arg, int client_fd, water_error *err)
{
    role_ctx *r = arg;
    int fwd = water_connect_tcp(r->target, 0, err);
    if (fwd < 0) {
        close(client_fd);
        return NULL;
    }
    return water_serve(r->t, client_fd, fwd, err);
}

static water_conn *open_relay(void *arg, int client_fd, water_error *err)
{
    role_ctx *r = arg;
    return water_relay(r->t, client_fd, "tcp", r->target, err);
}

static int run_role(int argc, char **argv, const char *usage, const char *target_opt,
                    cli_open_fn open)
{
    static const char *const allowed[] = {"listen", "remote", "forward", "allow-dial", NULL};
    cli_options o;
    int rc = cli_parse(argc, argv, usage, allowed, &o);
    if (rc != 0) {
        cli_options_free(&o);
        return rc > 0 ? 0 : 2;
    }
    const char *target = !strcmp(target_opt, "remote") ? o.remote : o.forward;
    if (!o.listen || !target) {
        cli_error("%s: needs --listen and --%s", argv[0], target_opt);
        cli_options_free(&o);
        return 2;
    }
    water_transport *t = cli_load_transport(&o);
    if (!t) {
        cli_options_free(&o);
        return 1;
    }
    role_ctx r = {t, target};
    rc = cli_serve(o.listen, open, &r);
    water_transport_free(t);
    cli_options_free(&o);
    return rc;
}

int cmd_dial(int argc, char **argv)
{
    return run_role(argc, argv, dial_usage, "remote", open_dial);
}

int cmd_listen(int argc, char **argv)
{
    return run_role(argc, argv, listen_usage, "forward", open_listen);
}

int cmd_relay(int argc, char **argv)
{
    return run_role(argc, argv, relay_usage, "forward", open_relay);
}

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("run: not implemented yet in this build (runner mode is planned)");
    return 2;
}
