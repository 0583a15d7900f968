/*
 * ext.c - wrappers of the water_ext_v1 host extension and the TLS helper
 * (watm_ext.h). wasm32 only: every function here ends in a host import.
 *
 * Pointers and sizes cross as i32: wasm32 pointers are 32-bit offsets into
 * the module's memory, and a size above 2 GiB reaches the host as a huge
 * u32, which it refuses with -EMSGSIZE.
 */
#include "watm_ext.h"

#include <stdbool.h>
#include <string.h>
#include <wasi/api.h>

#define EXT_IMPORT(name) \
    __attribute__((import_module("water_ext_v1"), import_name(#name)))

EXT_IMPORT(aead_seal)
int32_t watm__ext_aead_seal(int32_t alg, const void *key, int32_t key_len, const void *nonce,
                            int32_t nonce_len, const void *ad, int32_t ad_len, const void *in,
                            int32_t in_len, void *out, int32_t out_cap);
EXT_IMPORT(aead_open)
int32_t watm__ext_aead_open(int32_t alg, const void *key, int32_t key_len, const void *nonce,
                            int32_t nonce_len, const void *ad, int32_t ad_len, const void *in,
                            int32_t in_len, void *out, int32_t out_cap);
EXT_IMPORT(hkdf)
int32_t watm__ext_hkdf(int32_t hash, const void *ikm, int32_t ikm_len, const void *salt,
                       int32_t salt_len, const void *info, int32_t info_len, void *out,
                       int32_t out_len);
EXT_IMPORT(digest)
int32_t watm__ext_digest(int32_t hash, const void *in, int32_t in_len, void *out,
                         int32_t out_cap);
EXT_IMPORT(x25519_keypair)
int32_t watm__ext_x25519_keypair(void *priv, void *pub);
EXT_IMPORT(x25519_shared)
int32_t watm__ext_x25519_shared(const void *priv, const void *peer, void *out);
EXT_IMPORT(random)
int32_t watm__ext_random(void *out, int32_t len);
EXT_IMPORT(tls_new)
int32_t watm__ext_tls_new(int32_t mode);
EXT_IMPORT(tls_feed)
int32_t watm__ext_tls_feed(int32_t h, const void *in, int32_t len);
EXT_IMPORT(tls_take)
int32_t watm__ext_tls_take(int32_t h, void *out, int32_t cap);
EXT_IMPORT(tls_handshake)
int32_t watm__ext_tls_handshake(int32_t h);
EXT_IMPORT(tls_write)
int32_t watm__ext_tls_write(int32_t h, const void *in, int32_t len);
EXT_IMPORT(tls_read)
int32_t watm__ext_tls_read(int32_t h, void *out, int32_t cap);
EXT_IMPORT(tls_close)
int32_t watm__ext_tls_close(int32_t h);
EXT_IMPORT(tls_error)
int32_t watm__ext_tls_error(int32_t h, void *out, int32_t cap);
EXT_IMPORT(tls_alpn)
int32_t watm__ext_tls_alpn(int32_t h, void *out, int32_t cap);
EXT_IMPORT(tls_free)
int32_t watm__ext_tls_free(int32_t h);

/* A size as the host reads it (u32); sizes that do not fit stay huge. */
static int32_t sz(size_t n)
{
    return (int32_t)(uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
}

/* ---- crypto ----------------------------------------------------------------- */

size_t watm_aead_key_len(enum watm_aead alg)
{
    switch (alg) {
    case WATM_AEAD_CHACHA20_POLY1305: return 32;
    case WATM_AEAD_AES_128_GCM: return 16;
    case WATM_AEAD_AES_256_GCM: return 32;
    }
    return 0;
}

size_t watm_hash_len(enum watm_hash hash)
{
    switch (hash) {
    case WATM_HASH_SHA1: return 20;
    case WATM_HASH_SHA256: return 32;
    case WATM_HASH_MD5: return 16;
    }
    return 0;
}

ssize_t watm_aead_seal(enum watm_aead alg, const uint8_t *key, const uint8_t *nonce,
                       const void *ad, size_t ad_len, const void *in, size_t in_len,
                       void *out, size_t out_cap)
{
    size_t kl = watm_aead_key_len(alg);
    if (kl == 0)
        return -WATM_EINVAL;
    return watm__ext_aead_seal((int32_t)alg, key, sz(kl), nonce, WATM_AEAD_NONCE_LEN, ad,
                               sz(ad_len), in, sz(in_len), out, sz(out_cap));
}

ssize_t watm_aead_open(enum watm_aead alg, const uint8_t *key, const uint8_t *nonce,
                       const void *ad, size_t ad_len, const void *in, size_t in_len,
                       void *out, size_t out_cap)
{
    size_t kl = watm_aead_key_len(alg);
    if (kl == 0)
        return -WATM_EINVAL;
    return watm__ext_aead_open((int32_t)alg, key, sz(kl), nonce, WATM_AEAD_NONCE_LEN, ad,
                               sz(ad_len), in, sz(in_len), out, sz(out_cap));
}

ssize_t watm_hkdf(enum watm_hash hash, const void *ikm, size_t ikm_len, const void *salt,
                  size_t salt_len, const void *info, size_t info_len, void *out,
                  size_t out_len)
{
    return watm__ext_hkdf((int32_t)hash, ikm, sz(ikm_len), salt, sz(salt_len), info,
                          sz(info_len), out, sz(out_len));
}

ssize_t watm_digest(enum watm_hash hash, const void *in, size_t in_len, void *out,
                    size_t out_cap)
{
    return watm__ext_digest((int32_t)hash, in, sz(in_len), out, sz(out_cap));
}

int watm_x25519_keypair(uint8_t priv[WATM_X25519_LEN], uint8_t pub[WATM_X25519_LEN])
{
    return watm__ext_x25519_keypair(priv, pub);
}

int watm_x25519_shared(const uint8_t priv[WATM_X25519_LEN],
                       const uint8_t peer_pub[WATM_X25519_LEN],
                       uint8_t out[WATM_X25519_LEN])
{
    return watm__ext_x25519_shared(priv, peer_pub, out);
}

int watm_random(void *out, size_t len)
{
    int32_t r = watm__ext_random(out, sz(len));
    return r < 0 ? r : 0;
}

/* ---- TLS sessions ------------------------------------------------------------ */

int watm_tls_new(enum watm_tls_mode mode)
{
    return watm__ext_tls_new((int32_t)mode);
}

ssize_t watm_tls_feed(int h, const void *in, size_t len)
{
    return watm__ext_tls_feed(h, in, sz(len));
}

ssize_t watm_tls_take(int h, void *out, size_t cap)
{
    return watm__ext_tls_take(h, out, sz(cap));
}

int watm_tls_handshake(int h)
{
    return watm__ext_tls_handshake(h);
}

ssize_t watm_tls_write(int h, const void *in, size_t len)
{
    return watm__ext_tls_write(h, in, sz(len));
}

ssize_t watm_tls_read(int h, void *out, size_t cap)
{
    return watm__ext_tls_read(h, out, sz(cap));
}

int watm_tls_close(int h)
{
    return watm__ext_tls_close(h);
}

/* Text results: the host writes the bytes, we add the NUL. */
static ssize_t text(int32_t r, char *out, size_t cap)
{
    if (r >= 0 && cap > 0)
        out[(size_t)r < cap ? (size_t)r : cap - 1] = '\0';
    return r;
}

ssize_t watm_tls_error(int h, char *out, size_t cap)
{
    if (cap == 0)
        return -WATM_EINVAL;
    return text(watm__ext_tls_error(h, out, sz(cap - 1)), out, cap);
}

ssize_t watm_tls_alpn(int h, char *out, size_t cap)
{
    if (cap == 0)
        return -WATM_EINVAL;
    return text(watm__ext_tls_alpn(h, out, sz(cap - 1)), out, cap);
}

int watm_tls_free(int h)
{
    return watm__ext_tls_free(h);
}

/* ---- the TLS helper: one session per instance (= per connection) ------------ */

#define IO_CHUNK 16384

static int helper_h = -1;
static int helper_net_fd = -1;
static bool peer_closed; /* close_notify received */
static uint8_t io_buf[IO_CHUNK];

/* The peer sent close_notify: the application must see the end of the
 * stream even if the peer keeps the TCP connection open (some wait for our
 * close_notify first). Shutting down the network fd's read side makes the
 * worker's next read return EOF once everything before it was delivered,
 * and the worker then half-closes the internal side as for a TCP EOF. */
static void on_peer_close(void)
{
    if (!peer_closed) {
        peer_closed = true;
        if (helper_net_fd >= 0 &&
            __wasi_sock_shutdown(helper_net_fd, __WASI_SDFLAGS_RD) != 0)
            watm_log("tls: cannot shut down the network read side");
    }
}

int watm_tls_session(void)
{
    return helper_h;
}

static void log_error(const char *what, int h, long r)
{
    char msg[200];
    size_t n = strlen(what);
    memcpy(msg, what, n);
    if (h >= 0 && n + 2 < sizeof msg) {
        msg[n++] = ':';
        msg[n++] = ' ';
        if (watm_tls_error(h, msg + n, sizeof msg - n) <= 0)
            n -= 2;
        n += strlen(msg + n);
    }
    msg[n] = '\0';
    watm_log_num(msg, r);
}

/* Sends every pending record on the network fd (handshake time only: the
 * worker's flows carry them afterwards). */
static int send_pending(const struct watm_session *s)
{
    for (;;) {
        ssize_t n = watm_tls_take(helper_h, io_buf, sizeof io_buf);
        if (n <= 0)
            return (int)n;
        int r = watm_send_all(s, s->network_fd, io_buf, (size_t)n);
        if (r < 0)
            return r;
    }
}

int watm_tls_session_start(const struct watm_session *s, enum watm_tls_mode mode)
{
    if (helper_h >= 0)
        return -WATM_EBUSY;
    int h = watm_tls_new(mode);
    if (h < 0) {
        log_error(mode == WATM_TLS_SERVER ? "tls: no server session (does the host have "
                                            "--tls-cert and --tls-key?), errno"
                                          : "tls: no client session, errno",
                  -1, -h);
        return h;
    }
    helper_h = h;
    helper_net_fd = s->network_fd;
    for (;;) {
        int st = watm_tls_handshake(h);
        int r = send_pending(s); /* also an alert after a failure */
        if (st < 0) {
            log_error("tls: handshake failed", h, -st);
            return st;
        }
        if (r < 0)
            return r;
        if (st == 1)
            break;
        ssize_t n = watm_recv(s, s->network_fd, io_buf, sizeof io_buf);
        if (n < 0)
            return (int)n;
        if (n == 0) {
            watm_log("tls: the peer closed the connection during the handshake");
            return -WATM_ECONNRESET;
        }
        ssize_t f = watm_tls_feed(h, io_buf, (size_t)n);
        if (f < 0)
            return (int)f;
    }
    /* Application data may have come with the last handshake records: the
     * worker would wait for the network forever, so pass it on now. */
    for (;;) {
        ssize_t n = watm_tls_read(h, io_buf, sizeof io_buf);
        if (n == -WATM_EAGAIN)
            break;
        if (n < 0) {
            log_error("tls: read failed", h, -n);
            return (int)n;
        }
        if (n == 0) {
            on_peer_close();
            break;
        }
        int r = watm_send_all(s, s->internal_fd, io_buf, (size_t)n);
        if (r < 0)
            return r;
    }
    return send_pending(s);
}

int watm_tls_session_handshake(const struct watm_session *s)
{
    return watm_tls_session_start(s, watm_role_is_initiator(s->role) ? WATM_TLS_CLIENT
                                                                     : WATM_TLS_SERVER);
}

/* Moves every pending record into out; -WATM_ENOBUFS if they do not fit
 * (the declared bound makes that impossible). */
static ssize_t take_all(uint8_t *out, size_t cap)
{
    size_t got = 0;
    for (;;) {
        ssize_t n = watm_tls_take(helper_h, out + got, cap - got);
        if (n < 0)
            return n;
        if (got == cap) {
            if (n > 0) {
                watm_log("tls: records exceed the output room");
                return -WATM_ENOBUFS;
            }
            return (ssize_t)got;
        }
        if (n == 0)
            return (ssize_t)got;
        got += (size_t)n;
    }
}

ssize_t watm_tls_wrap(struct watm_stream *s, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t out_cap)
{
    (void)s;
    if (helper_h < 0)
        return -WATM_ENOTCONN;
    if (in == NULL) { /* end of the plaintext: close_notify */
        int r = watm_tls_close(helper_h);
        if (r < 0 && r != -WATM_ENOTCONN)
            log_error("tls: close failed", helper_h, -r);
        return take_all(out, out_cap);
    }
    for (size_t done = 0; done < in_len;) {
        ssize_t n = watm_tls_write(helper_h, in + done, in_len - done);
        if (n < 0) {
            log_error("tls: write failed", helper_h, -n);
            return n;
        }
        done += (size_t)n;
    }
    return take_all(out, out_cap);
}

ssize_t watm_tls_unwrap(struct watm_stream *s, const uint8_t *in, size_t in_len,
                        uint8_t *out, size_t out_cap)
{
    (void)s;
    if (helper_h < 0)
        return -WATM_ENOTCONN;
    if (in == NULL) { /* the network reached EOF */
        if (!peer_closed)
            watm_log("tls: the peer closed the connection without close_notify");
        return 0;
    }
    if (peer_closed)
        return 0; /* RFC 8446 6.1: data after close_notify is ignored */
    ssize_t f = watm_tls_feed(helper_h, in, in_len);
    if (f < 0)
        return f;
    size_t got = 0;
    while (got < out_cap) {
        ssize_t n = watm_tls_read(helper_h, out + got, out_cap - got);
        if (n == -WATM_EAGAIN)
            break;
        if (n < 0) {
            log_error("tls: read failed", helper_h, -n);
            return n;
        }
        if (n == 0) {
            on_peer_close();
            break;
        }
        got += (size_t)n;
    }
    return (ssize_t)got;
}
