/*
 * pt.c - `water pt`: a Tor pluggable-transport managed proxy (PT spec 1.0).
 *
 * Tor starts it with the TOR_PT_* environment and reads its stdout:
 *
 *   VERSION 1 | VERSION-ERROR no-version
 *   client: [PROXY-ERROR ...] CMETHOD NAME socks5 127.0.0.1:PORT |
 *           CMETHOD-ERROR NAME why ... CMETHODS DONE
 *   server: SMETHOD NAME IP:PORT [ARGS:k=v,...] | SMETHOD-ERROR NAME why
 *           ... SMETHODS DONE
 *   any time: ENV-ERROR why, LOG SEVERITY=... MESSAGE="...",
 *             STATUS TRANSPORT=NAME k=v ...
 *
 * Client transports listen for SOCKS5 on 127.0.0.1; the bridge line's
 * arguments come per connection in the SOCKS5 username/password (k=v;k=v)
 * and are merged into that connection's module config (water_dial_with:
 * each connection has an instance of its own). Server transports listen
 * where TOR_PT_SERVER_BINDADDR says, merge TOR_PT_SERVER_TRANSPORT_OPTIONS
 * into the module config, announce the same options as ARGS (so that tor
 * puts them in the bridge line), and hand each connection with water_serve
 * to the Extended ORPort (SAFE_COOKIE, USERADDR, TRANSPORT) or the ORPort.
 *
 * The only file written is NAME_bridgeline.txt in TOR_PT_STATE_LOCATION.
 */
#define _GNU_SOURCE
#include "front.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_METHODS 32
#define DEFAULT_TIMEOUT_MS 10000

typedef struct pt_ctx pt_ctx;

typedef struct pt_method {
    pt_ctx *ctx;
    const front_pt_transport *def;
    water_transport *t;
    front_socks5_dialer dialer;   /* client */
    char bound[128];
} pt_method;

struct pt_ctx {
    const front_pt_options *o;
    FILE *out;
    pthread_mutex_t lock;          /* one line at a time on out */
    front_pt_env env;
    uint8_t cookie[32];
    uint32_t timeout_ms;
    front_server *srv;
    pt_method methods[MAX_METHODS];
    size_t nmethods;
};

/* ---- the protocol channel ----------------------------------------------------- */

static void line(pt_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(pt_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&c->lock);
    vfprintf(c->out, fmt, ap);
    fputc('\n', c->out);
    fflush(c->out);
    pthread_mutex_unlock(&c->lock);
    va_end(ap);
}

/* Text for one line: no newline or control characters; with `quoted`, as a
 * quoted string with '"' and '\' escaped (LOG MESSAGE, STATUS values). */
static void clean(char *dst, size_t cap, const char *src, bool quoted)
{
    size_t n = 0;
    if (quoted && n + 1 < cap)
        dst[n++] = '"';
    for (; *src && n + 3 < cap; src++) {
        unsigned char ch = (unsigned char)*src;
        if (quoted && (ch == '"' || ch == '\\'))
            dst[n++] = '\\';
        dst[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    if (quoted)
        dst[n++] = '"';
    dst[n] = '\0';
}

static void pt_log(pt_ctx *c, const char *severity, const char *msg)
{
    char q[700];
    clean(q, sizeof q, msg, true);
    line(c, "LOG SEVERITY=%s MESSAGE=%s", severity, q);
}

static void pt_logf(pt_ctx *c, const char *severity, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pt_logf(pt_ctx *c, const char *severity, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pt_log(c, severity, msg);
}

/* "CMETHOD-ERROR name why" and the like: the message on one line. */
static void method_error(pt_ctx *c, const char *kind, const char *name, const char *why)
{
    char msg[500];
    clean(msg, sizeof msg, why, false);
    line(c, "%s %s %s", kind, name, msg);
}

static void water_log_cb(void *user, water_log_level level, const char *msg)
{
    static const char *const sev[] = {"error", "warning", "info", "debug"};
    pt_log(user, sev[level <= WATER_LOG_DEBUG ? level : WATER_LOG_DEBUG], msg);
}

static void report_cb(void *user, const char *msg)
{
    pt_log(user, "warning", msg);
}

/* ---- transports --------------------------------------------------------------- */

static bool launched(const pt_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nmethods; i++)
        if (!strcmp(c->methods[i].def->name, name))
            return true;
    return false;
}

static water_transport *load(pt_ctx *c, const front_pt_transport *def, const uint8_t *config,
                             size_t config_len, water_error *err)
{
    water_options wo = c->o->water;
    wo.log = water_log_cb;
    wo.log_user = c;
    wo.stdio = false; /* stdout is tor's channel */
    return water_transport_load(def->wasm_path, config, config_len, &wo, err);
}

/* ---- client --------------------------------------------------------------------- */

/* This connection's config: the transport's, plus the bridge line's
 * arguments from the SOCKS5 username and password. */
static int client_config(void *user, const front_socks5_creds *creds, uint8_t **config,
                         size_t *len, char *why, size_t whylen)
{
    pt_method *m = user;
    *config = NULL;
    *len = 0;
    if (!creds)
        return 0;
    char joined[512];
    size_t n = creds->ulen;
    memcpy(joined, creds->user, n);
    /* Arguments under 256 bytes come with a password of one NUL byte. */
    if (!(creds->plen == 1 && creds->pass[0] == '\0')) {
        memcpy(joined + n, creds->pass, creds->plen);
        n += creds->plen;
    }
    front_kvlist args = {0};
    char msg[200];
    int rc = front_pt_parse_args(joined, n, &args, msg, sizeof msg);
    if (rc == 0 && args.n)
        rc = front_config_merge(m->def->config, m->def->config_len, &args, config, len, msg,
                                sizeof msg);
    front_kvlist_free(&args);
    if (rc != 0)
        snprintf(why, whylen, "bridge arguments: %s", msg);
    return rc;
}

static water_conn *client_open(void *arg, int client_fd, water_error *err)
{
    pt_method *m = arg;
    water_conn *conn = front_socks5_open(&m->dialer, client_fd, err);
    if (!conn) {
        char q[500];
        clean(q, sizeof q, err->message, true);
        line(m->ctx, "STATUS TRANSPORT=%s CONNECT=Failed ERRSTR=%s", m->def->name, q);
    }
    return conn;
}

static void launch_client(pt_ctx *c, const front_pt_transport *def)
{
    water_error err;
    pt_method *m = &c->methods[c->nmethods];
    *m = (pt_method){.ctx = c, .def = def};
    m->t = load(c, def, def->config, def->config_len, &err);
    if (!m->t) {
        method_error(c, "CMETHOD-ERROR", def->name, err.message);
        return;
    }
    water_info info;
    water_transport_info(m->t, &info);
    int lfd = -1;
    if (!info.dial)
        snprintf(err.message, sizeof err.message, "the transport offers no dialer role");
    else
        lfd = water_listen_tcp("127.0.0.1:0", m->bound, sizeof m->bound, &err);
    if (lfd < 0) {
        method_error(c, "CMETHOD-ERROR", def->name, err.message);
        water_transport_free(m->t);
        return;
    }
    m->dialer = (front_socks5_dialer){
        .t = m->t,
        .socks = {.timeout_ms = c->timeout_ms,
                  .stop_fd = front_server_quit_fd(c->srv),
                  .prefer_userpass = true},
        .config_for = client_config,
        .user = m,
    };
    front_server_add(c->srv, lfd, client_open, m);
    c->nmethods++;
    line(c, "CMETHOD %s socks5 %s", def->name, m->bound);
}

/* ---- server --------------------------------------------------------------------- */

static bool loopback(const char *addrport)
{
    return !strncmp(addrport, "127.", 4) || !strncmp(addrport, "[::1]:", 6) ||
           !strncmp(addrport, "localhost:", 10);
}

static water_conn *server_open(void *arg, int client_fd, water_error *err)
{
    pt_method *m = arg;
    pt_ctx *c = m->ctx;
    const char *target = c->env.ext_orport ? c->env.ext_orport : c->env.orport;
    int fd = water_connect_tcp(target, c->timeout_ms, err);
    if (fd < 0) {
        close(client_fd);
        return NULL;
    }
    if (c->env.ext_orport) {
        char peer[80], why[300];
        bool known = front_peer_address(client_fd, peer, sizeof peer);
        if (front_extor_handshake(fd, c->cookie, known ? peer : NULL, m->def->name,
                                  c->timeout_ms, front_server_quit_fd(c->srv), why,
                                  sizeof why) != 0) {
            close(fd);
            close(client_fd);
            err->code = WATER_ERR_DIAL;
            snprintf(err->message, sizeof err->message, "%s: %s", target, why);
            return NULL;
        }
    }
    return water_serve(m->t, client_fd, fd, err);
}

/* A ready-made bridge line in the state directory (as other transports
 * do); tor writes the authoritative one to its data directory. */
static void write_bridgeline(pt_ctx *c, const pt_method *m, const front_kvlist *opts)
{
    const char *dir = c->env.state_location;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        pt_logf(c, "notice", "cannot create %s: %s", dir, strerror(errno));
        return;
    }
    char path[4096];
    size_t dl = strlen(dir);
    if (snprintf(path, sizeof path, "%s%s%s_bridgeline.txt", dir,
                 dl && dir[dl - 1] == '/' ? "" : "/", m->def->name) >= (int)sizeof path)
        return;
    FILE *f = fopen(path, "w");
    if (!f) {
        pt_logf(c, "notice", "cannot write %s: %s", path, strerror(errno));
        return;
    }
    fprintf(f, "# water pt: a bridge line for transport %s. Put in the bridge's\n"
               "# public address and its fingerprint (tor writes the complete line\n"
               "# to the file 'bridgelines' in its data directory).\n"
               "Bridge %s %s <FINGERPRINT>",
            m->def->name, m->def->name, m->bound);
    for (size_t i = 0; opts && i < opts->n; i++)
        fprintf(f, " %s=%s", opts->items[i].key, opts->items[i].value);
    fputc('\n', f);
    fclose(f);
}

static void launch_server(pt_ctx *c, const front_pt_transport *def)
{
    water_error err;
    pt_method *m = &c->methods[c->nmethods];
    *m = (pt_method){.ctx = c, .def = def};
    const front_kvlist *opts = front_pt_env_options(&c->env, def->name);
    uint8_t *config;
    size_t config_len;
    char why[300];
    if (front_config_merge(def->config, def->config_len, opts, &config, &config_len, why,
                           sizeof why) != 0) {
        method_error(c, "SMETHOD-ERROR", def->name, why);
        return;
    }
    m->t = load(c, def, config, config_len, &err);
    free(config);
    if (!m->t) {
        method_error(c, "SMETHOD-ERROR", def->name, err.message);
        return;
    }
    water_info info;
    water_transport_info(m->t, &info);
    const char *bind = front_pt_env_bindaddr(&c->env, def->name);
    int lfd = -1;
    if (!info.accept)
        snprintf(err.message, sizeof err.message, "the transport offers no listener role");
    else
        lfd = water_listen_tcp(bind ? bind : "0.0.0.0:0", m->bound, sizeof m->bound, &err);
    char *args = opts && opts->n ? front_pt_smethod_args(opts) : NULL;
    if (lfd < 0 || (opts && opts->n && !args)) {
        method_error(c, "SMETHOD-ERROR", def->name, lfd < 0 ? err.message : "out of memory");
        if (lfd >= 0)
            close(lfd);
        water_transport_free(m->t);
        return;
    }
    front_server_add(c->srv, lfd, server_open, m);
    c->nmethods++;
    if (args)
        line(c, "SMETHOD %s %s ARGS:%s", def->name, m->bound, args);
    else
        line(c, "SMETHOD %s %s", def->name, m->bound);
    free(args);
    write_bridgeline(c, m, opts);
}

/* ---- the run -------------------------------------------------------------------- */

static void launch_all(pt_ctx *c, void (*launch)(pt_ctx *, const front_pt_transport *))
{
    for (size_t i = 0; i < c->env.ntransports; i++) {
        const char *name = c->env.transports[i];
        for (size_t k = 0; k < c->o->ntransports && c->nmethods < MAX_METHODS; k++) {
            const front_pt_transport *def = &c->o->transports[k];
            if (strcmp(name, "*") && strcmp(name, def->name))
                continue; /* unknown names are ignored (PT spec 3.3.2) */
            if (!launched(c, def->name))
                launch(c, def);
        }
    }
}

int front_pt_run(const front_pt_options *o)
{
    /* On the heap: client threads that outlive a bounded stop still use it. */
    pt_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    c->o = o;
    c->out = o->out ? o->out : stdout;
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    pthread_mutex_init(&c->lock, NULL);
    char why[400], msg[400];
    int rc = 1;
    switch (front_pt_env_parse(o->getenv, o->getenv_user, &c->env, why, sizeof why)) {
    case FRONT_PT_VERSION_ERROR:
        line(c, "VERSION-ERROR no-version");
        goto out;
    case FRONT_PT_ENV_ERROR:
        clean(msg, sizeof msg, why, false);
        line(c, "VERSION 1");
        line(c, "ENV-ERROR %s", msg);
        goto out;
    case FRONT_PT_OK:
        line(c, "VERSION 1");
        break;
    }
    for (size_t i = 0; i < o->ntransports; i++)
        if (!front_pt_valid_name(o->transports[i].name)) {
            clean(msg, sizeof msg, o->transports[i].name, false);
            line(c, "ENV-ERROR transport name '%s' is not a C identifier", msg);
            goto out;
        }
    if (c->env.server && c->env.ext_orport) {
        if (front_extor_read_cookie(c->env.auth_cookie_file, c->cookie, why, sizeof why) != 0) {
            clean(msg, sizeof msg, why, false);
            line(c, "ENV-ERROR TOR_PT_AUTH_COOKIE_FILE: %s", msg);
            goto out;
        }
        if (!loopback(c->env.ext_orport))
            pt_logf(c, "warning", "the Extended ORPort %s is not on this host's loopback",
                    c->env.ext_orport);
    }
    if (!c->env.server && c->env.proxy) {
        line(c, "PROXY-ERROR water pt does not support an upstream proxy (TOR_PT_PROXY)");
        goto out;
    }
    c->srv = front_server_new(report_cb, c);
    if (!c->srv) {
        line(c, "ENV-ERROR out of memory or file descriptors");
        goto out;
    }
    launch_all(c, c->env.server ? launch_server : launch_client);
    line(c, c->env.server ? "SMETHODS DONE" : "CMETHODS DONE");
    if (c->nmethods == 0) {
        pt_log(c, "error", "no transport could be launched");
        goto out;
    }
    for (size_t i = 0; i < c->nmethods; i++)
        line(c, "STATUS TRANSPORT=%s TYPE=%s ADDRESS=%s", c->methods[i].def->name,
             c->env.server ? "server" : "client", c->methods[i].bound);
    if (front_server_run(c->srv, o->stop_fd,
                         c->env.exit_on_stdin_close ? o->stdin_fd : -1) > 0) {
        /* Client threads still use c, the transports and the caller's
         * options: end the process rather than free them under them. */
        fflush(c->out);
        _exit(0);
    }
    rc = 0;
out:
    front_server_free(c->srv);
    for (size_t i = 0; i < c->nmethods; i++)
        water_transport_free(c->methods[i].t);
    front_pt_env_free(&c->env);
    pthread_mutex_destroy(&c->lock);
    free(c);
    return rc;
}
