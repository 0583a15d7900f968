/*
 * bench_kernel.h - what every benchmark kernel shares.
 *
 * A kernel is one C file that defines one function
 *     bench_NAME(int32_t n) -> int32_t or int64_t checksum
 * whose work grows linearly with n, and which rebuilds all of its state on
 * every call (so repeated calls return the same checksum). The same file is
 * compiled natively (gcc -O2, linked into bench_native) and for wasm32 without
 * any libc (clang --target=wasm32 -ffreestanding), where the function is
 * exported under the plain name NAME.
 *
 * Rules for kernel code, so that every engine must produce the same checksum:
 * fixed-width integer types only (size_t and pointers differ between wasm32
 * and the host), unsigned arithmetic wherever a value may wrap, no libc calls,
 * no floating point that depends on contraction or library math.
 */
#ifndef BENCH_KERNEL_H
#define BENCH_KERNEL_H

#include <stdint.h>

#define BENCH_T_i32 int32_t
#define BENCH_T_i64 int64_t

#if defined(__wasm__)
#define BENCH_EXPORT(name) __attribute__((export_name(#name)))
#else
#define BENCH_EXPORT(name)
#endif

/* Declares every kernel: bench_fib(), bench_sort(), ... */
#define K(name, type, full, quick, interp, what) \
    BENCH_T_##type bench_##name(int32_t n);
#include "kernels.def"
#undef K

/* Defines kernel `name` returning `type` (i32 or i64). */
#define BENCH_KERNEL(name, type) \
    BENCH_EXPORT(name) BENCH_T_##type bench_##name(int32_t n)

/* xorshift32: a small deterministic generator; the state must not be 0. */
static inline uint32_t bench_rand(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Folds one 32-bit value into a running checksum (multiply-xorshift). */
static inline uint32_t bench_mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x9E3779B1u;
    h ^= h >> 15;
    return h;
}

#endif /* BENCH_KERNEL_H */
