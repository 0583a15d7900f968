/*
 * ss_ext.c - the crypto backend of ss.h on the host's water_ext_v1
 * functions (docs/host-extension.md) through the SDK's wrappers
 * (watm_ext.h), wasm32 only. The AEAD work, HKDF and MD5 run natively in
 * the host (OpenSSL), so the module never does per-byte work in
 * interpreted code. Seal and open run in place (out == in).
 */
#include "ss.h"
#include "watm_ext.h"

_Static_assert((int)SS_CHACHA20_IETF_POLY1305 == (int)WATM_AEAD_CHACHA20_POLY1305 &&
                   (int)SS_AES_128_GCM == (int)WATM_AEAD_AES_128_GCM &&
                   (int)SS_AES_256_GCM == (int)WATM_AEAD_AES_256_GCM,
               "ss_method numbers are the host's aead alg numbers");
_Static_assert(SS_EBADMSG == WATM_EBADMSG, "EBADMSG");

int ss_crypto_seal(enum ss_method m, const uint8_t *key, const uint8_t nonce[SS_NONCE_LEN],
                   const uint8_t *in, size_t len, uint8_t *out)
{
    return (int)watm_aead_seal((enum watm_aead)m, key, nonce, NULL, 0, in, len, out,
                               len + SS_TAG_LEN);
}

int ss_crypto_open(enum ss_method m, const uint8_t *key, const uint8_t nonce[SS_NONCE_LEN],
                   const uint8_t *in, size_t len, uint8_t *out)
{
    return (int)watm_aead_open((enum watm_aead)m, key, nonce, NULL, 0, in, len, out, len);
}

int ss_crypto_hkdf_sha1(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                        size_t salt_len, const uint8_t *info, size_t info_len,
                        uint8_t *out, size_t out_len)
{
    return (int)watm_hkdf(WATM_HASH_SHA1, ikm, ikm_len, salt, salt_len, info, info_len, out,
                          out_len);
}

int ss_crypto_md5(const uint8_t *in, size_t len, uint8_t out[16])
{
    ssize_t r = watm_digest(WATM_HASH_MD5, in, len, out, 16);
    return r == 16 ? 0 : r < 0 ? (int)r : -WATM_EIO;
}

int ss_crypto_random(uint8_t *out, size_t len)
{
    return watm_random(out, len);
}
