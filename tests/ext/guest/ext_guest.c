/*
 * ext_guest.c - a wasm32-wasi module that checks the SDK's water_ext_v1
 * wrappers (sdk/include/watm_ext.h) from inside wasm: published known
 * answers, hostile arguments through the wrappers and through raw imports,
 * and a complete in-memory TLS handshake between a client and a server
 * session of this instance (the TLS helper's worker hooks are covered by
 * the tls transport's end-to-end tests). tests/ext/test_ext.c calls run_all(), which
 * returns the number of failures and prints each on stderr.
 */
#include "watm.h"
#include "watm_ext.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* This module links sdk/src/ext.c alone, not all of libwatm.a: the few SDK
 * calls the TLS helper makes are stood in for here (the helper's session
 * code is exercised by the tls transport's end-to-end tests instead). */
void watm_log(const char *msg)
{
    char line[256];
    int n = snprintf(line, sizeof line, "ext_guest: %s\n", msg);
    if (n > 0)
        write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void watm_log_num(const char *msg, long num)
{
    char line[256];
    snprintf(line, sizeof line, "%s: %ld", msg, num);
    watm_log(line);
}

int watm_send_all(const struct watm_session *s, int fd, const void *b, size_t len)
{
    (void)s, (void)fd, (void)b, (void)len;
    return -WATM_ENOSYS;
}

ssize_t watm_recv(const struct watm_session *s, int fd, void *b, size_t len)
{
    (void)s, (void)fd, (void)b, (void)len;
    return -WATM_ENOSYS;
}

static int failures;

static void check(int ok, const char *what, long got)
{
    if (!ok) {
        failures++;
        watm_log_num(what, got);
    }
}

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; s[0] && s[1]; s += 2) {
        int v = 0;
        for (int i = 0; i < 2; i++) {
            char c = s[i];
            v = v * 16 + (c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
        }
        out[n++] = (uint8_t)v;
    }
    return n;
}

static int same(const uint8_t *p, size_t n, const char *hex)
{
    static uint8_t want[512];
    return unhex(hex, want) == n && memcmp(p, want, n) == 0;
}

/* A raw import, to pass what the typed wrappers never would. */
__attribute__((import_module("water_ext_v1"), import_name("aead_seal"))) int32_t
raw_seal(int32_t alg, const void *key, int32_t key_len, const void *nonce, int32_t nonce_len,
         const void *ad, int32_t ad_len, const void *in, int32_t in_len, void *out,
         int32_t out_cap);

static uint8_t buf[70000], out[70000], out2[70000];

static void crypto_checks(void)
{
    static const char pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
                             "only one tip for the future, sunscreen would be it.";
    size_t pl = sizeof pt - 1;
    uint8_t key[32], nonce[12], ad[12];
    unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key);
    unhex("070000004041424344454647", nonce);
    unhex("50515253c0c1c2c3c4c5c6c7", ad);
    ssize_t n = watm_aead_seal(WATM_AEAD_CHACHA20_POLY1305, key, nonce, ad, sizeof ad, pt, pl,
                               out, sizeof out);
    check(n == (ssize_t)pl + 16 &&
              same(out, (size_t)n,
                   "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
                   "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
                   "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                   "3ff4def08e4b7a9de576d26586cec64b6116"
                   "1ae10b594f09e26a7e902ecbd0600691"),
          "guest: RFC 8439 seal", n);
    memcpy(buf, out, (size_t)n);
    ssize_t m = watm_aead_open(WATM_AEAD_CHACHA20_POLY1305, key, nonce, ad, sizeof ad, buf,
                               (size_t)n, buf, sizeof buf); /* in place */
    check(m == (ssize_t)pl && memcmp(buf, pt, pl) == 0, "guest: RFC 8439 open in place", m);
    out[5] ^= 0x80;
    m = watm_aead_open(WATM_AEAD_CHACHA20_POLY1305, key, nonce, ad, sizeof ad, out, (size_t)n,
                       out2, sizeof out2);
    check(m == -WATM_EBADMSG, "guest: tampered ciphertext", m);

    /* GCM test case 16 */
    uint8_t k256[32], iv[12], aad[20], p60[60];
    unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", k256);
    unhex("cafebabefacedbaddecaf888", iv);
    unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad);
    unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
          p60);
    n = watm_aead_seal(WATM_AEAD_AES_256_GCM, k256, iv, aad, sizeof aad, p60, sizeof p60, out,
                       sizeof out);
    check(n == 76 && same(out, 76,
                          "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                          "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                          "76fc6ece0f4e1768cddf8853bb2d551b"),
          "guest: GCM test case 16", n);

    /* RFC 5869 test case 1, RFC 7748 6.1, digests */
    uint8_t ikm[22], salt[13], info[10];
    unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", ikm);
    unhex("000102030405060708090a0b0c", salt);
    unhex("f0f1f2f3f4f5f6f7f8f9", info);
    n = watm_hkdf(WATM_HASH_SHA256, ikm, sizeof ikm, salt, sizeof salt, info, sizeof info, out,
                  42);
    check(n == 42 && same(out, 42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ec"
                                   "c4c5bf34007208d5b887185865"),
          "guest: HKDF test case 1", n);
    uint8_t a[32], bp[32], k[32];
    unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a);
    unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", bp);
    int r = watm_x25519_shared(a, bp, k);
    check(r == 0 && same(k, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
          "guest: RFC 7748 6.1", r);
    n = watm_digest(WATM_HASH_SHA256, "abc", 3, out, WATM_DIGEST_MAX);
    check(n == 32 && same(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
          "guest: SHA-256", n);
    n = watm_digest(WATM_HASH_MD5, "abc", 3, out, WATM_DIGEST_MAX);
    check(n == 16 && same(out, 16, "900150983cd24fb0d6963f7d28e17f72"), "guest: MD5", n);
    uint8_t priv[32], pub[32], priv2[32], pub2[32], s1[32], s2[32];
    r = watm_x25519_keypair(priv, pub) | watm_x25519_keypair(priv2, pub2) |
        watm_x25519_shared(priv, pub2, s1) | watm_x25519_shared(priv2, pub, s2);
    check(r == 0 && memcmp(s1, s2, 32) == 0, "guest: key agreement", r);
    check(watm_random(out, 1000) == 0, "guest: random", 0);

    /* hostile arguments through the wrappers */
    void *past = (void *)(uintptr_t)0xffffff00u;
    n = watm_aead_seal(WATM_AEAD_CHACHA20_POLY1305, key, nonce, NULL, 0, buf, 100, past, 200);
    check(n == -WATM_EFAULT, "guest: out outside memory", n);
    n = watm_aead_seal(WATM_AEAD_AES_128_GCM, key, nonce, NULL, 0, buf, (size_t)-1, out, 100);
    check(n == -WATM_EMSGSIZE, "guest: size_t -1", n);
    n = watm_aead_seal(WATM_AEAD_AES_128_GCM, key, nonce, NULL, 0, buf, 100, buf + 1, 200);
    check(n == -WATM_EINVAL, "guest: partial overlap", n);
    n = watm_aead_seal((enum watm_aead)7, key, nonce, NULL, 0, buf, 100, out, 200);
    check(n == -WATM_EINVAL, "guest: unknown algorithm", n);
    n = watm_aead_open(WATM_AEAD_AES_128_GCM, key, nonce, NULL, 0, buf, 10, out, 200);
    check(n == -WATM_EINVAL, "guest: open shorter than a tag", n);
    n = raw_seal(1, key, 31, nonce, 12, NULL, 0, buf, 10, out, 26);
    check(n == -WATM_EINVAL, "guest: 31-byte key", n);
    n = raw_seal(2, key, 16, nonce, 16, NULL, 0, buf, 10, out, 26);
    check(n == -WATM_EINVAL, "guest: 16-byte nonce", n);
    n = raw_seal(3, key, 32, nonce, 12, NULL, 0, buf, 10, out, 25);
    check(n == -WATM_EMSGSIZE, "guest: out_cap one short", n);
    n = watm_hkdf(WATM_HASH_MD5, ikm, sizeof ikm, NULL, 0, NULL, 0, out, 16);
    check(n == -WATM_EINVAL, "guest: hkdf-md5", n);
    n = watm_digest(WATM_HASH_SHA1, "abc", 3, out, 19);
    check(n == -WATM_EMSGSIZE, "guest: digest cap", n);
    r = watm_x25519_keypair(priv, (uint8_t *)past);
    check(r == -WATM_EFAULT, "guest: keypair outside memory", r);
    r = watm_random(past, 0x200);
    check(r == -WATM_EFAULT, "guest: random outside memory", r);
}

/* Moves records from session `from` to `to`. */
static void shuttle(int from, int to)
{
    ssize_t n;
    while ((n = watm_tls_take(from, buf, sizeof buf)) > 0)
        check(watm_tls_feed(to, buf, (size_t)n) == n, "guest: feed", n);
}

static void tls_checks(void)
{
    int c = watm_tls_new(WATM_TLS_CLIENT), s = watm_tls_new(WATM_TLS_SERVER);
    check(c >= 0 && s >= 0, "guest: tls_new", c < 0 ? c : s);
    int rc = 0, rs = 0;
    for (int i = 0; i < 10 && (rc != 1 || rs != 1) && rc >= 0 && rs >= 0; i++) {
        rc = watm_tls_handshake(c);
        shuttle(c, s);
        rs = watm_tls_handshake(s);
        shuttle(s, c);
    }
    check(rc == 1 && rs == 1, "guest: in-memory handshake", rc * 100 + rs);
    char alpn[16];
    ssize_t n = watm_tls_alpn(c, alpn, sizeof alpn);
    check(n == 2 && strcmp(alpn, "h2") == 0, "guest: ALPN", n);
    for (size_t i = 0; i < 50000; i++)
        out[i] = (uint8_t)(i * 7);
    n = watm_tls_write(c, out, 50000);
    check(n == 50000, "guest: tls_write", n);
    shuttle(c, s);
    size_t got = 0;
    while ((n = watm_tls_read(s, out2 + got, sizeof out2 - got)) > 0)
        got += (size_t)n;
    check(n == -WATM_EAGAIN && got == 50000 && memcmp(out, out2, got) == 0, "guest: tls data",
          (long)got);
    check(watm_tls_close(s) == 0, "guest: close", 0);
    shuttle(s, c);
    n = watm_tls_read(c, out2, 100);
    check(n == 0, "guest: close_notify read as 0", n);
    char err[8];
    n = watm_tls_error(c, err, sizeof err);
    check(n >= 0 && n < (ssize_t)sizeof err, "guest: tls_error", n);
    check(watm_tls_free(c) == 0 && watm_tls_free(s) == 0, "guest: free", 0);
    check(watm_tls_free(c) == -WATM_EBADF, "guest: double free", 0);
    n = watm_tls_write(s, out, 10);
    check(n == -WATM_EBADF, "guest: write on a freed session", n);
    n = watm_tls_feed(12345, out, 10);
    check(n == -WATM_EBADF, "guest: never allocated", n);
}

__attribute__((export_name("run_all"))) int run_all(void)
{
    crypto_checks();
    tls_checks();
    return failures;
}
