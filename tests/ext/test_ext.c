/*
 * test_ext.c - tests of the water_ext_v1 host extension (src/water/ext*.c,
 * docs/host-extension.md), through real wasm:
 *
 *   - ext_tramp.wasm (ext_tramp.wat) imports every extension function and
 *     re-exports it through a wasm body, so each host function is called
 *     from C with arbitrary arguments along the real path (wasm_call ->
 *     interpreter -> host import);
 *   - ext_guest.wasm (guest/ext_guest.c, clang wasm32-wasi, linked with the
 *     SDK) runs the same kind of checks through the SDK's typed wrappers
 *     (sdk/include/watm_ext.h).
 *
 * Known answers are the published vectors (RFC 8439 2.8.2, the GCM
 * specification's test cases 1-4 and 13-16 as in NIST SP 800-38D's test
 * suite, RFC 5869 appendix A, RFC 7748 5.2 and 6.1, FIPS 180 / RFC 1321
 * "abc"). Hostile arguments must give a negative WASI errno, never a trap or
 * a crash (the ASan+UBSan build runs the same tests).
 *
 * usage: test_ext TRAMP.wasm GUEST.wasm CERTDIR TEST
 *   TEST: kat | hostile | fuzz | tls_mem | tls_verify | load | guest |
 *         threads | bench
 * CERTDIR holds ca.pem, srv.pem, srv.key (localhost, 127.0.0.1) and
 * other-ca.pem (tests/ext/make_certs.sh).
 */
#include "water/ext.h"

#include <openssl/evp.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define U(x) ((int32_t)(uint32_t)(x))
#define MIB (1u << 20)

static int failures;
static const char *tramp_path, *guest_path, *cert_dir;

static void fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: FAIL: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond))                                                             \
            fail(__FILE__, __LINE__, __VA_ARGS__);                               \
    } while (0)
#define CHECK_EQ(got, want, what)                                                \
    do {                                                                         \
        long long g_ = (got), w_ = (want);                                       \
        if (g_ != w_)                                                            \
            fail(__FILE__, __LINE__, "%s: got %lld, want %lld", what, g_, w_);  \
    } while (0)

/* ---- hex ----------------------------------------------------------------- */

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; s[0] && s[1]; s += 2) {
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static bool same_hex(const uint8_t *p, size_t len, const char *hex)
{
    uint8_t want[1024];
    size_t n = unhex(hex, want);
    return n == len && !memcmp(p, want, n);
}

/* ---- transports and instances ------------------------------------------- */

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
        exit(2);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static char *cert(const char *name)
{
    static char buf[8][512];
    static int i;
    char *p = buf[i++ % 8];
    snprintf(p, 512, "%s/%s", cert_dir, name);
    return p;
}

/* Loads the trampoline as a transport with these TLS options. */
static water_transport *load_tramp(const water_tls_options *tls, water_error *err)
{
    size_t len;
    uint8_t *b = read_all(tramp_path, &len);
    water_options o = {.log_level = WATER_LOG_WARN};
    if (tls)
        o.tls = *tls;
    water_transport *t = water_transport_new(b, len, NULL, 0, &o, err);
    free(b);
    return t;
}

static water_transport *full_transport(void)
{
    water_tls_options tls = {.ca_file = cert("ca.pem"), .cert_file = cert("srv.pem"),
                             .key_file = cert("srv.key"), .sni = "localhost",
                             .alpn = "h2,http/1.1"};
    water_error err;
    water_transport *t = load_tramp(&tls, &err);
    if (!t) {
        fprintf(stderr, "cannot load %s: %s\n", tramp_path, err.message);
        exit(2);
    }
    return t;
}

typedef struct inst {
    water_guest g;
    wasi_ctx *w;
    wasm_instance *inst;
    wasm_module *own; /* a module loaded here, not the transport's */
} inst;

/* An instance of module m (NULL: t's module) linked like a connection's,
 * with stderr; `guest` false leaves the WASI user pointer NULL (no WATER
 * state, as in `water exec`). */
static inst *inst_new(water_transport *t, wasm_module *m, bool guest)
{
    inst *x = calloc(1, sizeof *x);
    x->g.t = t;
    wasi_options wo = {.user = guest ? &x->g : NULL};
    wo.stdio[2] = WASI_STDIO_INHERIT;
    char msg[200];
    x->w = wasi_ctx_new(&wo, msg, sizeof msg);
    wasm_instance_config cfg = {.max_memory_pages = 1024, .userdata = x->w};
    wasm_error e;
    x->own = m;
    x->inst = wasm_instance_new(m ? m : t->module, t->linker, &cfg, &e);
    if (!x->w || !x->inst) {
        fprintf(stderr, "instance: %s\n", x->inst ? msg : e.message);
        exit(2);
    }
    return x;
}

static void inst_free(inst *x)
{
    water_ext_free(x->g.ext);
    wasm_instance_free(x->inst);
    wasi_ctx_free(x->w);
    free(x);
}

static uint8_t *mem(inst *x, uint32_t off)
{
    return wasm_memory_ptr(x->inst, off, 0);
}

static uint32_t mem_size(inst *x)
{
    return (uint32_t)wasm_memory_size(x->inst);
}

static int32_t callv(inst *x, const char *name, const int32_t *args, size_t n)
{
    wasm_func *f = wasm_instance_func(x->inst, name);
    if (!f) {
        fprintf(stderr, "no export %s\n", name);
        exit(2);
    }
    wasm_val a[16], r[1];
    for (size_t i = 0; i < n; i++)
        a[i] = (wasm_val){.type = WASM_I32, .of.i32 = args[i]};
    wasm_error e;
    if (wasm_call(x->inst, f, a, n, r, 1, &e) != WASM_OK) {
        fail(__FILE__, __LINE__, "%s trapped: %s", name, e.message);
        return INT32_MIN;
    }
    return r[0].of.i32;
}

#define CALL(x, name, ...)                                                       \
    callv(x, name, (const int32_t[]){__VA_ARGS__},                               \
          sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t))

/* Guest memory layout of the tests (memory is 4 pages = 256 KiB). */
enum {
    KEY = 0,        /* 32 */
    NONCE = 64,     /* 12 */
    AD = 128,       /* up to 64 */
    IN = 4096,      /* up to 64 KiB */
    OUT = 69632,    /* up to 64 KiB */
    OUT2 = 135168,  /* up to 64 KiB */
    SCRATCH = 200704,
};

static void put(inst *x, uint32_t off, const void *p, size_t n)
{
    memcpy(mem(x, off), p, n);
}

static size_t put_hex(inst *x, uint32_t off, const char *hex)
{
    uint8_t b[1024];
    size_t n = unhex(hex, b);
    put(x, off, b, n);
    return n;
}

/* ---- known answers ------------------------------------------------------------ */

struct aead_kat {
    const char *name;
    int alg;
    const char *key, *nonce, *ad, *pt, *ct, *tag;
};

static const char sunscreen[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
    "for the future, sunscreen would be it.";

static const char gcm_p64[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char gcm_p60[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";

static const struct aead_kat aead_kats[] = {
    {"RFC 8439 2.8.2", 1, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
     "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7", NULL /* sunscreen */,
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
     "3ff4def08e4b7a9de576d26586cec64b6116",
     "1ae10b594f09e26a7e902ecbd0600691"},
    {"GCM test case 1", 2, "00000000000000000000000000000000", "000000000000000000000000", "",
     "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
    {"GCM test case 2", 2, "00000000000000000000000000000000", "000000000000000000000000", "",
     "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"GCM test case 3", 2, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
     gcm_p64,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"GCM test case 4", 2, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2", gcm_p60,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"GCM test case 13", 3, "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"GCM test case 14", 3, "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"GCM test case 15", 3, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "", gcm_p64,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"GCM test case 16", 3, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", gcm_p60,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

static void kat_aead(inst *x, const struct aead_kat *k)
{
    uint8_t pt[256], want[512];
    size_t kl = put_hex(x, KEY, k->key), nl = put_hex(x, NONCE, k->nonce);
    size_t al = put_hex(x, AD, k->ad);
    size_t pl = k->pt ? unhex(k->pt, pt) : strlen(sunscreen);
    if (!k->pt)
        memcpy(pt, sunscreen, pl);
    size_t cl = unhex(k->ct, want);
    cl += unhex(k->tag, want + cl);
    put(x, IN, pt, pl);
    int32_t r = CALL(x, "aead_seal", k->alg, KEY, U(kl), NONCE, U(nl), AD, U(al), IN, U(pl), OUT,
                     4096);
    CHECK(r == (int32_t)(pl + 16) && !memcmp(mem(x, OUT), want, cl), "%s: seal (%d)", k->name,
          r);
    r = CALL(x, "aead_open", k->alg, KEY, U(kl), NONCE, U(nl), AD, U(al), OUT, U(cl), OUT2, 4096);
    CHECK(r == (int32_t)pl && !memcmp(mem(x, OUT2), pt, pl), "%s: open (%d)", k->name, r);
    /* in place, both ways */
    put(x, IN, pt, pl);
    r = CALL(x, "aead_seal", k->alg, KEY, U(kl), NONCE, U(nl), AD, U(al), IN, U(pl), IN, U(pl + 16));
    CHECK(r == (int32_t)cl && !memcmp(mem(x, IN), want, cl), "%s: seal in place", k->name);
    r = CALL(x, "aead_open", k->alg, KEY, U(kl), NONCE, U(nl), AD, U(al), IN, U(cl), IN, U(pl));
    CHECK(r == (int32_t)pl && !memcmp(mem(x, IN), pt, pl), "%s: open in place", k->name);
    /* every kind of tampering: a ciphertext byte, a tag byte, the ad, the nonce */
    for (int what = 0; what < 4; what++) {
        if ((what == 0 && pl == 0) || (what == 2 && al == 0))
            continue;
        put(x, OUT, want, cl);
        uint8_t *p = what == 0 ? mem(x, OUT) : what == 1 ? mem(x, OUT + U(cl) - 1)
                   : what == 2 ? mem(x, AD) : mem(x, NONCE + 11);
        *p ^= 0x01;
        memset(mem(x, OUT2), 0x5a, pl + 1);
        r = CALL(x, "aead_open", k->alg, KEY, U(kl), NONCE, U(nl), AD, U(al), OUT, U(cl), OUT2,
                 4096);
        CHECK_EQ(r, -WASI_EBADMSG, k->name);
        bool zero = true;
        for (size_t i = 0; i < pl; i++)
            zero &= mem(x, OUT2)[i] == 0;
        CHECK(zero, "%s: plaintext of a failed open must be wiped", k->name);
        *p ^= 0x01;
    }
}

static void kat_hkdf(inst *x, int hash, const char *ikm, const char *salt, const char *info,
                     size_t len, const char *okm)
{
    size_t il = put_hex(x, IN, ikm), sl = put_hex(x, AD, salt), nl = put_hex(x, OUT2, info);
    memset(mem(x, OUT), 0, 256);
    int32_t r = CALL(x, "hkdf", hash, IN, U(il), AD, U(sl), OUT2, U(nl), OUT, U(len));
    CHECK(r == (int32_t)len && same_hex(mem(x, OUT), len, okm), "HKDF %s (%d)", okm, r);
}

static void kat_digest(inst *x, int hash, const char *in, const char *want)
{
    size_t n = strlen(in);
    put(x, IN, in, n);
    int32_t r = CALL(x, "digest", hash, IN, U(n), OUT, 64);
    CHECK(r > 0 && same_hex(mem(x, OUT), (size_t)r, want), "digest %d of \"%s\"", hash, in);
}

static void kat_x25519(inst *x, const char *scalar, const char *u, const char *want)
{
    put_hex(x, KEY, scalar);
    put_hex(x, AD, u);
    int32_t r = CALL(x, "x25519_shared", KEY, AD, OUT);
    CHECK(r == 0 && same_hex(mem(x, OUT), 32, want), "X25519 -> %s (%d)", want, r);
}

static void test_kat(water_transport *t)
{
    inst *x = inst_new(t, NULL, true);
    for (size_t i = 0; i < sizeof aead_kats / sizeof aead_kats[0]; i++)
        kat_aead(x, &aead_kats[i]);

    /* RFC 5869 appendix A: test cases 1, 2, 3 (SHA-256), 4, 7 (SHA-1) */
    kat_hkdf(x, 2, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
             "f0f1f2f3f4f5f6f7f8f9", 42,
             "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    char ikm2[161], salt2[161], info2[161];
    for (int i = 0; i < 80; i++) {
        snprintf(ikm2 + 2 * i, 3, "%02x", i);
        snprintf(salt2 + 2 * i, 3, "%02x", 0x60 + i);
        snprintf(info2 + 2 * i, 3, "%02x", 0xb0 + i);
    }
    kat_hkdf(x, 2, ikm2, salt2, info2, 82,
             "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
             "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
             "cc30c58179ec3e87c14c01d5c1f3434f1d87");
    kat_hkdf(x, 2, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
             "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
    kat_hkdf(x, 1, "0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
             42,
             "085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896");
    kat_hkdf(x, 1, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "", "", 42,
             "2c91117204d745f3500d636a62f64f0ab3bae548aa53d423b0d1f27ebba6f5e5673a081d70cce7acfc48");

    kat_digest(x, 1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
    kat_digest(x, 2, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    kat_digest(x, 3, "abc", "900150983cd24fb0d6963f7d28e17f72");
    kat_digest(x, 3, "", "d41d8cd98f00b204e9800998ecf8427e");
    kat_digest(x, 2, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    /* RFC 7748 5.2, and 6.1 (public keys are X25519(priv, 9)) */
    kat_x25519(x, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
               "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
               "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
    kat_x25519(x, "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
               "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
               "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
    const char *nine = "0900000000000000000000000000000000000000000000000000000000000000";
    const char *alice = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    const char *bob = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    const char *alice_pub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    const char *bob_pub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    const char *k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    kat_x25519(x, alice, nine, alice_pub);
    kat_x25519(x, bob, nine, bob_pub);
    kat_x25519(x, alice, bob_pub, k);
    kat_x25519(x, bob, alice_pub, k);

    /* a fresh key pair agrees with itself and with the base point */
    CHECK_EQ(CALL(x, "x25519_keypair", IN, IN + 32), 0, "keypair");
    CHECK_EQ(CALL(x, "x25519_keypair", IN + 64, IN + 96), 0, "keypair 2");
    CHECK(memcmp(mem(x, IN), mem(x, IN + 64), 32) != 0, "two key pairs are equal");
    put_hex(x, AD, nine);
    CHECK_EQ(CALL(x, "x25519_shared", IN, AD, OUT), 0, "pub from priv");
    CHECK(!memcmp(mem(x, OUT), mem(x, IN + 32), 32), "keypair: pub is not X25519(priv, 9)");
    CHECK_EQ(CALL(x, "x25519_shared", IN, IN + 96, OUT), 0, "shared a");
    CHECK_EQ(CALL(x, "x25519_shared", IN + 64, IN + 32, OUT2), 0, "shared b");
    CHECK(!memcmp(mem(x, OUT), mem(x, OUT2), 32), "key agreement differs");

    /* random */
    CHECK_EQ(CALL(x, "random", OUT, 64), 64, "random");
    CHECK_EQ(CALL(x, "random", OUT2, 64), 64, "random");
    CHECK(memcmp(mem(x, OUT), mem(x, OUT2), 64) != 0, "random repeats");
    CHECK_EQ(CALL(x, "random", OUT, 0), 0, "random 0");
    inst_free(x);
}

/* ---- hostile arguments ---------------------------------------------------------- */

static void test_hostile(water_transport *t)
{
    inst *x = inst_new(t, NULL, true);
    uint32_t end = mem_size(x);
    const int32_t E_FAULT = -WASI_EFAULT, E_INVAL = -WASI_EINVAL, E_MSG = -WASI_EMSGSIZE;
    memset(mem(x, KEY), 7, 32);
    memset(mem(x, NONCE), 9, 12);

    /* AEAD: algorithm, key and nonce sizes */
    for (int alg = 1; alg <= 3; alg++) {
        int32_t kl = alg == 2 ? 16 : 32;
        CHECK_EQ(CALL(x, "aead_seal", alg, KEY, kl, NONCE, 12, 0, 0, IN, 100, OUT, 116), 116,
                 "valid seal");
        CHECK_EQ(CALL(x, "aead_seal", alg, KEY, kl == 16 ? 32 : 16, NONCE, 12, 0, 0, IN, 100, OUT,
                      116), E_INVAL, "wrong key size");
        CHECK_EQ(CALL(x, "aead_seal", alg, KEY, 0, NONCE, 12, 0, 0, IN, 100, OUT, 116), E_INVAL,
                 "empty key");
        CHECK_EQ(CALL(x, "aead_seal", alg, KEY, kl, NONCE, 8, 0, 0, IN, 100, OUT, 116), E_INVAL,
                 "short nonce");
        CHECK_EQ(CALL(x, "aead_seal", alg, KEY, kl, NONCE, 24, 0, 0, IN, 100, OUT, 116), E_INVAL,
                 "long nonce");
        CHECK_EQ(CALL(x, "aead_open", alg, KEY, kl, NONCE, 12, 0, 0, OUT, 15, OUT2, 100), E_INVAL,
                 "open shorter than a tag");
        CHECK_EQ(CALL(x, "aead_open", alg, KEY, kl, NONCE, 12, 0, 0, OUT, 116, OUT2, 99), E_MSG,
                 "open: out_cap too small");
        CHECK_EQ(CALL(x, "aead_seal", alg, KEY, kl, NONCE, 12, 0, 0, IN, 100, OUT, 115), E_MSG,
                 "seal: out_cap too small");
    }
    static const int32_t bad_algs[] = {0, 4, -1, 255, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad_algs / sizeof bad_algs[0]; i++)
        CHECK_EQ(CALL(x, "aead_seal", bad_algs[i], KEY, 32, NONCE, 12, 0, 0, IN, 10, OUT, 26),
                 E_INVAL, "unknown algorithm");

    /* AEAD: buffers past the end, overflowing, huge and negative lengths */
    struct {
        int32_t key, nonce, ad, ad_len, in, in_len, out, cap, want;
        const char *what;
    } bad[] = {
        {U(end - 16), NONCE, 0, 0, IN, 10, OUT, 26, E_FAULT, "key past the end"},
        {KEY, U(end - 4), 0, 0, IN, 10, OUT, 26, E_FAULT, "nonce past the end"},
        {KEY, NONCE, U(end - 1), 2, IN, 10, OUT, 26, E_FAULT, "ad past the end"},
        {KEY, NONCE, U(end + 1), 0, IN, 10, OUT, 26, E_FAULT, "empty ad beyond the end"},
        {KEY, NONCE, U(end), 0, IN, 10, OUT, 26, 26, "empty ad at the very end is fine"},
        {KEY, NONCE, 0, 0, U(end - 5), 10, OUT, 26, E_FAULT, "in past the end"},
        {KEY, NONCE, 0, 0, IN, 10, U(end - 20), 26, E_FAULT, "out past the end"},
        {KEY, NONCE, 0, 0, IN, 10, U(end - 26), 26, 26, "out ends at the end"},
        {KEY, NONCE, 0, 0, U(0xfffffff0), 0x20, OUT, 0x40, E_FAULT, "in wraps around 4 GiB"},
        {KEY, NONCE, 0, 0, IN, 10, U(0xffffffff), 26, E_FAULT, "out at 4 GiB - 1"},
        {KEY, NONCE, 0, 0, IN, -1, OUT, 26, E_MSG, "in_len -1"},
        {KEY, NONCE, 0, 0, IN, INT32_MIN, OUT, 26, E_MSG, "in_len INT32_MIN"},
        {KEY, NONCE, 0, 0, IN, U(16 * MIB + 1), OUT, 26, E_MSG, "in_len 16 MiB + 1"},
        {KEY, NONCE, 0, 0, IN, U(16 * MIB), OUT, 26, E_FAULT, "in_len 16 MiB, small memory"},
        {KEY, NONCE, 0, -5, IN, 10, OUT, 26, E_MSG, "ad_len negative"},
        {KEY, NONCE, 0, 0, IN, 10, OUT, -1, E_MSG, "out_cap -1"},
        {KEY, NONCE, 0, 0, IN, 10, IN + 1, 26, E_INVAL, "out overlaps in by one byte"},
        {KEY, NONCE, 0, 0, IN + 5, 10, IN, 26, E_INVAL, "out overlaps the start of in"},
        {KEY, NONCE, 0, 0, IN, 10, KEY + 4, 26, E_INVAL, "out overlaps the key"},
        {KEY, NONCE, 0, 0, IN, 10, NONCE, 26, 26, "out starts at the nonce (read first)"},
        {KEY, NONCE, 0, 0, IN, 10, NONCE - 2, 26, E_INVAL, "out overlaps the nonce"},
        {KEY, NONCE, AD, 20, IN, 10, AD + 10, 26, E_INVAL, "out overlaps the ad"},
        {KEY, NONCE, IN, 10, IN, 10, IN, 26, 26, "ad = in = out"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t r = CALL(x, "aead_seal", 1, bad[i].key, 32, bad[i].nonce, 12, bad[i].ad,
                         bad[i].ad_len, bad[i].in, bad[i].in_len, bad[i].out, bad[i].cap);
        CHECK_EQ(r, bad[i].want, bad[i].what);
        memset(mem(x, KEY), 7, 32);
        memset(mem(x, NONCE), 9, 12);
    }
    /* a failed call leaves its output alone (checks come before any write) */
    memset(mem(x, OUT), 0xee, 64);
    CHECK_EQ(CALL(x, "aead_seal", 1, KEY, 32, NONCE, 12, 0, 0, IN, 10, OUT, 25), E_MSG, "cap");
    CHECK(mem(x, OUT)[0] == 0xee && mem(x, OUT)[25] == 0xee, "output written on failure");

    /* the 16 MiB cap, with enough memory */
    uint32_t pages = (uint32_t)((17 * MIB + 65536 * 2) / 65536);
    CHECK(wasm_memory_grow(x->inst, pages) >= 0, "memory.grow");
    int32_t big = U(65536);
    CHECK_EQ(CALL(x, "aead_seal", 1, KEY, 32, NONCE, 12, 0, 0, big, U(16 * MIB - 16), big,
                  U(16 * MIB)), U(16 * MIB), "largest seal, in place");
    CHECK_EQ(CALL(x, "aead_open", 1, KEY, 32, NONCE, 12, 0, 0, big, U(16 * MIB), big,
                  U(16 * MIB)), U(16 * MIB - 16), "largest open, in place");
    CHECK_EQ(CALL(x, "aead_seal", 1, KEY, 32, NONCE, 12, 0, 0, big, U(16 * MIB - 15), big,
                  U(16 * MIB + 1)), E_MSG, "seal whose output passes 16 MiB");
    CHECK_EQ(CALL(x, "random", big, U(16 * MIB)), U(16 * MIB), "random 16 MiB");
    CHECK_EQ(CALL(x, "random", big, U(16 * MIB + 1)), E_MSG, "random 16 MiB + 1");
    end = mem_size(x);
    CHECK_EQ(CALL(x, "digest", 2, big, U(16 * MIB), U(end - 32), 32), 32, "digest of 16 MiB");

    /* HKDF */
    CHECK_EQ(CALL(x, "hkdf", 3, IN, 16, 0, 0, 0, 0, OUT, 32), E_INVAL, "hkdf with MD5");
    CHECK_EQ(CALL(x, "hkdf", 0, IN, 16, 0, 0, 0, 0, OUT, 32), E_INVAL, "hkdf hash 0");
    CHECK_EQ(CALL(x, "hkdf", 2, IN, 16, 0, 0, 0, 0, OUT, 0), E_INVAL, "hkdf out_len 0");
    CHECK_EQ(CALL(x, "hkdf", 2, IN, 16, 0, 0, 0, 0, OUT, 255 * 32), 255 * 32, "hkdf longest");
    CHECK_EQ(CALL(x, "hkdf", 2, IN, 16, 0, 0, 0, 0, OUT, 255 * 32 + 1), E_INVAL, "hkdf too long");
    CHECK_EQ(CALL(x, "hkdf", 1, IN, 16, 0, 0, 0, 0, OUT, 255 * 20 + 1), E_INVAL, "hkdf-sha1 long");
    CHECK_EQ(CALL(x, "hkdf", 2, U(end - 4), 16, 0, 0, 0, 0, OUT, 32), E_FAULT, "hkdf ikm");
    CHECK_EQ(CALL(x, "hkdf", 2, IN, 16, U(end), 1, 0, 0, OUT, 32), E_FAULT, "hkdf salt");
    CHECK_EQ(CALL(x, "hkdf", 2, IN, 16, 0, 0, U(0xffffff00), 0x200, OUT, 32), E_FAULT, "hkdf info");
    CHECK_EQ(CALL(x, "hkdf", 2, IN, 16, 0, 0, 0, 0, U(end - 31), 32), E_FAULT, "hkdf out");
    CHECK_EQ(CALL(x, "hkdf", 2, IN, -1, 0, 0, 0, 0, OUT, 32), E_MSG, "hkdf ikm_len -1");
    CHECK_EQ(CALL(x, "hkdf", 2, IN, 16, 0, 0, 0, 0, IN + 8, 32), E_INVAL, "hkdf out overlaps ikm");
    CHECK_EQ(CALL(x, "hkdf", 2, IN, 16, 0, 0, OUT, 8, OUT, 32), E_INVAL, "hkdf out = info");
    CHECK_EQ(CALL(x, "hkdf", 2, IN, 16, AD, 16, U(2 * MIB), U(MIB), OUT2, 32), 32,
             "hkdf long info");

    /* digest */
    CHECK_EQ(CALL(x, "digest", 4, IN, 3, OUT, 32), E_INVAL, "digest hash 4");
    CHECK_EQ(CALL(x, "digest", 2, IN, 3, OUT, 31), E_MSG, "digest cap 31");
    CHECK_EQ(CALL(x, "digest", 1, IN, 3, OUT, 19), E_MSG, "digest sha1 cap 19");
    CHECK_EQ(CALL(x, "digest", 3, IN, 3, OUT, 16), 16, "digest md5 cap 16");
    CHECK_EQ(CALL(x, "digest", 2, IN, 3, U(end - 10), 32), E_FAULT, "digest out");
    CHECK_EQ(CALL(x, "digest", 2, U(end - 1), 3, OUT, 32), E_FAULT, "digest in");
    CHECK_EQ(CALL(x, "digest", 2, IN, 64, IN, 32), 32, "digest in place");
    CHECK_EQ(CALL(x, "digest", 2, IN, 64, IN + 1, 32), E_INVAL, "digest partial overlap");
    CHECK_EQ(CALL(x, "digest", 2, IN, -2, OUT, 32), E_MSG, "digest len -2");

    /* X25519 */
    CHECK_EQ(CALL(x, "x25519_keypair", U(end - 31), OUT), E_FAULT, "keypair priv");
    CHECK_EQ(CALL(x, "x25519_keypair", OUT, U(end)), E_FAULT, "keypair pub");
    CHECK_EQ(CALL(x, "x25519_keypair", OUT, OUT), E_INVAL, "keypair pub = priv");
    CHECK_EQ(CALL(x, "x25519_keypair", OUT, OUT + 16), E_INVAL, "keypair overlap");
    CHECK_EQ(CALL(x, "x25519_keypair", U(-1), OUT), E_FAULT, "keypair -1");
    memset(mem(x, AD), 0, 32); /* the point 0: the result is all zeros */
    CHECK_EQ(CALL(x, "x25519_keypair", IN, IN + 32), 0, "keypair");
    CHECK_EQ(CALL(x, "x25519_shared", IN, AD, OUT), E_INVAL, "small-order peer (0)");
    mem(x, AD)[0] = 1; /* the point 1: order 1 */
    CHECK_EQ(CALL(x, "x25519_shared", IN, AD, OUT), E_INVAL, "small-order peer (1)");
    CHECK_EQ(CALL(x, "x25519_shared", U(end - 8), IN + 32, OUT), E_FAULT, "shared priv");
    CHECK_EQ(CALL(x, "x25519_shared", IN, U(end + 32), OUT), E_FAULT, "shared peer");
    CHECK_EQ(CALL(x, "x25519_shared", IN, IN + 32, U(end - 1)), E_FAULT, "shared out");
    CHECK_EQ(CALL(x, "x25519_shared", IN, IN + 32, IN + 8), E_INVAL, "shared out overlaps priv");
    CHECK_EQ(CALL(x, "x25519_shared", IN, IN + 32, IN), 0, "shared out = priv (in place)");

    /* random */
    CHECK_EQ(CALL(x, "random", U(end - 3), 4), E_FAULT, "random past the end");
    CHECK_EQ(CALL(x, "random", U(end), 0), 0, "random 0 at the end");
    CHECK_EQ(CALL(x, "random", U(end + 1), 0), E_FAULT, "random 0 past the end");
    CHECK_EQ(CALL(x, "random", OUT, -1), E_MSG, "random -1");

    /* TLS handles that do not exist */
    static const int32_t bad_h[] = {-1, 0, 1, 63, 64, 1000, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_h / sizeof bad_h[0]; i++) {
        int32_t h = bad_h[i];
        CHECK_EQ(CALL(x, "tls_feed", h, IN, 10), -WASI_EBADF, "feed, no session");
        CHECK_EQ(CALL(x, "tls_take", h, OUT, 10), -WASI_EBADF, "take, no session");
        CHECK_EQ(CALL(x, "tls_handshake", h), -WASI_EBADF, "handshake, no session");
        CHECK_EQ(CALL(x, "tls_write", h, IN, 10), -WASI_EBADF, "write, no session");
        CHECK_EQ(CALL(x, "tls_read", h, OUT, 10), -WASI_EBADF, "read, no session");
        CHECK_EQ(CALL(x, "tls_close", h), -WASI_EBADF, "close, no session");
        CHECK_EQ(CALL(x, "tls_error", h, OUT, 10), -WASI_EBADF, "error, no session");
        CHECK_EQ(CALL(x, "tls_alpn", h, OUT, 10), -WASI_EBADF, "alpn, no session");
        CHECK_EQ(CALL(x, "tls_free", h), -WASI_EBADF, "free, no session");
    }
    static const int32_t bad_modes[] = {2, -1, 255, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_modes / sizeof bad_modes[0]; i++)
        CHECK_EQ(CALL(x, "tls_new", bad_modes[i]), E_INVAL, "tls_new bad mode");
    /* sessions: the table fills, freed handles give EBADF, then are reused */
    int32_t hs[EXT_MAX_SESSIONS];
    for (int i = 0; i < EXT_MAX_SESSIONS; i++) {
        hs[i] = CALL(x, "tls_new", i & 1);
        CHECK_EQ(hs[i], i, "handles count up from 0");
    }
    CHECK_EQ(CALL(x, "tls_new", 0), -WASI_EMFILE, "session table full");
    CHECK_EQ(CALL(x, "tls_free", 5), 0, "free");
    CHECK_EQ(CALL(x, "tls_free", 5), -WASI_EBADF, "double free");
    CHECK_EQ(CALL(x, "tls_handshake", 5), -WASI_EBADF, "freed handle");
    CHECK_EQ(CALL(x, "tls_feed", 5, IN, 1), -WASI_EBADF, "feed a freed handle");
    CHECK_EQ(CALL(x, "tls_new", 0), 5, "the lowest free handle is reused");
    /* session buffers */
    int32_t h = 3;
    CHECK_EQ(CALL(x, "tls_feed", h, U(end - 2), 10), E_FAULT, "feed past the end");
    CHECK_EQ(CALL(x, "tls_feed", h, IN, -1), E_MSG, "feed -1");
    CHECK_EQ(CALL(x, "tls_feed", h, U(0xfffffff0), 0x20), E_FAULT, "feed wraps");
    CHECK_EQ(CALL(x, "tls_take", h, U(end - 2), 10), E_FAULT, "take past the end");
    CHECK_EQ(CALL(x, "tls_take", h, OUT, U(16 * MIB + 1)), E_MSG, "take cap too big");
    CHECK_EQ(CALL(x, "tls_write", h, U(end), 1), E_FAULT, "write past the end");
    CHECK_EQ(CALL(x, "tls_read", h, U(end - 1), 2), E_FAULT, "read past the end");
    CHECK_EQ(CALL(x, "tls_read", h, OUT, 0), E_INVAL, "read cap 0");
    CHECK_EQ(CALL(x, "tls_error", h, U(end + 5), 1), E_FAULT, "error past the end");
    CHECK_EQ(CALL(x, "tls_alpn", h, OUT, -1), E_MSG, "alpn cap -1");
    CHECK_EQ(CALL(x, "tls_close", h), -WASI_ENOTCONN, "close before the handshake");
    CHECK_EQ(CALL(x, "tls_take", h, OUT, 0), 0, "nothing pending");
    /* garbage records: the server fails for good, readably */
    int32_t srv = 1; /* even handles are clients, odd ones servers */
    memset(mem(x, IN), 0x41, 100);
    CHECK_EQ(CALL(x, "tls_feed", srv, IN, 100), 100, "feed garbage");
    CHECK_EQ(CALL(x, "tls_handshake", srv), -WASI_EPROTO, "garbage handshake");
    CHECK_EQ(CALL(x, "tls_handshake", srv), -WASI_EPROTO, "failed stays failed");
    CHECK_EQ(CALL(x, "tls_write", srv, IN, 10), -WASI_EPROTO, "write after failure");
    CHECK_EQ(CALL(x, "tls_read", srv, OUT, 10), -WASI_EPROTO, "read after failure");
    int32_t n = CALL(x, "tls_error", srv, OUT, 200);
    CHECK(n > 10 && strstr((char *)mem(x, OUT), "handshake failed"), "tls_error text: %.*s",
          n > 0 ? n : 0, (char *)mem(x, OUT));
    CHECK_EQ(CALL(x, "tls_error", srv, OUT, 4), 4, "tls_error truncates");
    CHECK_EQ(CALL(x, "tls_error", srv, OUT, 0), 0, "tls_error cap 0");
    /* a client asked to write before its handshake: records and -EAGAIN */
    int32_t cli = 0;
    CHECK_EQ(CALL(x, "tls_write", cli, IN, 10), -WASI_EAGAIN, "write before handshake");
    CHECK(CALL(x, "tls_take", cli, OUT, 0) > 0, "ClientHello pending");
    /* input is bounded: over 1 MiB unprocessed gives -EAGAIN */
    int32_t fresh = 7;
    CHECK_EQ(CALL(x, "tls_feed", fresh, big, U(MIB)), U(MIB), "feed 1 MiB");
    CHECK_EQ(CALL(x, "tls_feed", fresh, big, 1), -WASI_EAGAIN, "feed over 1 MiB");
    for (int i = 0; i < EXT_MAX_SESSIONS; i++)
        CHECK_EQ(CALL(x, "tls_free", i), 0, "free all");
    /* the extension still works after all that */
    kat_aead(x, &aead_kats[0]);
    inst_free(x);

    /* an instance without WATER state (like `water exec`): crypto works, TLS
     * says ENOSYS */
    x = inst_new(t, NULL, false);
    kat_aead(x, &aead_kats[3]);
    CHECK_EQ(CALL(x, "tls_new", 0), -WASI_ENOSYS, "tls without a transport");
    CHECK_EQ(CALL(x, "tls_free", 0), -WASI_EBADF, "free without state");
    inst_free(x);
}

/* ---- random fuzzing ------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static int32_t pick(uint32_t end)
{
    static const uint32_t fixed[] = {0, 1, 2, 11, 12, 13, 15, 16, 17, 20, 31, 32, 33, 64,
                                     0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0,
                                     16u << 20, (16u << 20) + 1, 0x10000};
    uint32_t r = next_rand();
    switch (r % 6) {
    case 0: return U(fixed[(r >> 8) % (sizeof fixed / sizeof fixed[0])]);
    case 1: return U(end - (r >> 8) % 64);
    case 2: return U(end + (r >> 8) % 64);
    case 3: return U((r >> 8) % end);
    case 4: return U((r >> 8) % 256);
    default: return U(r);
    }
}

static void test_fuzz(water_transport *t)
{
    static const struct {
        const char *name;
        int nargs;
    } fns[] = {{"aead_seal", 11}, {"aead_open", 11}, {"hkdf", 9}, {"digest", 5},
               {"x25519_keypair", 2}, {"x25519_shared", 3}, {"random", 2}, {"tls_new", 1},
               {"tls_feed", 3}, {"tls_take", 3}, {"tls_handshake", 1}, {"tls_write", 3},
               {"tls_read", 3}, {"tls_close", 1}, {"tls_error", 3}, {"tls_alpn", 3},
               {"tls_free", 1}};
    const char *iters_env = getenv("EXT_FUZZ_ITERS");
    long iters = iters_env ? atol(iters_env) : 20000;
    inst *x = inst_new(t, NULL, true);
    uint32_t end = mem_size(x);
    long calls = 0, ok = 0;
    for (long i = 0; i < iters; i++) {
        int f = (int)(next_rand() % (sizeof fns / sizeof fns[0]));
        int32_t a[11];
        for (int j = 0; j < fns[f].nargs; j++)
            a[j] = pick(end);
        /* bias toward valid algorithms, sizes and live handles now and then */
        if (fns[f].nargs == 11 && next_rand() % 2) {
            a[0] = U(1 + next_rand() % 3);
            a[2] = a[0] == 2 ? 16 : 32;
            a[4] = 12;
        }
        if (!strncmp(fns[f].name, "tls_", 4) && strcmp(fns[f].name, "tls_new") &&
            next_rand() % 2)
            a[0] = U(next_rand() % 8);
        if (!strcmp(fns[f].name, "tls_new") && next_rand() % 4)
            a[0] = U(next_rand() % 2);
        int32_t r = callv(x, fns[f].name, a, (size_t)fns[f].nargs);
        calls++;
        if (r >= 0)
            ok++;
        else
            CHECK(r >= -76, "%s returned %d, not a WASI errno", fns[f].name, r);
        if (r == INT32_MIN)
            break;
        if (i % 5000 == 4999) { /* a fresh instance now and then (frees sessions) */
            inst_free(x);
            x = inst_new(t, NULL, true);
        }
    }
    printf("fuzz: %ld calls, %ld succeeded, no trap\n", calls, ok);
    kat_aead(x, &aead_kats[7]);
    inst_free(x);
}

/* ---- TLS in memory -------------------------------------------------------------- */

/* Moves records between two sessions of one instance until both handshakes
 * end; returns the last (client, server) results. */
static void pump(inst *x, int32_t c, int32_t s, int32_t *rc, int32_t *rs)
{
    *rc = *rs = 0;
    for (int round = 0; round < 20 && (*rc != 1 || *rs != 1); round++) {
        if (*rc >= 0)
            *rc = CALL(x, "tls_handshake", c);
        int32_t n;
        while ((n = CALL(x, "tls_take", c, SCRATCH, 32768)) > 0)
            CHECK_EQ(CALL(x, "tls_feed", s, SCRATCH, n), n, "feed server");
        if (*rs >= 0)
            *rs = CALL(x, "tls_handshake", s);
        while ((n = CALL(x, "tls_take", s, SCRATCH, 32768)) > 0)
            CHECK_EQ(CALL(x, "tls_feed", c, SCRATCH, n), n, "feed client");
        if (*rc < 0 || *rs < 0)
            break;
    }
}

/* Sends len bytes from one session to the other; checks they arrive. */
static void transfer(inst *x, int32_t from, int32_t to, size_t len)
{
    for (size_t i = 0; i < len; i++)
        mem(x, IN)[i] = (uint8_t)(i * 31 + len);
    CHECK_EQ(CALL(x, "tls_write", from, IN, U(len)), U(len), "tls_write");
    int32_t n;
    while ((n = CALL(x, "tls_take", from, SCRATCH, 32768)) > 0)
        CHECK_EQ(CALL(x, "tls_feed", to, SCRATCH, n), n, "feed");
    size_t got = 0;
    while ((n = CALL(x, "tls_read", to, OUT + U(got), 65536)) > 0)
        got += (size_t)n;
    CHECK_EQ(n, -WASI_EAGAIN, "read until more records are needed");
    CHECK(got == len && !memcmp(mem(x, IN), mem(x, OUT), len), "transfer of %zu bytes", len);
}

static void test_tls_mem(water_transport *t)
{
    inst *x = inst_new(t, NULL, true);
    int32_t c = CALL(x, "tls_new", 0), s = CALL(x, "tls_new", 1), rc, rs;
    CHECK(c >= 0 && s >= 0, "sessions");
    pump(x, c, s, &rc, &rs);
    CHECK(rc == 1 && rs == 1, "handshake: client %d, server %d", rc, rs);
    CHECK_EQ(CALL(x, "tls_handshake", c), 1, "done stays done");
    int32_t n = CALL(x, "tls_alpn", c, OUT, 32);
    CHECK(n == 2 && !memcmp(mem(x, OUT), "h2", 2), "ALPN h2 (%d)", n);
    CHECK_EQ(CALL(x, "tls_alpn", s, OUT, 1), -WASI_EMSGSIZE, "alpn cap 1");
    transfer(x, c, s, 1);
    transfer(x, c, s, 16384);
    transfer(x, s, c, 40000);
    transfer(x, c, s, 65536 - 4096);
    /* a tampered record is refused */
    CHECK_EQ(CALL(x, "tls_write", c, IN, 100), 100, "write");
    n = CALL(x, "tls_take", c, SCRATCH, 32768);
    mem(x, SCRATCH)[n - 3] ^= 1;
    CHECK_EQ(CALL(x, "tls_feed", s, SCRATCH, n), n, "feed tampered");
    CHECK_EQ(CALL(x, "tls_read", s, OUT, 1000), -WASI_EPROTO, "tampered record");
    /* close_notify: a clean end */
    int32_t c2 = CALL(x, "tls_new", 0), s2 = CALL(x, "tls_new", 1);
    pump(x, c2, s2, &rc, &rs);
    CHECK(rc == 1 && rs == 1, "second handshake");
    transfer(x, s2, c2, 5000);
    CHECK_EQ(CALL(x, "tls_close", c2), 0, "close");
    CHECK_EQ(CALL(x, "tls_close", c2), 0, "close twice");
    n = CALL(x, "tls_take", c2, SCRATCH, 32768);
    CHECK(n > 0, "close_notify record");
    CHECK_EQ(CALL(x, "tls_feed", s2, SCRATCH, n), n, "feed close_notify");
    CHECK_EQ(CALL(x, "tls_read", s2, OUT, 100), 0, "read sees the close");
    CHECK_EQ(CALL(x, "tls_write", c2, IN, 10), -WASI_EPIPE, "write after close");
    CHECK_EQ(CALL(x, "tls_write", s2, IN, 10), 10, "the other way still works");
    n = CALL(x, "tls_take", s2, SCRATCH, 32768);
    CHECK_EQ(CALL(x, "tls_feed", c2, SCRATCH, n), n, "feed after our close");
    CHECK_EQ(CALL(x, "tls_read", c2, OUT, 100), 10, "half-closed: still reading");
    inst_free(x); /* frees live sessions */
}

/* A client of transport t against a server of transport srv. */
static int32_t handshake_across(water_transport *t, water_transport *srv, char *err, size_t len)
{
    inst *a = inst_new(t, NULL, true), *b = inst_new(srv, NULL, true);
    int32_t c = CALL(a, "tls_new", 0), s = CALL(b, "tls_new", 1), rc = 0, rs = 0;
    for (int round = 0; round < 20 && (rc != 1 || rs != 1) && rc >= 0 && rs >= 0; round++) {
        rc = CALL(a, "tls_handshake", c);
        int32_t n;
        while ((n = CALL(a, "tls_take", c, SCRATCH, 32768)) > 0) {
            memcpy(mem(b, SCRATCH), mem(a, SCRATCH), (size_t)n);
            CALL(b, "tls_feed", s, SCRATCH, n);
        }
        rs = CALL(b, "tls_handshake", s);
        while ((n = CALL(b, "tls_take", s, SCRATCH, 32768)) > 0) {
            memcpy(mem(a, SCRATCH), mem(b, SCRATCH), (size_t)n);
            CALL(a, "tls_feed", c, SCRATCH, n);
        }
    }
    int32_t n = CALL(a, "tls_error", c, OUT, U(len - 1));
    snprintf(err, len, "%.*s", n > 0 ? n : 0, (char *)mem(a, OUT));
    inst_free(a);
    inst_free(b);
    return rc;
}

static void test_tls_verify(water_transport *full)
{
    char err[256];
    water_error e;
    CHECK_EQ(handshake_across(full, full, err, sizeof err), 1, "good certificate");

    water_tls_options other = {.ca_file = cert("other-ca.pem"), .sni = "localhost"};
    water_transport *t = load_tramp(&other, &e);
    CHECK(t, "load: %s", e.message);
    CHECK_EQ(handshake_across(t, full, err, sizeof err), -WASI_EACCES, "unknown CA");
    CHECK(strstr(err, "certificate verify failed"), "error text: %s", err);
    water_transport_free(t);

    water_tls_options wrong = {.ca_file = cert("ca.pem"), .sni = "wrong.example"};
    t = load_tramp(&wrong, &e);
    CHECK_EQ(handshake_across(t, full, err, sizeof err), -WASI_EACCES, "wrong name");
    CHECK(strstr(err, "hostname mismatch"), "error text: %s", err);
    water_transport_free(t);

    water_tls_options ip = {.ca_file = cert("ca.pem"), .sni = "127.0.0.1"};
    t = load_tramp(&ip, &e);
    CHECK_EQ(handshake_across(t, full, err, sizeof err), 1, "IP address in the certificate");
    water_transport_free(t);

    water_tls_options ip2 = {.ca_file = cert("ca.pem"), .sni = "127.0.0.2"};
    t = load_tramp(&ip2, &e);
    CHECK_EQ(handshake_across(t, full, err, sizeof err), -WASI_EACCES, "wrong IP address");
    water_transport_free(t);

    water_tls_options insecure = {.ca_file = cert("other-ca.pem"), .sni = "wrong.example",
                                  .insecure = true};
    t = load_tramp(&insecure, &e);
    CHECK_EQ(handshake_across(t, full, err, sizeof err), 1, "insecure accepts anything");
    /* no certificate and key: no server sessions */
    inst *x = inst_new(t, NULL, true);
    CHECK_EQ(CALL(x, "tls_new", 1), -WASI_ENOSYS, "server without a certificate");
    CHECK_EQ(CALL(x, "tls_new", 0), 0, "client");
    inst_free(x);
    water_transport_free(t);
}

/* ---- load-time errors ----------------------------------------------------------- */

static void expect_load_error(const water_tls_options *o, const char *want, const char *what)
{
    water_error e = {0};
    water_transport *t = load_tramp(o, &e);
    CHECK(!t, "%s: loaded", what);
    CHECK(t || strstr(e.message, want), "%s: message \"%s\" lacks \"%s\"", what, e.message, want);
    if (!t)
        printf("  %s -> %s\n", what, e.message);
    water_transport_free(t);
}

static void test_load(void)
{
    expect_load_error(&(water_tls_options){.ca_file = "/nonexistent/ca.pem"},
                      "/nonexistent/ca.pem: No such file or directory", "missing CA file");
    expect_load_error(&(water_tls_options){.ca_file = tramp_path}, tramp_path,
                      "CA file that is not PEM");
    expect_load_error(&(water_tls_options){.cert_file = cert("srv.pem"),
                                           .key_file = "/nonexistent/k.pem"},
                      "/nonexistent/k.pem: No such file or directory", "missing key file");
    expect_load_error(&(water_tls_options){.cert_file = "/nonexistent/c.pem",
                                           .key_file = cert("srv.key")},
                      "/nonexistent/c.pem", "missing certificate file");
    expect_load_error(&(water_tls_options){.cert_file = cert("srv.pem")}, "--tls-key",
                      "certificate without a key");
    expect_load_error(&(water_tls_options){.cert_file = cert("srv.pem"),
                                           .key_file = cert("ca.key")},
                      "does not match", "key of another certificate");
    expect_load_error(&(water_tls_options){.cert_file = cert("srv.key"),
                                           .key_file = cert("srv.key")},
                      "certificate file", "key given as the certificate");
    expect_load_error(&(water_tls_options){.alpn = "h2,,http/1.1"}, "ALPN", "empty ALPN name");
    expect_load_error(&(water_tls_options){.alpn = "h2,"}, "ALPN", "trailing comma in ALPN");
}

/* ---- the wasm32 guest through the SDK wrappers ------------------------------------ */

static void test_guest(water_transport *t)
{
    size_t len;
    uint8_t *b = read_all(guest_path, &len);
    wasm_error e;
    wasm_module *m = wasm_module_new(b, len, &e);
    free(b);
    if (!m) {
        fail(__FILE__, __LINE__, "%s: %s", guest_path, e.message);
        return;
    }
    inst *x = inst_new(t, m, true);
    wasm_func *f = wasm_instance_func(x->inst, "_start");
    if (f)
        wasm_call(x->inst, f, NULL, 0, NULL, 0, &e);
    int32_t r = CALL(x, "run_all");
    CHECK_EQ(r, 0, "failures in ext_guest.wasm (see its lines above)");
    inst_free(x);
    wasm_module_free(m);
}

/* ---- threads: per-thread contexts ------------------------------------------------ */

static void *thread_main(void *arg)
{
    water_transport *t = arg;
    inst *x = inst_new(t, NULL, true);
    for (int i = 0; i < 200; i++)
        kat_aead(x, &aead_kats[i % (sizeof aead_kats / sizeof aead_kats[0])]);
    inst_free(x);
    return NULL;
}

static void test_threads(water_transport *t)
{
    pthread_t th[6];
    for (int i = 0; i < 6; i++)
        pthread_create(&th[i], NULL, thread_main, t);
    for (int i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
}

/* ---- throughput ---------------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The same seal as the host does, called natively: the reference. */
static double native_seal(int alg, uint32_t len, int32_t n)
{
    static const char *const names[] = {NULL, "ChaCha20-Poly1305", "AES-128-GCM",
                                        "AES-256-GCM"};
    static uint8_t key[32], iv[12], in[16384], out[16384 + 16];
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, names[alg], NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    EVP_CipherInit_ex2(ctx, c, NULL, NULL, 1, NULL);
    int ol;
    double t0 = now();
    for (int32_t i = 0; i < n; i++) {
        EVP_CipherInit_ex2(ctx, NULL, key, iv, 1, NULL);
        EVP_CipherUpdate(ctx, out, &ol, in, (int)len);
        EVP_CipherFinal_ex(ctx, out + len, &ol);
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + len);
    }
    double t = now() - t0;
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    return t;
}

/* Throughput of seal and open called from wasm (a wasm loop calling the
 * import), best of three runs, with native OpenSSL doing the same seals in
 * the same process as the reference. A report, not a pass/fail timing. */
static void test_bench(water_transport *t)
{
    static const char *const names[] = {NULL, "chacha20-poly1305", "aes-128-gcm", "aes-256-gcm"};
    inst *x = inst_new(t, NULL, true);
    for (int alg = 1; alg <= 3; alg++) {
        int32_t kl = alg == 2 ? 16 : 32;
        for (uint32_t len = 1024; len <= 16384; len *= 16) {
            int32_t n = (int32_t)((64u * MIB) / len);
            double seal = 1e9, open = 1e9, native = 1e9;
            CALL(x, "bench_seal", alg, kl, 10, U(len)); /* warm up */
            for (int run = 0; run < 3; run++) {
                double t0 = now();
                int32_t r = CALL(x, "bench_seal", alg, kl, n, U(len));
                double t1 = now();
                int32_t r2 = CALL(x, "bench_open", alg, kl, n, U(len));
                double t2 = now();
                CHECK(r == (int32_t)len + 16 && r2 == (int32_t)len, "bench results %d %d", r, r2);
                seal = t1 - t0 < seal ? t1 - t0 : seal;
                open = t2 - t1 < open ? t2 - t1 : open;
                double tn = native_seal(alg, len, n);
                native = tn < native ? tn : native;
            }
            double mib = n * (double)len / MIB;
            printf("%-18s %5u-byte chunks through wasm: seal %5.0f MiB/s (%5.2f us/call), "
                   "open %5.0f MiB/s; native OpenSSL seal %5.0f MiB/s (wasm path at %3.0f%%)\n",
                   names[alg], len, mib / seal, seal * 1e6 / n, mib / open, mib / native,
                   100 * native / seal);
        }
    }
    inst_free(x);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s TRAMP.wasm GUEST.wasm CERTDIR TEST\n", argv[0]);
        return 2;
    }
    tramp_path = argv[1];
    guest_path = argv[2];
    cert_dir = argv[3];
    const char *test = argv[4];
    water_transport *t = full_transport();
    if (!strcmp(test, "kat"))
        test_kat(t);
    else if (!strcmp(test, "hostile"))
        test_hostile(t);
    else if (!strcmp(test, "fuzz"))
        test_fuzz(t);
    else if (!strcmp(test, "tls_mem"))
        test_tls_mem(t);
    else if (!strcmp(test, "tls_verify"))
        test_tls_verify(t);
    else if (!strcmp(test, "load"))
        test_load();
    else if (!strcmp(test, "guest"))
        test_guest(t);
    else if (!strcmp(test, "threads"))
        test_threads(t);
    else if (!strcmp(test, "bench"))
        test_bench(t);
    else {
        fprintf(stderr, "unknown test %s\n", test);
        return 2;
    }
    water_transport_free(t);
    printf("%s: %s (%d failure%s)\n", test, failures ? "FAIL" : "ok", failures,
           failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}
