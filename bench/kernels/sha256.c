/*
 * sha256.c - SHA-256 (FIPS 180-4, section 6.2) over n MiB: 32-bit rotates,
 * shifts, adds and big-endian loads; a long straight-line compression loop.
 *
 * The message is n copies of a 1 MiB pseudo-random block whose first word is
 * replaced by the copy's index. The checksum is the first 8 bytes of the
 * digest, big-endian.
 */
#include "bench_kernel.h"

#define BLOCK_BYTES (1u << 20)

static uint8_t sha_data[BLOCK_BYTES];

typedef struct sha256_ctx {
    uint32_t h[8];
    uint8_t block[64];
    uint32_t used;      /* bytes in block */
    uint64_t total;     /* message length in bytes */
} sha256_ctx;

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the
 * cube roots of the first 64 primes. */
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, unsigned r)
{
    return (x >> r) | (x << (32 - r));
}

/* Section 6.2.2: one 512-bit block. */
static void sha256_compress(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = s1 + w[t - 7] + s0 + w[t - 16];
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    uint32_t e = h[4], f = h[5], g = h[6], k = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = k + S1 + ch + K256[t] + w[t];
        uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

static void sha256_init(sha256_ctx *c)
{
    /* Section 5.3.3. */
    static const uint32_t H0[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    for (int i = 0; i < 8; i++)
        c->h[i] = H0[i];
    c->used = 0;
    c->total = 0;
}

static void sha256_update(sha256_ctx *c, const uint8_t *p, uint32_t len)
{
    c->total += len;
    while (len > 0) {
        if (c->used == 0 && len >= 64) {
            sha256_compress(c->h, p);
            p += 64;
            len -= 64;
            continue;
        }
        c->block[c->used++] = *p++;
        len--;
        if (c->used == 64) {
            sha256_compress(c->h, c->block);
            c->used = 0;
        }
    }
}

/* Section 5.1.1: a 1 bit, zeros, and the 64-bit length in bits. */
static void sha256_final(sha256_ctx *c, uint8_t out[32])
{
    uint64_t bits = c->total * 8;
    uint8_t pad = 0x80;
    sha256_update(c, &pad, 1);
    pad = 0;
    while (c->used != 56)
        sha256_update(c, &pad, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(c, len, 8);
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

BENCH_KERNEL(sha256, i64)
{
    uint32_t seed = 0xC0FFEEu;
    for (uint32_t i = 0; i < BLOCK_BYTES; i += 4) {
        uint32_t r = bench_rand(&seed);
        sha_data[i] = (uint8_t)r;
        sha_data[i + 1] = (uint8_t)(r >> 8);
        sha_data[i + 2] = (uint8_t)(r >> 16);
        sha_data[i + 3] = (uint8_t)(r >> 24);
    }
    sha256_ctx ctx;
    sha256_init(&ctx);
    for (int32_t i = 0; i < n; i++) {
        sha_data[0] = (uint8_t)i;
        sha_data[1] = (uint8_t)(i >> 8);
        sha_data[2] = (uint8_t)(i >> 16);
        sha_data[3] = (uint8_t)(i >> 24);
        sha256_update(&ctx, sha_data, BLOCK_BYTES);
    }
    uint8_t digest[32];
    sha256_final(&ctx, digest);
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        r = r << 8 | digest[i];
    return (int64_t)r;
}
