/*
 * reader.h - bounds-checked readers for the WebAssembly binary format
 * (internal; used by the decoder and by the compiler for function bodies).
 *
 * A wasm_reader walks [p, end) of a buffer that begins at `start` (offsets
 * in messages are p - start). Every reader returns true and advances p on
 * success; on failure it returns false, leaves p unchanged and never reads at
 * or past `end`. After a failed LEB128 read, wasm_leb_error() says why, in the
 * words of the spec's test suite.
 *
 * LEB128 rules (spec 5.2.2): an N-bit integer takes at most ceil(N/7) bytes;
 * in the last allowed byte the continuation bit must be clear ("integer
 * representation too long") and the bits beyond N must be zero (unsigned) or
 * copies of the sign bit (signed) ("integer too large").
 */
#ifndef WATER_WASM_READER_H
#define WATER_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wasm_reader {
    const uint8_t *p, *end, *start;
} wasm_reader;

static inline void wasm_reader_init(wasm_reader *r, const uint8_t *buf,
                                    size_t size)
{
    r->start = r->p = buf;
    r->end = buf + size;
}

/* Offset of the next byte from `start` (buffers are < 4 GiB). */
static inline uint32_t wasm_reader_offset(const wasm_reader *r)
{
    return (uint32_t)(r->p - r->start);
}

static inline size_t wasm_reader_left(const wasm_reader *r)
{
    return (size_t)(r->end - r->p);
}

static inline bool wasm_reader_done(const wasm_reader *r)
{
    return r->p >= r->end;
}

/* Splits off the next n bytes as `sub` (same `start`) and skips them in r. */
static inline bool wasm_reader_sub(wasm_reader *r, size_t n, wasm_reader *sub)
{
    if (n > wasm_reader_left(r))
        return false;
    sub->start = r->start;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return true;
}

static inline bool wasm_read_u8(wasm_reader *r, uint8_t *out)
{
    if (r->p >= r->end)
        return false;
    *out = *r->p++;
    return true;
}

/* Points *out at the next n bytes (no copy) and skips them. */
static inline bool wasm_read_bytes(wasm_reader *r, size_t n,
                                   const uint8_t **out)
{
    if (n > wasm_reader_left(r))
        return false;
    *out = r->p;
    r->p += n;
    return true;
}

/* Unsigned LEB128 of `bits` (1..64) bits. */
static inline bool wasm_read_uleb(wasm_reader *r, unsigned bits, uint64_t *out)
{
    const uint8_t *p = r->p;
    unsigned maxbytes = (bits + 6) / 7;
    uint64_t v = 0;
    for (unsigned i = 0; i < maxbytes; i++) {
        if (p >= r->end)
            return false;
        uint8_t b = *p++;
        if (i == maxbytes - 1) {
            unsigned used = bits - 7 * i; /* value bits in this byte, 1..7 */
            if (b & 0x80)
                return false;
            if (b >> used)
                return false;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            r->p = p;
            return true;
        }
    }
    return false; /* not reached: the last byte returns above */
}

/* Signed LEB128 of `bits` (2..64) bits, sign-extended to 64 bits. */
static inline bool wasm_read_sleb(wasm_reader *r, unsigned bits, int64_t *out)
{
    const uint8_t *p = r->p;
    unsigned maxbytes = (bits + 6) / 7;
    uint64_t v = 0;
    for (unsigned i = 0; i < maxbytes; i++) {
        if (p >= r->end)
            return false;
        uint8_t b = *p++;
        if (i == maxbytes - 1) {
            unsigned used = bits - 7 * i;
            /* bits used-1 .. 6: the sign bit and its required copies */
            uint8_t m = (uint8_t)(0x7f & ~((1u << (used - 1)) - 1));
            if (b & 0x80)
                return false;
            if ((b & m) != 0 && (b & m) != m)
                return false;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            unsigned shift = 7 * (i + 1);
            if (shift < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << shift;
            *out = (int64_t)v;
            r->p = p;
            return true;
        }
    }
    return false;
}

static inline bool wasm_read_u32(wasm_reader *r, uint32_t *out)
{
    if (r->p < r->end && *r->p < 0x80) { /* the common one-byte case */
        *out = *r->p++;
        return true;
    }
    uint64_t v;
    if (!wasm_read_uleb(r, 32, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static inline bool wasm_read_s32(wasm_reader *r, int32_t *out)
{
    int64_t v;
    if (!wasm_read_sleb(r, 32, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

/* Block types are s33: negative one-byte values are value types or 0x40. */
static inline bool wasm_read_s33(wasm_reader *r, int64_t *out)
{
    return wasm_read_sleb(r, 33, out);
}

static inline bool wasm_read_s64(wasm_reader *r, int64_t *out)
{
    return wasm_read_sleb(r, 64, out);
}

/* Little-endian IEEE 754 bit patterns (NaN payloads kept). */
static inline bool wasm_read_f32_bits(wasm_reader *r, uint32_t *out)
{
    if (wasm_reader_left(r) < 4)
        return false;
    const uint8_t *p = r->p;
    *out = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
    r->p += 4;
    return true;
}

static inline bool wasm_read_f64_bits(wasm_reader *r, uint64_t *out)
{
    if (wasm_reader_left(r) < 8)
        return false;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | r->p[i];
    *out = v;
    r->p += 8;
    return true;
}

/* Why a LEB128 read of `bits` bits (signed or not) at r->p failed:
 * "unexpected end", "integer representation too long" or "integer too
 * large". Meaningful only right after a failed read. */
static inline const char *wasm_leb_error(const wasm_reader *r, unsigned bits)
{
    unsigned maxbytes = (bits + 6) / 7;
    const uint8_t *p = r->p;
    for (unsigned i = 0; i + 1 < maxbytes; i++, p++) {
        if (p >= r->end)
            return "unexpected end";
        if (!(*p & 0x80))
            return "integer too large"; /* not reached after a failure */
    }
    if (p >= r->end)
        return "unexpected end";
    if (*p & 0x80)
        return "integer representation too long";
    return "integer too large";
}

#endif /* WATER_WASM_READER_H */
