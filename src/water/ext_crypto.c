/*
 * ext_crypto.c - the stateless crypto functions of water_ext_v1
 * (docs/host-extension.md): AEAD seal/open (chacha20-ietf-poly1305,
 * AES-128-GCM, AES-256-GCM), HKDF, digests, X25519, random bytes. All on
 * OpenSSL 3.
 *
 * Speed: algorithms are fetched from the default provider once per process,
 * and each thread keeps one cipher context per algorithm and direction, so
 * a seal or open costs a re-key and the cipher itself (Shadowsocks calls
 * them twice per chunk). The contexts die with their thread.
 */
#include "ext.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TAG_LEN 16
#define NONCE_LEN 12
#define X25519_LEN 32

enum { ALG_CHACHA20_POLY1305 = 1, ALG_AES_128_GCM = 2, ALG_AES_256_GCM = 3, NALG = 4 };
enum { HASH_SHA1 = 1, HASH_SHA256 = 2, HASH_MD5 = 3, NHASH = 4 };

static const char *const cipher_names[NALG] = {
    NULL, "ChaCha20-Poly1305", "AES-128-GCM", "AES-256-GCM"};
static const size_t cipher_key_len[NALG] = {0, 32, 16, 32};
static const char *const md_names[NHASH] = {NULL, "SHA1", "SHA256", "MD5"};
static const size_t md_len[NHASH] = {0, 20, 32, 16};

/* ---- process-wide algorithms, thread-local contexts -------------------- */

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *ciphers[NALG];
static EVP_MD *mds[NHASH];
static EVP_MAC *hmac;
static pthread_key_t cache_key;

struct cipher_cache {
    EVP_CIPHER_CTX *ctx[NALG][2]; /* [alg][0 = open, 1 = seal] */
};

static _Thread_local struct cipher_cache *thread_cache;

static void cache_free(void *p)
{
    struct cipher_cache *c = p;
    for (int a = 0; a < NALG; a++)
        for (int d = 0; d < 2; d++)
            EVP_CIPHER_CTX_free(c->ctx[a][d]);
    free(c);
}

static void fetch_all(void)
{
    for (int a = 1; a < NALG; a++)
        ciphers[a] = EVP_CIPHER_fetch(NULL, cipher_names[a], NULL);
    for (int h = 1; h < NHASH; h++)
        mds[h] = EVP_MD_fetch(NULL, md_names[h], NULL);
    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    pthread_key_create(&cache_key, cache_free);
    ERR_clear_error();
}

static void fetch(void)
{
    pthread_once(&fetch_once, fetch_all);
}

/* This thread's context for (alg, enc), set up with the cipher; NULL when
 * the algorithm is unavailable or memory is short. */
static EVP_CIPHER_CTX *cipher_ctx(int alg, int enc)
{
    struct cipher_cache *c = thread_cache;
    if (!c) {
        fetch();
        c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        if (pthread_setspecific(cache_key, c) != 0) {
            free(c);
            return NULL;
        }
        thread_cache = c;
    }
    EVP_CIPHER_CTX *ctx = c->ctx[alg][enc];
    if (!ctx && ciphers[alg]) {
        ctx = EVP_CIPHER_CTX_new();
        if (ctx && !EVP_CipherInit_ex2(ctx, ciphers[alg], NULL, NULL, enc, NULL)) {
            EVP_CIPHER_CTX_free(ctx);
            ctx = NULL;
        }
        c->ctx[alg][enc] = ctx;
    }
    return ctx;
}

/* ---- AEAD -------------------------------------------------------------- */

/* (alg, key, key_len, nonce, nonce_len, ad, ad_len, in, in_len, out, out_cap) */
static int32_t aead(wasm_instance *inst, const wasm_slot *s, int enc)
{
    uint32_t alg = s[0].u32, key_len = s[2].u32, nonce_len = s[4].u32, ad_len = s[6].u32,
             in_len = s[8].u32, out_cap = s[10].u32;
    if (alg < 1 || alg >= NALG)
        return -WASI_EINVAL;
    if (key_len > EXT_MAX_LEN || nonce_len > EXT_MAX_LEN || ad_len > EXT_MAX_LEN ||
        in_len > EXT_MAX_LEN || out_cap > EXT_MAX_LEN)
        return -WASI_EMSGSIZE;
    if (key_len != cipher_key_len[alg] || nonce_len != NONCE_LEN)
        return -WASI_EINVAL;
    if (!enc && in_len < TAG_LEN)
        return -WASI_EINVAL;
    uint8_t *key, *nonce, *ad, *in, *out;
    int r;
    if ((r = ext_buf(inst, s[1].u32, key_len, &key)) ||
        (r = ext_buf(inst, s[3].u32, nonce_len, &nonce)) ||
        (r = ext_buf(inst, s[5].u32, ad_len, &ad)) ||
        (r = ext_buf(inst, s[7].u32, in_len, &in)) ||
        (r = ext_buf(inst, s[9].u32, out_cap, &out)))
        return r;
    size_t data_len = enc ? in_len : in_len - TAG_LEN;
    size_t out_len = enc ? (size_t)in_len + TAG_LEN : data_len;
    if (out_cap < out_len)
        return -WASI_EMSGSIZE;
    if (!ext_no_partial_overlap(out, out_len, in, in_len) ||
        !ext_no_partial_overlap(out, out_len, key, key_len) ||
        !ext_no_partial_overlap(out, out_len, nonce, nonce_len) ||
        !ext_no_partial_overlap(out, out_len, ad, ad_len))
        return -WASI_EINVAL;

    EVP_CIPHER_CTX *ctx = cipher_ctx((int)alg, enc);
    if (!ctx)
        return -WASI_ENOMEM;
    uint8_t tag[TAG_LEN];
    if (!enc)
        memcpy(tag, in + data_len, TAG_LEN);
    int n, ok = EVP_CipherInit_ex2(ctx, NULL, key, nonce, enc, NULL);
    if (ok && ad_len)
        ok = EVP_CipherUpdate(ctx, NULL, &n, ad, (int)ad_len);
    if (ok && data_len)
        ok = EVP_CipherUpdate(ctx, out, &n, in, (int)data_len);
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag);
    if (ok)
        ok = EVP_CipherFinal_ex(ctx, out + data_len, &n);
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, out + data_len);
    if (!ok) {
        ERR_clear_error();
        if (enc)
            return -WASI_EIO;
        OPENSSL_cleanse(out, data_len); /* no unauthenticated plaintext */
        return -WASI_EBADMSG;
    }
    return (int32_t)out_len;
}

static wasm_trap h_aead_seal(wasm_instance *inst, void *env, wasm_slot *s)
{
    (void)env;
    s[0].i32 = aead(inst, s, 1);
    return WASM_TRAP_NONE;
}

static wasm_trap h_aead_open(wasm_instance *inst, void *env, wasm_slot *s)
{
    (void)env;
    s[0].i32 = aead(inst, s, 0);
    return WASM_TRAP_NONE;
}

/* ---- HKDF (RFC 5869) over HMAC ---------------------------------------- */

static bool hmac_init(EVP_MAC_CTX *ctx, int hash, const uint8_t *key, size_t key_len)
{
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md_names[hash], 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_init(ctx, key, key_len, params) == 1;
}

/* out[0..out_len) = HKDF-Expand(HKDF-Extract(salt, ikm), info, out_len). */
static bool hkdf(int hash, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                 size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out,
                 size_t out_len)
{
    fetch();
    if (!hmac)
        return false;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
    if (!ctx)
        return false;
    size_t hl = md_len[hash], n;
    uint8_t zeros[64] = {0}, prk[64], t[64];
    if (salt_len == 0) { /* "a string of HashLen zeros" */
        salt = zeros;
        salt_len = hl;
    }
    bool ok = hmac_init(ctx, hash, salt, salt_len) && EVP_MAC_update(ctx, ikm, ikm_len) &&
              EVP_MAC_final(ctx, prk, &n, sizeof prk) && n == hl;
    size_t done = 0, t_len = 0;
    for (uint8_t i = 1; ok && done < out_len; i++) {
        ok = hmac_init(ctx, hash, prk, hl) && EVP_MAC_update(ctx, t, t_len) &&
             EVP_MAC_update(ctx, info, info_len) && EVP_MAC_update(ctx, &i, 1) &&
             EVP_MAC_final(ctx, t, &n, sizeof t) && n == hl;
        t_len = hl;
        size_t take = out_len - done < hl ? out_len - done : hl;
        if (ok)
            memcpy(out + done, t, take);
        done += take;
    }
    EVP_MAC_CTX_free(ctx);
    OPENSSL_cleanse(prk, sizeof prk);
    OPENSSL_cleanse(t, sizeof t);
    if (!ok)
        ERR_clear_error();
    return ok;
}

/* (hash, ikm, ikm_len, salt, salt_len, info, info_len, out, out_len) */
static wasm_trap h_hkdf(wasm_instance *inst, void *env, wasm_slot *s)
{
    (void)env;
    uint32_t hash = s[0].u32, ikm_len = s[2].u32, salt_len = s[4].u32,
             info_len = s[6].u32, out_len = s[8].u32;
    int32_t r = 0;
    uint8_t *ikm, *salt, *info, *out;
    if (hash != HASH_SHA1 && hash != HASH_SHA256)
        r = -WASI_EINVAL;
    else if (ikm_len > EXT_MAX_LEN || salt_len > EXT_MAX_LEN || info_len > EXT_MAX_LEN ||
             out_len > EXT_MAX_LEN)
        r = -WASI_EMSGSIZE;
    else if (out_len == 0 || out_len > 255 * md_len[hash])
        r = -WASI_EINVAL;
    else if ((r = ext_buf(inst, s[1].u32, ikm_len, &ikm)) ||
             (r = ext_buf(inst, s[3].u32, salt_len, &salt)) ||
             (r = ext_buf(inst, s[5].u32, info_len, &info)) ||
             (r = ext_buf(inst, s[7].u32, out_len, &out)))
        ;
    else if (!ext_no_partial_overlap(out, out_len, ikm, ikm_len) ||
             !ext_no_partial_overlap(out, out_len, salt, salt_len) ||
             !ext_no_partial_overlap(out, out_len, info, info_len))
        r = -WASI_EINVAL;
    else if (out == info && info_len)
        r = -WASI_EINVAL; /* info is read for every output block */
    else
        r = hkdf((int)hash, ikm, ikm_len, salt, salt_len, info, info_len, out, out_len)
                ? (int32_t)out_len : -WASI_EIO;
    s[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* ---- digests ------------------------------------------------------------- */

/* (hash, in, in_len, out, out_cap) */
static wasm_trap h_digest(wasm_instance *inst, void *env, wasm_slot *s)
{
    (void)env;
    uint32_t hash = s[0].u32, in_len = s[2].u32, out_cap = s[4].u32;
    int32_t r = 0;
    uint8_t *in, *out;
    if (hash < 1 || hash >= NHASH)
        r = -WASI_EINVAL;
    else if ((r = ext_buf(inst, s[1].u32, in_len, &in)) ||
             (r = ext_buf(inst, s[3].u32, out_cap, &out)))
        ;
    else if (out_cap < md_len[hash])
        r = -WASI_EMSGSIZE;
    else if (!ext_no_partial_overlap(out, md_len[hash], in, in_len))
        r = -WASI_EINVAL;
    else {
        fetch();
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (mds[hash] && EVP_Digest(in, in_len, md, &n, mds[hash], NULL) &&
            n == md_len[hash]) {
            memcpy(out, md, n);
            r = (int32_t)n;
        } else {
            ERR_clear_error();
            r = -WASI_EIO;
        }
    }
    s[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* ---- X25519 -------------------------------------------------------------- */

/* (priv_out, pub_out) */
static wasm_trap h_x25519_keypair(wasm_instance *inst, void *env, wasm_slot *s)
{
    (void)env;
    uint8_t *priv, *pub;
    int32_t r = 0;
    if ((r = ext_buf(inst, s[0].u32, X25519_LEN, &priv)) ||
        (r = ext_buf(inst, s[1].u32, X25519_LEN, &pub)))
        ;
    else if (!ext_no_partial_overlap(pub, X25519_LEN, priv, X25519_LEN) || pub == priv)
        r = -WASI_EINVAL;
    else {
        uint8_t k[X25519_LEN], p[X25519_LEN];
        size_t plen = sizeof p;
        EVP_PKEY *key = NULL;
        bool ok = RAND_priv_bytes(k, sizeof k) == 1 &&
                  (key = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, k,
                                                         sizeof k)) != NULL &&
                  EVP_PKEY_get_raw_public_key(key, p, &plen) == 1 && plen == sizeof p;
        EVP_PKEY_free(key);
        if (ok) {
            memcpy(priv, k, sizeof k);
            memcpy(pub, p, sizeof p);
        } else {
            ERR_clear_error();
            r = -WASI_EIO;
        }
        OPENSSL_cleanse(k, sizeof k);
    }
    s[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* (priv, peer_pub, out) */
static wasm_trap h_x25519_shared(wasm_instance *inst, void *env, wasm_slot *s)
{
    (void)env;
    uint8_t *priv, *peer, *out;
    int32_t r = 0;
    if ((r = ext_buf(inst, s[0].u32, X25519_LEN, &priv)) ||
        (r = ext_buf(inst, s[1].u32, X25519_LEN, &peer)) ||
        (r = ext_buf(inst, s[2].u32, X25519_LEN, &out)))
        ;
    else if (!ext_no_partial_overlap(out, X25519_LEN, priv, X25519_LEN) ||
             !ext_no_partial_overlap(out, X25519_LEN, peer, X25519_LEN))
        r = -WASI_EINVAL;
    else {
        EVP_PKEY *key = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv,
                                                        X25519_LEN);
        EVP_PKEY *pk = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer,
                                                      X25519_LEN);
        EVP_PKEY_CTX *ctx = key ? EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL) : NULL;
        uint8_t secret[X25519_LEN];
        size_t n = sizeof secret;
        /* OpenSSL refuses an all-zero result (a small-order peer key). */
        bool ok = ctx && pk && EVP_PKEY_derive_init(ctx) == 1 &&
                  EVP_PKEY_derive_set_peer_ex(ctx, pk, 0) == 1 &&
                  EVP_PKEY_derive(ctx, secret, &n) == 1 && n == sizeof secret;
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(pk);
        EVP_PKEY_free(key);
        if (ok)
            memcpy(out, secret, sizeof secret);
        else
            ERR_clear_error();
        OPENSSL_cleanse(secret, sizeof secret);
        r = ok ? 0 : -WASI_EINVAL;
    }
    s[0].i32 = r;
    return WASM_TRAP_NONE;
}

/* ---- random -------------------------------------------------------------- */

/* (out, len) */
static wasm_trap h_random(wasm_instance *inst, void *env, wasm_slot *s)
{
    (void)env;
    uint32_t len = s[1].u32;
    uint8_t *out;
    int32_t r = ext_buf(inst, s[0].u32, len, &out);
    if (r == 0 && len && RAND_bytes(out, (int)len) != 1) {
        ERR_clear_error();
        r = -WASI_EIO;
    }
    s[0].i32 = r ? r : (int32_t)len;
    return WASM_TRAP_NONE;
}

wasm_err ext_crypto_define(wasm_linker *l)
{
    static const struct {
        const char *name, *sig;
        wasm_host_fn fn;
    } fns[] = {
        {"aead_seal", "iiiiiiiiiii->i", h_aead_seal},
        {"aead_open", "iiiiiiiiiii->i", h_aead_open},
        {"hkdf", "iiiiiiiii->i", h_hkdf},
        {"digest", "iiiii->i", h_digest},
        {"x25519_keypair", "ii->i", h_x25519_keypair},
        {"x25519_shared", "iii->i", h_x25519_shared},
        {"random", "ii->i", h_random},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        wasm_err e = wasm_linker_define_func(l, EXT_MODULE, fns[i].name, fns[i].sig,
                                             fns[i].fn, NULL);
        if (e != WASM_OK)
            return e;
    }
    return WASM_OK;
}
