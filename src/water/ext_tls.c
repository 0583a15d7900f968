/*
 * ext_tls.c - TLS with the connection decoupled from the packaging
 * (water_ext_v1 tls_*, docs/host-extension.md).
 *
 * The host runs OpenSSL's state machine over two memory BIOs per session:
 * the module feeds what it received from the network into one (tls_feed)
 * and takes the records to send out of the other (tls_take). Which fd the
 * records travel on, and how they are framed, is the module's business.
 *
 * Policy comes only from the host's configuration (water_options.tls):
 * the SSL_CTXs are built once per transport when it loads
 * (water_ext_tls_load), so a bad CA, certificate or key path is reported
 * then, and each session is an SSL_new() away.
 *
 * A session holds at most TLS_PENDING_MAX bytes the module has not yet
 * taken, and accepts input only while less than that is unread, so a
 * module cannot make the host buffer without bound.
 */
#include "ext.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_PENDING_MAX (1u << 20)
#define ALPN_MAX 1024 /* bytes of the wire-format ALPN list */

enum { MODE_CLIENT = 0, MODE_SERVER = 1 };

/* What a transport loads once (t->tls). */
struct water_tls_ctx {
    SSL_CTX *client;      /* always, when the module uses TLS */
    SSL_CTX *server;      /* only with a certificate and a key */
    char *sni;            /* name to send and verify, or NULL */
    bool sni_is_ip;       /* verify an IP address, send no SNI */
    bool verify;
    uint8_t alpn[ALPN_MAX]; /* wire format: length-prefixed names */
    size_t alpn_len;
    int said_no_server;   /* the "no certificate" line was logged (atomic) */
};

struct ext_tls {
    SSL *ssl;             /* owns rbio and wbio */
    BIO *rbio, *wbio;
    water_transport *t;
    bool server;
    int32_t fatal;        /* once the session failed: its error, for every call */
    char error[256];      /* the last error, for tls_error */
};

/* ---- loading --------------------------------------------------------------- */

/* The reason of OpenSSL's latest error (the first one queued: the cause,
 * for loading files), for messages; clears the queue. */
static const char *error_reason(char *buf, size_t len, bool first)
{
    unsigned long e = first ? ERR_peek_error() : ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    if (r)
        snprintf(buf, len, "%s", r);
    else if (e)
        snprintf(buf, len, "OpenSSL error %lx", e);
    else
        snprintf(buf, len, "unknown error");
    ERR_clear_error();
    return buf;
}

static const char *ssl_reason(char *buf, size_t len)
{
    return error_reason(buf, len, false);
}

static const char *load_reason(char *buf, size_t len)
{
    return error_reason(buf, len, true);
}

/* A file the host must read: a clear message when it cannot be opened. */
static bool readable(const char *what, const char *path, water_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        water_error_set(err, WATER_ERR_CONFIG, "TLS: %s %s: %s", what, path, strerror(errno));
        return false;
    }
    fclose(f);
    return true;
}

/* "h2,http/1.1" -> "\x02h2\x08http/1.1". */
static bool parse_alpn(struct water_tls_ctx *c, const char *list, water_error *err)
{
    size_t n = 0;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || len > 255 || n + 1 + len > sizeof c->alpn) {
            water_error_set(err, WATER_ERR_CONFIG,
                            "TLS: bad ALPN list \"%.200s\" (comma-separated names of 1 to "
                            "255 bytes)", list);
            return false;
        }
        c->alpn[n++] = (uint8_t)len;
        memcpy(c->alpn + n, p, len);
        n += len;
        p += len + (end ? 1 : 0);
        if (end && !*p) {
            water_error_set(err, WATER_ERR_CONFIG, "TLS: bad ALPN list \"%.200s\" (empty name)",
                            list);
            return false;
        }
    }
    c->alpn_len = n;
    return true;
}

/* Server side: the first of our protocols the client offers; none: no ALPN. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    const struct water_tls_ctx *c = arg;
    for (size_t i = 0; i < c->alpn_len; i += 1 + c->alpn[i]) {
        for (unsigned j = 0; j < inlen; j += 1u + in[j]) {
            if (j + 1u + in[j] > inlen)
                break;
            if (in[j] == c->alpn[i] && !memcmp(in + j + 1, c->alpn + i + 1, in[j])) {
                *out = in + j + 1;
                *outlen = in[j];
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *new_ctx(const SSL_METHOD *method, water_error *err)
{
    SSL_CTX *ctx = SSL_CTX_new_ex(NULL, NULL, method);
    if (!ctx) {
        char why[160];
        water_error_set(err, WATER_ERR_NOMEM, "TLS: cannot create a context: %s",
                        ssl_reason(why, sizeof why));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

static bool load_client(struct water_tls_ctx *c, const water_tls_options *o,
                        water_error *err)
{
    char why[160];
    if (!(c->client = new_ctx(TLS_client_method(), err)))
        return false;
    c->verify = !o->insecure;
    if (c->verify) {
        SSL_CTX_set_verify(c->client, SSL_VERIFY_PEER, NULL);
        if (o->ca_file) {
            if (!readable("CA file", o->ca_file, err))
                return false;
            if (SSL_CTX_load_verify_file(c->client, o->ca_file) != 1) {
                water_error_set(err, WATER_ERR_CONFIG, "TLS: CA file %s: %s", o->ca_file,
                                load_reason(why, sizeof why));
                return false;
            }
        } else if (SSL_CTX_set_default_verify_paths(c->client) != 1) {
            water_error_set(err, WATER_ERR_CONFIG,
                            "TLS: cannot load the system's CA certificates: %s",
                            ssl_reason(why, sizeof why));
            return false;
        }
    }
    if (c->alpn_len && SSL_CTX_set_alpn_protos(c->client, c->alpn, (unsigned)c->alpn_len)) {
        water_error_set(err, WATER_ERR_CONFIG, "TLS: cannot set ALPN: %s",
                        ssl_reason(why, sizeof why));
        return false;
    }
    return true;
}

static bool load_server(struct water_tls_ctx *c, const water_tls_options *o,
                        water_error *err)
{
    char why[160];
    if (!o->cert_file && !o->key_file)
        return true; /* no server mode */
    if (!o->cert_file || !o->key_file) {
        water_error_set(err, WATER_ERR_CONFIG,
                        "TLS: a server needs both a certificate and its private key "
                        "(--tls-cert and --tls-key); only the %s was given",
                        o->cert_file ? "certificate" : "key");
        return false;
    }
    if (!readable("certificate file", o->cert_file, err) ||
        !readable("key file", o->key_file, err) ||
        !(c->server = new_ctx(TLS_server_method(), err)))
        return false;
    if (SSL_CTX_use_certificate_chain_file(c->server, o->cert_file) != 1) {
        water_error_set(err, WATER_ERR_CONFIG, "TLS: certificate file %s: %s", o->cert_file,
                        load_reason(why, sizeof why));
        return false;
    }
    if (SSL_CTX_use_PrivateKey_file(c->server, o->key_file, SSL_FILETYPE_PEM) != 1) {
        unsigned long e = ERR_peek_last_error();
        if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
            water_error_set(err, WATER_ERR_CONFIG,
                            "TLS: the key in %s does not match the certificate in %s",
                            o->key_file, o->cert_file);
        else
            water_error_set(err, WATER_ERR_CONFIG, "TLS: key file %s: %s", o->key_file,
                            load_reason(why, sizeof why));
        ERR_clear_error();
        return false;
    }
    if (SSL_CTX_check_private_key(c->server) != 1) {
        water_error_set(err, WATER_ERR_CONFIG,
                        "TLS: the key in %s does not match the certificate in %s: %s",
                        o->key_file, o->cert_file, ssl_reason(why, sizeof why));
        return false;
    }
    if (c->alpn_len)
        SSL_CTX_set_alpn_select_cb(c->server, alpn_select, c);
    return true;
}

static bool module_uses_tls(const wasm_module *m)
{
    for (uint32_t i = 0; i < wasm_module_import_count(m); i++) {
        wasm_extern_info imp;
        if (wasm_module_import(m, i, &imp) && !strcmp(imp.module, EXT_MODULE) &&
            !strncmp(imp.name, "tls_", 4))
            return true;
    }
    return false;
}

bool water_ext_tls_load(water_transport *t, water_error *err)
{
    const water_tls_options *o = &t->opts.tls;
    if (!t->module || !module_uses_tls(t->module)) {
        if (o->ca_file || o->cert_file || o->key_file || o->alpn || o->insecure)
            water_log(t, WATER_LOG_WARN, "TLS options ignored: the transport does not use "
                                         "the host's TLS (water_ext_v1)");
        return true;
    }
    struct water_tls_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        water_error_set(err, WATER_ERR_NOMEM, "out of memory");
        return false;
    }
    t->tls = c;
    ERR_clear_error();
    if (o->sni && *o->sni) {
        unsigned char ip[16];
        c->sni_is_ip = inet_pton(AF_INET, o->sni, ip) == 1 || inet_pton(AF_INET6, o->sni, ip) == 1;
        if (!(c->sni = strdup(o->sni))) {
            water_error_set(err, WATER_ERR_NOMEM, "out of memory");
            return false;
        }
    }
    if ((o->alpn && !parse_alpn(c, o->alpn, err)) || !load_client(c, o, err) ||
        !load_server(c, o, err))
        return false;
    return true;
}

void water_ext_tls_unload(water_transport *t)
{
    struct water_tls_ctx *c = t->tls;
    if (!c)
        return;
    SSL_CTX_free(c->client);
    SSL_CTX_free(c->server);
    free(c->sni);
    free(c);
    t->tls = NULL;
}

/* ---- sessions -------------------------------------------------------------- */

void ext_tls_session_free(struct ext_tls *s)
{
    if (!s)
        return;
    SSL_free(s->ssl);
    free(s);
}

/* The error of a failed SSL call (ret is its result): -WASI_EAGAIN when it
 * only waits for records, 0 for a clean close (reads), else the session
 * fails for good: -WASI_EACCES when the peer's certificate did not verify,
 * -WASI_EPROTO otherwise, logged once with the reason. */
static int32_t ssl_fail(struct ext_tls *s, int ret, const char *what)
{
    int e = SSL_get_error(s->ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return -WASI_EAGAIN;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return 0;
    }
    const struct water_tls_ctx *c = s->t ? s->t->tls : NULL;
    long vr = SSL_get_verify_result(s->ssl);
    if (!s->server && c && c->verify && vr != X509_V_OK) {
        snprintf(s->error, sizeof s->error, "certificate verify failed: %s",
                 X509_verify_cert_error_string(vr));
        s->fatal = -WASI_EACCES;
        ERR_clear_error();
        water_log(s->t, WATER_LOG_ERROR, "TLS: %s", s->error);
        return s->fatal;
    }
    char why[160];
    if (e == SSL_ERROR_SYSCALL && !ERR_peek_last_error())
        snprintf(why, sizeof why, "unexpected end of the record stream");
    else
        ssl_reason(why, sizeof why);
    snprintf(s->error, sizeof s->error, "%s failed: %s", what, why);
    s->fatal = -WASI_EPROTO;
    water_log(s->t, WATER_LOG_WARN, "TLS %s", s->error);
    return s->fatal;
}

static struct ext_tls *session_new(wasm_instance *inst, int mode, int32_t *r)
{
    water_guest *g = water_guest_of(inst);
    water_transport *t = g ? g->t : NULL;
    const struct water_tls_ctx *c = t ? t->tls : NULL;
    SSL_CTX *ctx = !c ? NULL : mode == MODE_SERVER ? c->server : c->client;
    if (!ctx) {
        if (t && c && mode == MODE_SERVER &&
            !__atomic_exchange_n(&((struct water_tls_ctx *)c)->said_no_server, 1,
                                 __ATOMIC_RELAXED))
            water_log(t, WATER_LOG_ERROR,
                      "TLS: the module asked for a server session, but no certificate and "
                      "key are configured (--tls-cert, --tls-key)");
        *r = -WASI_ENOSYS;
        return NULL;
    }
    struct ext_tls *s = calloc(1, sizeof *s);
    if (!s) {
        *r = -WASI_ENOMEM;
        return NULL;
    }
    s->t = t;
    s->server = mode == MODE_SERVER;
    s->ssl = SSL_new(ctx);
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    if (!s->ssl || !s->rbio || !s->wbio) {
        BIO_free(s->rbio);
        BIO_free(s->wbio);
        SSL_free(s->ssl);
        free(s);
        ERR_clear_error();
        *r = -WASI_ENOMEM;
        return NULL;
    }
    BIO_set_mem_eof_return(s->rbio, -1); /* empty: "retry", not end of stream */
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    bool ok = true;
    if (s->server) {
        SSL_set_accept_state(s->ssl);
    } else {
        SSL_set_connect_state(s->ssl);
        if (c->sni && !c->sni_is_ip)
            ok = SSL_set_tlsext_host_name(s->ssl, c->sni) == 1;
        if (ok && c->sni && c->verify)
            ok = c->sni_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), c->sni) == 1
                              : SSL_set1_host(s->ssl, c->sni) == 1;
    }
    if (!ok) {
        ext_tls_session_free(s);
        ERR_clear_error();
        *r = -WASI_ENOMEM;
        return NULL;
    }
    return s;
}

/* (mode) -> handle */
static wasm_trap h_tls_new(wasm_instance *inst, void *env, wasm_slot *a)
{
    (void)env;
    uint32_t mode = a[0].u32;
    int32_t r;
    if (mode != MODE_CLIENT && mode != MODE_SERVER) {
        a[0].i32 = -WASI_EINVAL;
        return WASM_TRAP_NONE;
    }
    ERR_clear_error();
    struct ext_tls *s = session_new(inst, (int)mode, &r);
    if (s && (r = ext_session_add(inst, s)) < 0)
        ext_tls_session_free(s);
    a[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* Finds the session of handle a[0] and maps the buffer (a[1], a[2]);
 * NULL with *r set on failure. */
static struct ext_tls *session_buf(wasm_instance *inst, const wasm_slot *a, uint8_t **buf,
                                   int32_t *r)
{
    struct ext_tls *s = ext_session(inst, a[0].i32);
    if (!s) {
        *r = -WASI_EBADF;
        return NULL;
    }
    if (buf && (*r = ext_buf(inst, a[1].u32, a[2].u32, buf)) != 0)
        return NULL;
    ERR_clear_error();
    return s;
}

/* (h, in, len) -> n */
static wasm_trap h_tls_feed(wasm_instance *inst, void *env, wasm_slot *a)
{
    (void)env;
    uint8_t *in;
    int32_t r = 0;
    uint32_t len = a[2].u32;
    struct ext_tls *s = session_buf(inst, a, &in, &r);
    if (s && len) {
        if (BIO_ctrl_pending(s->rbio) >= TLS_PENDING_MAX)
            r = -WASI_EAGAIN; /* tls_read or tls_handshake first */
        else if (BIO_write(s->rbio, in, (int)len) != (int)len) {
            ERR_clear_error();
            r = -WASI_ENOMEM;
        } else
            r = (int32_t)len;
    }
    a[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* (h, out, cap) -> n; cap 0: the pending count */
static wasm_trap h_tls_take(wasm_instance *inst, void *env, wasm_slot *a)
{
    (void)env;
    uint8_t *out;
    int32_t r = 0;
    uint32_t cap = a[2].u32;
    struct ext_tls *s = session_buf(inst, a, &out, &r);
    if (s && cap == 0)
        r = (int32_t)BIO_ctrl_pending(s->wbio); /* how much is waiting */
    else if (s && BIO_ctrl_pending(s->wbio) > 0) {
        int n = BIO_read(s->wbio, out, (int)cap);
        r = n > 0 ? n : 0;
        ERR_clear_error();
    }
    a[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* (h) -> 1 done, 0 in progress, -EACCES, -EPROTO */
static wasm_trap h_tls_handshake(wasm_instance *inst, void *env, wasm_slot *a)
{
    (void)env;
    int32_t r = 0;
    struct ext_tls *s = session_buf(inst, a, NULL, &r);
    if (s) {
        if (s->fatal)
            r = s->fatal;
        else if (SSL_is_init_finished(s->ssl))
            r = 1;
        else {
            int ret = SSL_do_handshake(s->ssl);
            if (ret == 1)
                r = 1;
            else if ((r = ssl_fail(s, ret, "handshake")) == -WASI_EAGAIN)
                r = 0; /* feed more, take and send what is pending */
            else if (r == 0) { /* close_notify before the end of the handshake */
                snprintf(s->error, sizeof s->error, "handshake failed: the peer closed");
                r = s->fatal = -WASI_EPROTO;
                water_log(s->t, WATER_LOG_WARN, "TLS %s", s->error);
            }
        }
    }
    a[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* (h, in, len) -> n */
static wasm_trap h_tls_write(wasm_instance *inst, void *env, wasm_slot *a)
{
    (void)env;
    uint8_t *in;
    int32_t r = 0;
    uint32_t len = a[2].u32;
    struct ext_tls *s = session_buf(inst, a, &in, &r);
    if (s) {
        if (s->fatal)
            r = s->fatal;
        else if (len == 0)
            r = 0;
        else if (SSL_get_shutdown(s->ssl) & SSL_SENT_SHUTDOWN)
            r = -WASI_EPIPE; /* after tls_close */
        else if (BIO_ctrl_pending(s->wbio) >= TLS_PENDING_MAX)
            r = -WASI_EAGAIN; /* tls_take first */
        else {
            size_t n = 0;
            int ret = SSL_write_ex(s->ssl, in, len, &n);
            if (ret == 1)
                r = (int32_t)n;
            else if ((r = ssl_fail(s, ret, "write")) == 0)
                r = -WASI_EPIPE; /* the session was closed */
        }
    }
    a[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* (h, out, cap) -> n, 0 = closed, -EAGAIN */
static wasm_trap h_tls_read(wasm_instance *inst, void *env, wasm_slot *a)
{
    (void)env;
    uint8_t *out;
    int32_t r = 0;
    uint32_t cap = a[2].u32;
    struct ext_tls *s = session_buf(inst, a, &out, &r);
    if (s) {
        if (s->fatal)
            r = s->fatal;
        else if (cap == 0)
            r = -WASI_EINVAL;
        else {
            size_t n = 0;
            int ret = SSL_read_ex(s->ssl, out, cap, &n);
            r = ret == 1 ? (int32_t)n : ssl_fail(s, ret, "read");
        }
    }
    a[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* (h) -> 0 */
static wasm_trap h_tls_close(wasm_instance *inst, void *env, wasm_slot *a)
{
    (void)env;
    int32_t r = 0;
    struct ext_tls *s = session_buf(inst, a, NULL, &r);
    if (s) {
        if (s->fatal)
            r = s->fatal;
        else if (!SSL_is_init_finished(s->ssl))
            r = -WASI_ENOTCONN;
        else if (!(SSL_get_shutdown(s->ssl) & SSL_SENT_SHUTDOWN)) {
            int ret = SSL_shutdown(s->ssl); /* 0: sent; 1: both sides done */
            if (ret < 0 && ssl_fail(s, ret, "close") != -WASI_EAGAIN)
                r = s->fatal ? s->fatal : -WASI_EPROTO;
        }
        ERR_clear_error();
    }
    a[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* (h, out, cap) -> n: the last error's text (NUL-terminated when it fits) */
static wasm_trap h_tls_error(wasm_instance *inst, void *env, wasm_slot *a)
{
    (void)env;
    uint8_t *out;
    int32_t r = 0;
    uint32_t cap = a[2].u32;
    struct ext_tls *s = session_buf(inst, a, &out, &r);
    if (s) {
        size_t n = strlen(s->error);
        if (n > cap)
            n = cap;
        memcpy(out, s->error, n);
        if (n < cap)
            out[n] = 0;
        r = (int32_t)n;
    }
    a[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* (h, out, cap) -> n: the negotiated ALPN protocol, 0 bytes for none */
static wasm_trap h_tls_alpn(wasm_instance *inst, void *env, wasm_slot *a)
{
    (void)env;
    uint8_t *out;
    int32_t r = 0;
    uint32_t cap = a[2].u32;
    struct ext_tls *s = session_buf(inst, a, &out, &r);
    if (s) {
        const unsigned char *p = NULL;
        unsigned int n = 0;
        SSL_get0_alpn_selected(s->ssl, &p, &n);
        if (n > cap)
            r = -WASI_EMSGSIZE;
        else {
            if (n)
                memcpy(out, p, n);
            r = (int32_t)n;
        }
    }
    a[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* (h) -> 0 */
static wasm_trap h_tls_free(wasm_instance *inst, void *env, wasm_slot *a)
{
    (void)env;
    struct ext_tls *s = ext_session(inst, a[0].i32);
    if (s) {
        ext_session_remove(inst, a[0].i32);
        ext_tls_session_free(s);
        ERR_clear_error();
    }
    a[0].i32 = s ? 0 : -WASI_EBADF;
    return WASM_TRAP_NONE;
}

wasm_err ext_tls_define(wasm_linker *l)
{
    static const struct {
        const char *name, *sig;
        wasm_host_fn fn;
    } fns[] = {
        {"tls_new", "i->i", h_tls_new},
        {"tls_feed", "iii->i", h_tls_feed},
        {"tls_take", "iii->i", h_tls_take},
        {"tls_handshake", "i->i", h_tls_handshake},
        {"tls_write", "iii->i", h_tls_write},
        {"tls_read", "iii->i", h_tls_read},
        {"tls_close", "i->i", h_tls_close},
        {"tls_error", "iii->i", h_tls_error},
        {"tls_alpn", "iii->i", h_tls_alpn},
        {"tls_free", "i->i", h_tls_free},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        wasm_err e = wasm_linker_define_func(l, EXT_MODULE, fns[i].name, fns[i].sig,
                                             fns[i].fn, NULL);
        if (e != WASM_OK)
            return e;
    }
    return WASM_OK;
}
