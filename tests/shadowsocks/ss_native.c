/*
 * ss_native.c - what the Shadowsocks core and loop need to run natively in
 * the tests, besides the SDK's POSIX system layer (sdk/tests/sys_posix.c,
 * standing in for WASI): the ss.h crypto backend on OpenSSL 3 (standing in
 * for the host's water_ext_v1 functions) and ss_dial, which connects
 * directly, and only to the addresses allowed by ss_native_allow (none by
 * default), like the host's --allow-dial.
 */
#define _GNU_SOURCE
#include "ss_native.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

/* ---- crypto --------------------------------------------------------------- */

static const EVP_CIPHER *cipher_of(enum ss_method m)
{
    switch (m) {
    case SS_CHACHA20_IETF_POLY1305: return EVP_chacha20_poly1305();
    case SS_AES_128_GCM: return EVP_aes_128_gcm();
    case SS_AES_256_GCM: return EVP_aes_256_gcm();
    default: return NULL;
    }
}

static int aead(bool seal, enum ss_method m, const uint8_t *key, const uint8_t *nonce,
                const uint8_t *in, size_t len, uint8_t *out)
{
    const EVP_CIPHER *c = cipher_of(m);
    if (c == NULL || (!seal && len < SS_TAG_LEN))
        return -WATM_EINVAL;
    size_t n = seal ? len : len - SS_TAG_LEN;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL && EVP_CipherInit_ex(ctx, c, NULL, NULL, NULL, seal) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, SS_NONCE_LEN, NULL) == 1 &&
             EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, seal) == 1;
    int outl = 0, fin = 0;
    if (ok && !seal)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SS_TAG_LEN,
                                 (void *)(in + n)) == 1;
    if (ok && n > 0)
        ok = EVP_CipherUpdate(ctx, out, &outl, in, (int)n) == 1;
    int final_ok = ok && EVP_CipherFinal_ex(ctx, out + outl, &fin) == 1;
    if (final_ok && seal)
        final_ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SS_TAG_LEN, out + n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return -WATM_EIO;
    if (!final_ok)
        return seal ? -WATM_EIO : -SS_EBADMSG;
    return (int)(seal ? len + SS_TAG_LEN : n);
}

int ss_crypto_seal(enum ss_method m, const uint8_t *key, const uint8_t nonce[SS_NONCE_LEN],
                   const uint8_t *in, size_t len, uint8_t *out)
{
    return aead(true, m, key, nonce, in, len, out);
}

int ss_crypto_open(enum ss_method m, const uint8_t *key, const uint8_t nonce[SS_NONCE_LEN],
                   const uint8_t *in, size_t len, uint8_t *out)
{
    return aead(false, m, key, nonce, in, len, out);
}

int ss_crypto_hkdf_sha1(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                        size_t salt_len, const uint8_t *info, size_t info_len,
                        uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (ctx == NULL)
        return -WATM_EIO;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok ? (int)out_len : -WATM_EIO;
}

int ss_crypto_md5(const uint8_t *in, size_t len, uint8_t out[16])
{
    unsigned n = 0;
    return EVP_Digest(in, len, out, &n, EVP_md5(), NULL) == 1 && n == 16 ? 0 : -WATM_EIO;
}

int ss_crypto_random(uint8_t *out, size_t len)
{
    return RAND_bytes(out, (int)len) == 1 ? 0 : -WATM_EIO;
}

/* ---- ss_dial ------------------------------------------------------------ */

const char *ss_native_allow; /* what ss_dial may reach */
char ss_native_last_dial[SS_ADDR_TEXT_MAX];

int ss_native_connect(const char *address)
{
    char host[SS_ADDR_TEXT_MAX], port[8];
    const char *colon = strrchr(address, ':');
    if (colon == NULL || (size_t)(colon - address) >= sizeof host || strlen(colon + 1) >= sizeof port)
        return -WATM_EINVAL;
    size_t hl = (size_t)(colon - address);
    memcpy(host, address, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    strcpy(port, colon + 1);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -WATM_ENOTCONN;
    int fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return -WATM_ENOTCONN;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int ss_dial(const char *address)
{
    snprintf(ss_native_last_dial, sizeof ss_native_last_dial, "%s", address);
    /* ss_native_allow: "host:port[,host:port...]", exact matches. */
    size_t n = strlen(address);
    for (const char *p = ss_native_allow; p != NULL && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, address, n) == 0)
            return ss_native_connect(address);
        p = end ? end + 1 : NULL;
    }
    return -WATM_ENOTCONN;
}
