/*
 * numeric.h - WebAssembly numeric semantics that C does not give directly:
 * trapping division, float-to-int truncation (trapping and saturating),
 * min/max with NaN and signed zeros, rotates, bit counts on zero.
 *
 * All static inline: the interpreter calls them from its handlers, and the
 * unit tests call them directly.
 */
#ifndef WATER_WASM_NUMERIC_H
#define WATER_WASM_NUMERIC_H

#include "water/wasm.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t wasm_clz32(uint32_t x) { return x ? (uint32_t)__builtin_clz(x) : 32; }
static inline uint32_t wasm_ctz32(uint32_t x) { return x ? (uint32_t)__builtin_ctz(x) : 32; }
static inline uint64_t wasm_clz64(uint64_t x) { return x ? (uint64_t)__builtin_clzll(x) : 64; }
static inline uint64_t wasm_ctz64(uint64_t x) { return x ? (uint64_t)__builtin_ctzll(x) : 64; }

static inline uint32_t wasm_rotl32(uint32_t x, uint32_t n)
{
    n &= 31;
    return (x << n) | (x >> ((32 - n) & 31));
}
static inline uint32_t wasm_rotr32(uint32_t x, uint32_t n)
{
    n &= 31;
    return (x >> n) | (x << ((32 - n) & 31));
}
static inline uint64_t wasm_rotl64(uint64_t x, uint64_t n)
{
    n &= 63;
    return (x << n) | (x >> ((64 - n) & 63));
}
static inline uint64_t wasm_rotr64(uint64_t x, uint64_t n)
{
    n &= 63;
    return (x >> n) | (x << ((64 - n) & 63));
}

/* ---- division: spec 4.3.2 idiv/irem ---------------------------------- */

static inline wasm_trap wasm_i32_div_s(uint32_t a, uint32_t b, uint32_t *r)
{
    if (b == 0)
        return WASM_TRAP_DIV_ZERO;
    if (a == 0x80000000u && b == 0xFFFFFFFFu)
        return WASM_TRAP_INT_OVERFLOW;
    *r = (uint32_t)((int32_t)a / (int32_t)b);
    return WASM_TRAP_NONE;
}
static inline wasm_trap wasm_i32_div_u(uint32_t a, uint32_t b, uint32_t *r)
{
    if (b == 0)
        return WASM_TRAP_DIV_ZERO;
    *r = a / b;
    return WASM_TRAP_NONE;
}
static inline wasm_trap wasm_i32_rem_s(uint32_t a, uint32_t b, uint32_t *r)
{
    if (b == 0)
        return WASM_TRAP_DIV_ZERO;
    /* INT_MIN % -1 is 0 in wasm but undefined in C. */
    *r = b == 0xFFFFFFFFu ? 0 : (uint32_t)((int32_t)a % (int32_t)b);
    return WASM_TRAP_NONE;
}
static inline wasm_trap wasm_i32_rem_u(uint32_t a, uint32_t b, uint32_t *r)
{
    if (b == 0)
        return WASM_TRAP_DIV_ZERO;
    *r = a % b;
    return WASM_TRAP_NONE;
}
static inline wasm_trap wasm_i64_div_s(uint64_t a, uint64_t b, uint64_t *r)
{
    if (b == 0)
        return WASM_TRAP_DIV_ZERO;
    if (a == 0x8000000000000000ull && b == UINT64_MAX)
        return WASM_TRAP_INT_OVERFLOW;
    *r = (uint64_t)((int64_t)a / (int64_t)b);
    return WASM_TRAP_NONE;
}
static inline wasm_trap wasm_i64_div_u(uint64_t a, uint64_t b, uint64_t *r)
{
    if (b == 0)
        return WASM_TRAP_DIV_ZERO;
    *r = a / b;
    return WASM_TRAP_NONE;
}
static inline wasm_trap wasm_i64_rem_s(uint64_t a, uint64_t b, uint64_t *r)
{
    if (b == 0)
        return WASM_TRAP_DIV_ZERO;
    *r = b == UINT64_MAX ? 0 : (uint64_t)((int64_t)a % (int64_t)b);
    return WASM_TRAP_NONE;
}
static inline wasm_trap wasm_i64_rem_u(uint64_t a, uint64_t b, uint64_t *r)
{
    if (b == 0)
        return WASM_TRAP_DIV_ZERO;
    *r = a % b;
    return WASM_TRAP_NONE;
}

/* ---- min/max: NaN in -> NaN out; -0 < +0 ------------------------------ */

static inline float wasm_f32_min(float a, float b)
{
    if (a != a || b != b)
        return a + b; /* a NaN (quiet) */
    if (a == b)       /* equal, perhaps zeros of different sign */
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float wasm_f32_max(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double wasm_f64_min(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double wasm_f64_max(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* ---- rounding: libm may pass a signalling NaN through unchanged, wasm
 * wants an arithmetic (quiet) NaN ------------------------------------------ */
#define WASM_ROUND(name, T, fn)                                               \
    static inline T name(T a) { return a != a ? a + a : fn(a); }
WASM_ROUND(wasm_f32_ceil, float, ceilf)
WASM_ROUND(wasm_f32_floor, float, floorf)
WASM_ROUND(wasm_f32_trunc, float, truncf)
WASM_ROUND(wasm_f32_nearest, float, nearbyintf)
WASM_ROUND(wasm_f32_sqrt, float, sqrtf)
WASM_ROUND(wasm_f64_ceil, double, ceil)
WASM_ROUND(wasm_f64_floor, double, floor)
WASM_ROUND(wasm_f64_trunc, double, trunc)
WASM_ROUND(wasm_f64_nearest, double, nearbyint)
WASM_ROUND(wasm_f64_sqrt, double, sqrt)
#undef WASM_ROUND

/* ---- float to int: trap on NaN or out of range (spec 4.3.3 trunc) ------ */
/* Range tests use exact powers of two, so they are exact in float/double. */

#define WASM_TRUNC(name, FT, RT, lo_ok, hi_ok, cast)                          \
    static inline wasm_trap name(FT a, RT *r)                                 \
    {                                                                         \
        if (a != a)                                                           \
            return WASM_TRAP_INVALID_CONVERSION;                              \
        if (!(lo_ok) || !(hi_ok))                                             \
            return WASM_TRAP_INT_OVERFLOW;                                    \
        *r = (RT)(cast)a;                                                     \
        return WASM_TRAP_NONE;                                                \
    }
WASM_TRUNC(wasm_i32_trunc_f32_s, float, uint32_t, a >= -2147483648.0f, a < 2147483648.0f, int32_t)
WASM_TRUNC(wasm_i32_trunc_f32_u, float, uint32_t, a > -1.0f, a < 4294967296.0f, uint32_t)
WASM_TRUNC(wasm_i32_trunc_f64_s, double, uint32_t, a > -2147483649.0, a < 2147483648.0, int32_t)
WASM_TRUNC(wasm_i32_trunc_f64_u, double, uint32_t, a > -1.0, a < 4294967296.0, uint32_t)
WASM_TRUNC(wasm_i64_trunc_f32_s, float, uint64_t, a >= -9223372036854775808.0f, a < 9223372036854775808.0f, int64_t)
WASM_TRUNC(wasm_i64_trunc_f32_u, float, uint64_t, a > -1.0f, a < 18446744073709551616.0f, uint64_t)
WASM_TRUNC(wasm_i64_trunc_f64_s, double, uint64_t, a >= -9223372036854775808.0, a < 9223372036854775808.0, int64_t)
WASM_TRUNC(wasm_i64_trunc_f64_u, double, uint64_t, a > -1.0, a < 18446744073709551616.0, uint64_t)
#undef WASM_TRUNC

/* ---- float to int, saturating (trunc_sat): NaN -> 0, clamp ------------ */

#define WASM_TRUNC_SAT(name, FT, RT, lo_ok, hi_ok, lo, hi, cast)              \
    static inline RT name(FT a)                                               \
    {                                                                         \
        if (a != a)                                                           \
            return 0;                                                         \
        if (!(lo_ok))                                                         \
            return (RT)(lo);                                                  \
        if (!(hi_ok))                                                         \
            return (RT)(hi);                                                  \
        return (RT)(cast)a;                                                   \
    }
WASM_TRUNC_SAT(wasm_i32_trunc_sat_f32_s, float, uint32_t, a >= -2147483648.0f, a < 2147483648.0f, INT32_MIN, INT32_MAX, int32_t)
WASM_TRUNC_SAT(wasm_i32_trunc_sat_f32_u, float, uint32_t, a > -1.0f, a < 4294967296.0f, 0, UINT32_MAX, uint32_t)
WASM_TRUNC_SAT(wasm_i32_trunc_sat_f64_s, double, uint32_t, a > -2147483649.0, a < 2147483648.0, INT32_MIN, INT32_MAX, int32_t)
WASM_TRUNC_SAT(wasm_i32_trunc_sat_f64_u, double, uint32_t, a > -1.0, a < 4294967296.0, 0, UINT32_MAX, uint32_t)
WASM_TRUNC_SAT(wasm_i64_trunc_sat_f32_s, float, uint64_t, a >= -9223372036854775808.0f, a < 9223372036854775808.0f, INT64_MIN, INT64_MAX, int64_t)
WASM_TRUNC_SAT(wasm_i64_trunc_sat_f32_u, float, uint64_t, a > -1.0f, a < 18446744073709551616.0f, 0, UINT64_MAX, uint64_t)
WASM_TRUNC_SAT(wasm_i64_trunc_sat_f64_s, double, uint64_t, a >= -9223372036854775808.0, a < 9223372036854775808.0, INT64_MIN, INT64_MAX, int64_t)
WASM_TRUNC_SAT(wasm_i64_trunc_sat_f64_u, double, uint64_t, a > -1.0, a < 18446744073709551616.0, 0, UINT64_MAX, uint64_t)
#undef WASM_TRUNC_SAT

#endif /* WATER_WASM_NUMERIC_H */
