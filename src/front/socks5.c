/*
 * socks5.c - the server side of SOCKS5 (RFC 1928) with username/password
 * authentication (RFC 1929), in front of the dialer role.
 *
 * The parsers are incremental: given the bytes so far they say how many
 * more they need, so that the handshake reads exactly the client's
 * messages and never a byte of the payload that may follow the request
 * (that byte belongs to the module once water_dial takes the socket).
 */
#define _GNU_SOURCE
#include "front.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOCKS_VERSION 0x05
#define USERPASS_VERSION 0x01
#define METHOD_NO_AUTH 0x00
#define METHOD_USERPASS 0x02
#define METHOD_NONE 0xff
#define DEFAULT_TIMEOUT_MS 10000

int front_socks5_parse_greeting(const uint8_t *b, size_t n, front_socks5_greeting *g)
{
    if (n < 2)
        return (int)(2 - n);
    if (b[0] != SOCKS_VERSION || b[1] == 0)
        return FRONT_PARSE_BAD;
    size_t need = 2 + (size_t)b[1];
    if (n < need)
        return (int)(need - n);
    if (n > need)
        return FRONT_PARSE_BAD;
    g->no_auth = g->userpass = false;
    for (size_t i = 2; i < need; i++) {
        g->no_auth |= b[i] == METHOD_NO_AUTH;
        g->userpass |= b[i] == METHOD_USERPASS;
    }
    return 0;
}

int front_socks5_parse_userpass(const uint8_t *b, size_t n, front_socks5_creds *c)
{
    if (n < 2)
        return (int)(2 - n);
    if (b[0] != USERPASS_VERSION || b[1] == 0)
        return FRONT_PARSE_BAD;
    size_t ulen = b[1];
    size_t need = 2 + ulen + 1;
    if (n < need)
        return (int)(need - n);
    size_t plen = b[2 + ulen];
    need += plen;
    if (n < need)
        return (int)(need - n);
    if (n > need)
        return FRONT_PARSE_BAD;
    c->ulen = (uint8_t)ulen;
    c->plen = (uint8_t)plen;
    memcpy(c->user, b + 2, ulen);
    c->user[ulen] = '\0';
    memcpy(c->pass, b + 3 + ulen, plen);
    c->pass[plen] = '\0';
    return 0;
}

static bool printable_name(const uint8_t *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

int front_socks5_parse_request(const uint8_t *b, size_t n, front_socks5_request *r)
{
    if (n < 5) /* VER CMD RSV ATYP and the domain length or a first byte */
        return (int)(5 - n);
    if (b[0] != SOCKS_VERSION)
        return FRONT_PARSE_BAD;
    size_t alen, off = 4;
    switch (b[3]) {
    case FRONT_SOCKS5_ATYP_IPV4:
        alen = 4;
        break;
    case FRONT_SOCKS5_ATYP_IPV6:
        alen = 16;
        break;
    case FRONT_SOCKS5_ATYP_DOMAIN:
        alen = b[4];
        off = 5;
        break;
    default:
        return FRONT_PARSE_BAD_ATYP;
    }
    size_t need = off + alen + 2;
    if (n < need)
        return (int)(need - n);
    if (n > need)
        return FRONT_PARSE_BAD;
    memset(r, 0, sizeof *r);
    r->cmd = b[1];
    r->atyp = b[3];
    r->port = (uint16_t)(b[off + alen] << 8 | b[off + alen + 1]);
    switch (r->atyp) {
    case FRONT_SOCKS5_ATYP_IPV4:
        inet_ntop(AF_INET, b + off, r->host, sizeof r->host);
        snprintf(r->address, sizeof r->address, "%s:%u", r->host, r->port);
        break;
    case FRONT_SOCKS5_ATYP_IPV6:
        inet_ntop(AF_INET6, b + off, r->host, sizeof r->host);
        snprintf(r->address, sizeof r->address, "[%s]:%u", r->host, r->port);
        break;
    default:
        if (!printable_name(b + off, alen))
            return FRONT_PARSE_BAD;
        memcpy(r->host, b + off, alen);
        r->host[alen] = '\0';
        /* A name with a colon would not split back as host:port. */
        if (strchr(r->host, ':'))
            return FRONT_PARSE_BAD;
        snprintf(r->address, sizeof r->address, "%s:%u", r->host, r->port);
        break;
    }
    return 0;
}

size_t front_socks5_reply(uint8_t out[10], uint8_t code)
{
    static const uint8_t tail[] = {0x00, FRONT_SOCKS5_ATYP_IPV4, 0, 0, 0, 0, 0, 0};
    out[0] = SOCKS_VERSION;
    out[1] = code;
    memcpy(out + 2, tail, sizeof tail);
    return 10;
}

const char *front_socks5_reply_name(uint8_t code)
{
    static const char *const names[] = {
        "succeeded", "general failure", "connection not allowed by ruleset",
        "network unreachable", "host unreachable", "connection refused",
        "TTL expired", "command not supported", "address type not supported",
    };
    return code < sizeof names / sizeof names[0] ? names[code] : "unassigned";
}

static bool says(const water_error *err, int errnum)
{
    return strstr(err->message, strerror(errnum)) != NULL;
}

uint8_t front_socks5_code_for(const water_error *err)
{
    if (!err)
        return FRONT_SOCKS5_GENERAL_FAILURE;
    switch (err->code) {
    case WATER_ERR_DENIED:
        return FRONT_SOCKS5_NOT_ALLOWED;
    case WATER_ERR_TIMEOUT:
        return FRONT_SOCKS5_HOST_UNREACHABLE;
    case WATER_ERR_DIAL:
    case WATER_ERR_TRANSPORT:
        /* The host's dial failure ("dial ADDR: <strerror>", "ADDR: unknown
         * host or port (...)"), kept in the message when the module
         * passed it on. */
        if (says(err, ECONNREFUSED))
            return FRONT_SOCKS5_CONNECTION_REFUSED;
        if (says(err, ENETUNREACH) || says(err, ENETDOWN))
            return FRONT_SOCKS5_NETWORK_UNREACHABLE;
        if (says(err, EHOSTUNREACH) || says(err, EHOSTDOWN) || says(err, ETIMEDOUT) ||
            strstr(err->message, "unknown host"))
            return FRONT_SOCKS5_HOST_UNREACHABLE;
        return FRONT_SOCKS5_GENERAL_FAILURE;
    default:
        return FRONT_SOCKS5_GENERAL_FAILURE;
    }
}

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *io_reason(int rc)
{
    return rc == -ETIMEDOUT ? "timed out"
         : rc == -ECONNRESET ? "closed by the client"
         : rc == -ECANCELED ? "stopping" : strerror(-rc);
}

/* Reads one message with parse(): exactly the bytes it asks for. Returns 0,
 * FRONT_PARSE_BAD(_ATYP), or an I/O error (minus errno). */
typedef int (*parse_fn)(const uint8_t *b, size_t n, void *out);

static int read_message(int fd, uint8_t *buf, size_t cap, parse_fn parse, void *out,
                        int64_t deadline, int stop_fd, int *io_err)
{
    size_t n = 0;
    for (;;) {
        int need = parse(buf, n, out);
        if (need <= 0)
            return need;
        if ((size_t)need > cap - n)
            return FRONT_PARSE_BAD;
        int rc = front_read_exact(fd, buf + n, (size_t)need, deadline, stop_fd);
        if (rc < 0) {
            *io_err = rc;
            return 1;
        }
        n += (size_t)need;
    }
}

static int parse_greeting(const uint8_t *b, size_t n, void *out)
{
    return front_socks5_parse_greeting(b, n, out);
}
static int parse_userpass(const uint8_t *b, size_t n, void *out)
{
    return front_socks5_parse_userpass(b, n, out);
}
static int parse_request(const uint8_t *b, size_t n, void *out)
{
    return front_socks5_parse_request(b, n, out);
}

/* Constant-time comparison of a credential with what was sent. */
static bool same_secret(const char *want, const char *got, size_t got_len)
{
    size_t wl = strlen(want);
    unsigned diff = wl != got_len;
    for (size_t i = 0; i < got_len; i++)
        diff |= (unsigned)(uint8_t)got[i] ^ (unsigned)(uint8_t)want[i < wl ? i : 0];
    return diff == 0 && wl > 0;
}

int front_socks5_handshake(int fd, const front_socks5_server_opts *o,
                           front_socks5_request *req, front_socks5_creds *creds,
                           bool *used_creds, char *why, size_t whylen)
{
    int64_t deadline = front_now_ms() + (o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS);
    int stop = o->stop_fd;
    uint8_t buf[520];
    int io = 0;
    *used_creds = false;

    front_socks5_greeting g;
    int rc = read_message(fd, buf, sizeof buf, parse_greeting, &g, deadline, stop, &io);
    if (io)
        return fail(why, whylen, "SOCKS5 greeting: %s", io_reason(io));
    if (rc < 0)
        return fail(why, whylen, "malformed SOCKS5 greeting");
    bool need_creds = o->username && o->password;
    uint8_t method = need_creds ? (g.userpass ? METHOD_USERPASS : METHOD_NONE)
                   : (o->prefer_userpass && g.userpass) ? METHOD_USERPASS
                   : g.no_auth ? METHOD_NO_AUTH
                   : g.userpass ? METHOD_USERPASS : METHOD_NONE;
    uint8_t choice[2] = {SOCKS_VERSION, method};
    if ((io = front_write_all(fd, choice, 2, deadline, stop)) < 0)
        return fail(why, whylen, "SOCKS5 method reply: %s", io_reason(io));
    if (method == METHOD_NONE)
        return fail(why, whylen, "SOCKS5: no acceptable authentication method offered%s",
                    need_creds ? " (username/password required)" : "");

    if (method == METHOD_USERPASS) {
        rc = read_message(fd, buf, sizeof buf, parse_userpass, creds, deadline, stop, &io);
        if (io)
            return fail(why, whylen, "SOCKS5 authentication: %s", io_reason(io));
        if (rc < 0)
            return fail(why, whylen, "malformed SOCKS5 username/password request");
        /* Both compared, whatever the first gives (no timing hint). */
        bool user_ok = !need_creds || same_secret(o->username, creds->user, creds->ulen);
        bool pass_ok = !need_creds || same_secret(o->password, creds->pass, creds->plen);
        bool ok = user_ok && pass_ok;
        uint8_t status[2] = {USERPASS_VERSION, ok ? 0x00 : 0x01};
        if ((io = front_write_all(fd, status, 2, deadline, stop)) < 0)
            return fail(why, whylen, "SOCKS5 authentication reply: %s", io_reason(io));
        if (!ok)
            return fail(why, whylen, "SOCKS5: wrong username or password");
        *used_creds = true;
    }

    rc = read_message(fd, buf, sizeof buf, parse_request, req, deadline, stop, &io);
    if (io)
        return fail(why, whylen, "SOCKS5 request: %s", io_reason(io));
    uint8_t code = FRONT_SOCKS5_SUCCEEDED;
    if (rc == FRONT_PARSE_BAD_ATYP)
        code = FRONT_SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED;
    else if (rc < 0)
        return fail(why, whylen, "malformed SOCKS5 request");
    else if (req->cmd != FRONT_SOCKS5_CONNECT)
        code = FRONT_SOCKS5_COMMAND_NOT_SUPPORTED;
    if (code != FRONT_SOCKS5_SUCCEEDED) {
        uint8_t reply[10];
        front_write_all(fd, reply, front_socks5_reply(reply, code), deadline, stop);
        if (code == FRONT_SOCKS5_COMMAND_NOT_SUPPORTED)
            return fail(why, whylen, "SOCKS5: command 0x%02x not supported (only CONNECT)",
                        req->cmd);
        return fail(why, whylen, "SOCKS5: address type 0x%02x not supported", buf[3]);
    }
    return 0;
}

/* ---- the dialer front end --------------------------------------------------- */

typedef struct reply_ctx {
    int fd;          /* a duplicate of the client socket */
    bool sent;
} reply_ctx;

static void send_success(void *user)
{
    reply_ctx *r = user;
    uint8_t reply[10];
    front_write_all(r->fd, reply, front_socks5_reply(reply, FRONT_SOCKS5_SUCCEEDED),
                    front_now_ms() + 2000, -1);
    r->sent = true;
}

water_conn *front_socks5_open(void *dialer, int client_fd, water_error *err)
{
    front_socks5_dialer *d = dialer;
    water_error dummy;
    if (!err)
        err = &dummy;
    front_socks5_request req;
    front_socks5_creds creds;
    bool used_creds;
    char why[300];
    if (front_socks5_handshake(client_fd, &d->socks, &req, &creds, &used_creds, why,
                               sizeof why) != 0) {
        close(client_fd);
        err->code = WATER_ERR_ARGS;
        snprintf(err->message, sizeof err->message, "%s", why);
        return NULL;
    }
    uint8_t *config = NULL;
    size_t config_len = 0;
    uint8_t reply[10];
    int64_t deadline = front_now_ms() + 2000;
    if (d->config_for &&
        d->config_for(d->user, used_creds ? &creds : NULL, &config, &config_len, why,
                      sizeof why) != 0) {
        front_write_all(client_fd, reply,
                        front_socks5_reply(reply, FRONT_SOCKS5_GENERAL_FAILURE), deadline, -1);
        close(client_fd);
        err->code = WATER_ERR_CONFIG;
        snprintf(err->message, sizeof err->message, "SOCKS5 CONNECT %.280s: %.100s",
                 req.address, why);
        return NULL;
    }
    /* water_dial_with takes client_fd over (and closes it on failure): keep
     * a duplicate to answer the client either way. */
    reply_ctx rc = {.fd = fcntl(client_fd, F_DUPFD_CLOEXEC, 0)};
    if (rc.fd < 0) {
        int e = errno;
        free(config);
        close(client_fd);
        err->code = WATER_ERR_SYSTEM;
        snprintf(err->message, sizeof err->message, "dup: %s", strerror(e));
        return NULL;
    }
    water_conn_options co = {.config = config, .config_len = config_len,
                             .ready = send_success, .user = &rc};
    water_conn *c = water_dial_with(d->t, "tcp", req.address, client_fd, &co, err);
    free(config);
    if (!c) {
        uint8_t code = front_socks5_code_for(err);
        if (!rc.sent)
            front_write_all(rc.fd, reply, front_socks5_reply(reply, code),
                            front_now_ms() + 2000, -1);
        char msg[sizeof err->message];
        memcpy(msg, err->message, sizeof msg);
        snprintf(err->message, sizeof err->message, "SOCKS5 CONNECT %.100s (reply: %s): %.250s",
                 req.address, front_socks5_reply_name(code), msg);
    }
    close(rc.fd);
    return c;
}
