/*
 * watm_ext.h - typed wrappers of the water_ext_v1 host extension: crypto and
 * TLS done by the host (OpenSSL), so encrypted transports run at native
 * speed. The contract is docs/host-extension.md in the WATER-in-C tree.
 *
 * A module that calls anything declared here imports from the module
 * "water_ext_v1" and therefore runs only on hosts that offer it (WATER-in-C;
 * `water inspect` says "host extension: water_ext_v1"). Modules that do not
 * call these functions import nothing from it.
 *
 * Results: >= 0 is success, a negative value is minus a WASI errno
 * (WATM_E* in watm.h, plus WATM_EBADMSG here). The host checks every pointer
 * and length: a buffer outside memory gives -WATM_EFAULT, a length above
 * 16 MiB -WATM_EMSGSIZE, never a trap. An output may be the very same
 * buffer as the input (in place); a partial overlap gives -WATM_EINVAL.
 *
 * wasm32 only (the functions are host imports).
 */
#ifndef WATM_EXT_H
#define WATM_EXT_H

#include "watm.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WATM_EBADMSG 9 /* authentication failed (aead_open) */
#define WATM_EFAULT 21 /* a buffer outside the module's memory */
#define WATM_EMFILE 33 /* too many TLS sessions in this instance */

/* ---- crypto (stateless) ------------------------------------------------- */

enum watm_aead {
    WATM_AEAD_CHACHA20_POLY1305 = 1, /* key 32 bytes (chacha20-ietf-poly1305) */
    WATM_AEAD_AES_128_GCM = 2,       /* key 16 bytes */
    WATM_AEAD_AES_256_GCM = 3,       /* key 32 bytes */
};
#define WATM_AEAD_NONCE_LEN 12
#define WATM_AEAD_TAG_LEN 16

/* The key length of alg, 0 for an unknown algorithm. */
size_t watm_aead_key_len(enum watm_aead alg);

/*
 * Seals in[0..in_len) with key (watm_aead_key_len(alg) bytes), nonce
 * (12 bytes) and the associated data ad[0..ad_len) (NULL, 0 for none):
 * writes the ciphertext then the 16-byte tag to out (out_cap >= in_len + 16).
 * Returns in_len + 16, or -WATM_EINVAL (unknown alg, partial overlap),
 * -WATM_EMSGSIZE (out_cap too small, or a length above 16 MiB).
 */
ssize_t watm_aead_seal(enum watm_aead alg, const uint8_t *key, const uint8_t *nonce,
                       const void *ad, size_t ad_len, const void *in, size_t in_len,
                       void *out, size_t out_cap);
/*
 * Checks and opens in[0..in_len) (ciphertext then tag, in_len >= 16) into
 * out (out_cap >= in_len - 16). Returns in_len - 16, or -WATM_EBADMSG when
 * the tag does not match (out then holds zeros, never unauthenticated
 * plaintext), or the errors of watm_aead_seal.
 */
ssize_t watm_aead_open(enum watm_aead alg, const uint8_t *key, const uint8_t *nonce,
                       const void *ad, size_t ad_len, const void *in, size_t in_len,
                       void *out, size_t out_cap);

enum watm_hash {
    WATM_HASH_SHA1 = 1,   /* 20 bytes */
    WATM_HASH_SHA256 = 2, /* 32 bytes */
    WATM_HASH_MD5 = 3,    /* 16 bytes; watm_digest only (EVP_BytesToKey) */
};
#define WATM_DIGEST_MAX 32

/* The digest length of hash, 0 for an unknown one. */
size_t watm_hash_len(enum watm_hash hash);

/* HKDF (RFC 5869) extract-and-expand with SHA-1 or SHA-256: fills
 * out[0..out_len), 1 <= out_len <= 255 * hash length; salt may be NULL, 0
 * (then HashLen zero bytes, as the RFC says). Returns out_len or -errno. */
ssize_t watm_hkdf(enum watm_hash hash, const void *ikm, size_t ikm_len, const void *salt,
                  size_t salt_len, const void *info, size_t info_len, void *out,
                  size_t out_len);

/* The digest of in[0..in_len) into out (out_cap >= watm_hash_len(hash)).
 * Returns the digest length or -errno. */
ssize_t watm_digest(enum watm_hash hash, const void *in, size_t in_len, void *out,
                    size_t out_cap);

#define WATM_X25519_LEN 32
/* A new X25519 key pair. 0 or -errno. */
int watm_x25519_keypair(uint8_t priv[WATM_X25519_LEN], uint8_t pub[WATM_X25519_LEN]);
/* The shared secret of priv and peer_pub. 0, or -WATM_EINVAL when the result
 * is all zeros (a small-order peer key). */
int watm_x25519_shared(const uint8_t priv[WATM_X25519_LEN],
                       const uint8_t peer_pub[WATM_X25519_LEN],
                       uint8_t out[WATM_X25519_LEN]);

/* len cryptographically secure random bytes. 0 or -errno. */
int watm_random(void *out, size_t len);

/* ---- TLS: the host's TLS state machine, records moved by the module ------ */

/*
 * The host runs TLS (OpenSSL) with the CA file, certificate, key, SNI and
 * ALPN of ITS configuration (water --tls-ca, --tls-cert, --tls-key,
 * --tls-sni, --tls-alpn, --tls-insecure); the module only moves bytes:
 * records received from the network go in with watm_tls_feed, records to
 * send come out of watm_tls_take, plaintext goes through watm_tls_write and
 * watm_tls_read. Sessions are small integer handles local to the instance.
 */
enum watm_tls_mode {
    WATM_TLS_CLIENT = 0,
    WATM_TLS_SERVER = 1, /* the host needs a certificate and key: -WATM_ENOSYS */
};

/* A new session: its handle, or -WATM_ENOSYS (no TLS configuration for
 * that mode), -WATM_EMFILE. */
int watm_tls_new(enum watm_tls_mode mode);
/* Records received from the network; all taken (returns len), or
 * -WATM_EAGAIN when over 1 MiB is still unprocessed (read first). */
ssize_t watm_tls_feed(int h, const void *in, size_t len);
/* Records to send: up to cap bytes, 0 when none. cap == 0: returns how
 * many bytes are pending, taking nothing. */
ssize_t watm_tls_take(int h, void *out, size_t cap);
/* Advances the handshake: 1 done, 0 in progress (take and send, feed more),
 * -WATM_EACCES the peer's certificate did not verify, -WATM_EPROTO another
 * failure (watm_tls_error says which). */
int watm_tls_handshake(int h);
/* Plaintext to send: how much was accepted (then take the records), or
 * -WATM_EAGAIN (handshake not done, or over 1 MiB of records not taken). */
ssize_t watm_tls_write(int h, const void *in, size_t len);
/* Plaintext received: > 0 bytes, 0 when the peer closed (close_notify),
 * -WATM_EAGAIN when more records are needed. */
ssize_t watm_tls_read(int h, void *out, size_t cap);
/* Queues a close_notify (then take it). 0, -WATM_ENOTCONN before the
 * handshake is done. */
int watm_tls_close(int h);
/* The session's last error as text, NUL-terminated (truncated to cap - 1).
 * Returns its length. */
ssize_t watm_tls_error(int h, char *out, size_t cap);
/* The ALPN protocol the handshake agreed on, NUL-terminated; returns its
 * length, 0 for none. */
ssize_t watm_tls_alpn(int h, char *out, size_t cap);
/* Frees the session. 0 or -WATM_EBADF. */
int watm_tls_free(int h);

/*
 * The TLS helper: the pieces of a struct watm_transport whose network side
 * is TLS and whose internal side is the plaintext. The SDK's worker does
 * the rest. The whole transport:
 *
 *   const struct watm_transport tls_transport = {
 *       .name = "tls",
 *       .handshake = watm_tls_session_handshake,
 *       .wrap = watm_tls_wrap,
 *       .unwrap = watm_tls_unwrap,
 *       .wrap_bound = WATM_TLS_WRAP_BOUND,
 *       .unwrap_bound = WATM_TLS_UNWRAP_BOUND,
 *   };
 *   WATM_REGISTER(tls_transport);
 *
 * The handshake hook is a TLS client in the dialer, fixed dialer and relay
 * roles and a TLS server in the listener role. It runs the handshake on the
 * network fd, logs why it failed (the host logs the details too), and
 * passes on any plaintext that arrived with the last handshake records.
 * wrap turns plaintext into records (at the end of the stream: a
 * close_notify); unwrap turns records into plaintext. Other transports can
 * call these from their own hooks (for example to add framing around the
 * records), with the same bounds.
 */
int watm_tls_session_handshake(const struct watm_session *s);
/* The same with the mode chosen by the caller. */
int watm_tls_session_start(const struct watm_session *s, enum watm_tls_mode mode);
ssize_t watm_tls_wrap(struct watm_stream *s, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t out_cap);
ssize_t watm_tls_unwrap(struct watm_stream *s, const uint8_t *in, size_t in_len,
                        uint8_t *out, size_t out_cap);
/* The helper's session handle (for watm_tls_alpn), -1 before the handshake. */
int watm_tls_session(void);

/* Record overhead room per wrap call: one 16 KiB chunk becomes at most two
 * records plus headers, tag and padding, with any pending handshake or
 * alert bytes. */
#define WATM_TLS_WRAP_BOUND {1, 4096}
/* One call may complete a record buffered by earlier calls: up to 16 KiB
 * of plaintext (TLS 1.2 records carry at most 18 KiB of ciphertext). */
#define WATM_TLS_UNWRAP_BOUND {1, 20480}

#ifdef __cplusplus
}
#endif
#endif /* WATM_EXT_H */
