/*
 * cmd_roles.c - `water dial`, `water listen` and `water relay`: a TCP
 * listener whose clients are carried through a transport role.
 */
#include "cli.h"
#include "front/front.h"
#include "options.h"
#include "server.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char dial_usage[] =
    "usage: water dial -t FILE.wasm [-c CONFIG] --listen ADDR [--remote ADDR]\n"
    "       water dial -t FILE.wasm [-c CONFIG] --socks5 ADDR [--socks5-auth USER:PASS]\n"
    "\n"
    "Accepts plain TCP on --listen and carries each connection to --remote\n"
    "through the transport's dialer role (the module wraps the bytes).\n"
    "Without --remote the transport's fixed dialer role is used: the module\n"
    "names the destination (from its config) and may dial only what\n"
    "--allow-dial permits.\n"
    "With --socks5 (in place of --listen and --remote) it is a SOCKS5 proxy\n"
    "(RFC 1928 CONNECT, IPv4, IPv6 and names): each client's requested\n"
    "destination is what the transport dials (docs/front-ends.md).\n"
    "\n"
    "options:\n"
    "  -t, --transport, --wasm-path FILE   the transport module\n"
    "  -c, --config, --config-wasm FILE    config for the module (/conf/watm.cfg)\n"
    "  --listen HOST:PORT                  where to accept (port 0 picks one)\n"
    "  --remote HOST:PORT                  where the transport dials\n"
    "  --socks5 HOST:PORT                  accept SOCKS5 here instead\n"
    "  --socks5-auth USER:PASS             require this username/password (RFC 1929;\n"
    "                                      default: no authentication)\n"
    "  --allow-dial HOST:PORT              let the module dial this itself (repeatable,\n"
    "                                      '*' for any host or port)\n"
    "  --max-memory PAGES                  linear memory cap per connection (64 KiB pages)\n"
    "  --max-spin N                        end a connection whose module runs N loop\n"
    "                                      iterations without calling the host (a\n"
    "                                      spinning module; default 2^31, 0: no limit)\n"
    "  --module-stdio                      let the module write to stdout and stderr\n"
    "  -v, -vv                             more logging\n"
    "TLS, for transports that use the host's TLS (water_ext_v1):\n"
    "  --tls-ca FILE                       verify servers against these CAs (PEM;\n"
    "                                      default: the system's CAs)\n"
    "  --tls-cert FILE, --tls-key FILE     certificate chain and key of the server\n"
    "                                      side (PEM)\n"
    "  --tls-sni NAME                      server name to send and verify (default:\n"
    "                                      the host of --remote / --forward)\n"
    "  --tls-alpn LIST                     ALPN protocols, e.g. h2,http/1.1\n"
    "  --tls-insecure                      do not verify the server (tests only)\n";

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

static water_conn *open_dial_fixed(void *arg, int client_fd, water_error *err)
{
    role_ctx *r = arg;
    return water_dial_fixed(r->t, client_fd, err);
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

/* The host part of "host:port" or "[v6]:port" into buf; false if none. */
static bool host_of(const char *addr, char *buf, size_t len)
{
    const char *start = addr, *end = strrchr(addr, ':');
    if (*addr == '[') {
        start = addr + 1;
        end = strchr(start, ']');
    }
    if (!end || end == start || (size_t)(end - start) >= len)
        return false;
    memcpy(buf, start, (size_t)(end - start));
    buf[end - start] = '\0';
    return true;
}

static int run_role(int argc, char **argv, const char *usage, const char *target_opt,
                    cli_open_fn open)
{
    static const char *const allowed[] = {"listen", "remote", "forward", "allow-dial",
                                          "tls-ca", "tls-cert", "tls-key", "tls-sni",
                                          "tls-alpn", "tls-insecure", NULL};
    cli_options o;
    int rc = cli_parse(argc, argv, usage, allowed, &o);
    if (rc != 0) {
        cli_options_free(&o);
        return rc > 0 ? 0 : 2;
    }
    bool dialer = !strcmp(target_opt, "remote");
    const char *target = dialer ? o.remote : o.forward;
    if (!o.listen || (!target && !dialer)) {
        cli_error("%s: needs --listen and --%s", argv[0], target_opt);
        cli_options_free(&o);
        return 2;
    }
    char sni[256];
    if (!o.tls.sni && target && host_of(target, sni, sizeof sni))
        o.tls.sni = sni; /* TLS: verify the host we dial, as curl does */
    water_transport *t = cli_load_transport(&o);
    if (!t) {
        cli_options_free(&o);
        return 1;
    }
    if (dialer && !target) {
        /* No --remote: the module picks the destination (fixed dialer). */
        water_info info;
        water_transport_info(t, &info);
        if (!info.dial_fixed) {
            cli_error("%s: needs --remote (the transport offers no fixed dialer role)",
                      argv[0]);
            water_transport_free(t);
            cli_options_free(&o);
            return 2;
        }
        open = open_dial_fixed;
    }
    role_ctx r = {t, target};
    rc = cli_serve(o.listen, open, &r);
    water_transport_free(t);
    cli_options_free(&o);
    return rc;
}

/* `water dial --socks5 ADDR`: a SOCKS5 front end (src/front/) on the dialer
 * role. */
static int run_socks5(int argc, char **argv)
{
    static const char *const allowed[] = {"socks5", "socks5-auth", "allow-dial",
                                          "tls-ca", "tls-cert", "tls-key", "tls-sni",
                                          "tls-alpn", "tls-insecure", NULL};
    cli_options o;
    int rc = cli_parse(argc, argv, dial_usage, allowed, &o);
    if (rc != 0) {
        cli_options_free(&o);
        return rc > 0 ? 0 : 2;
    }
    char user[256] = "";
    const char *colon = o.socks5_auth ? strchr(o.socks5_auth, ':') : NULL;
    if (o.socks5_auth && (!colon || colon == o.socks5_auth || !colon[1] ||
                          (size_t)(colon - o.socks5_auth) >= sizeof user ||
                          strlen(colon + 1) > 255)) {
        cli_error("%s: --socks5-auth wants USER:PASS (each 1 to 255 bytes)", argv[0]);
        cli_options_free(&o);
        return 2;
    }
    if (colon)
        memcpy(user, o.socks5_auth, (size_t)(colon - o.socks5_auth));
    water_transport *t = cli_load_transport(&o);
    if (!t) {
        cli_options_free(&o);
        return 1;
    }
    water_info info;
    water_transport_info(t, &info);
    if (!info.dial) {
        cli_error("%s: --socks5 needs the transport's dialer role", argv[0]);
        rc = 2;
    } else {
        front_socks5_dialer d = {
            .t = t,
            .socks = {.stop_fd = -1,
                      .username = colon ? user : NULL,
                      .password = colon ? colon + 1 : NULL},
        };
        rc = cli_serve(o.socks5, front_socks5_open, &d);
    }
    water_transport_free(t);
    cli_options_free(&o);
    return rc;
}

int cmd_dial(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--socks5"))
            return run_socks5(argc, argv);
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
