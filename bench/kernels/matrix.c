/*
 * matrix.c - small i16 matrices with i32 results, in the manner of CoreMark's
 * matrix part (written from scratch): 16-bit loads with sign extension,
 * 32-bit multiply-accumulate, shifts and masks in tight nested loops.
 *
 * Each of the n iterations, with a value v derived from the iteration number:
 * adds v to A, C = A * v, C = A x column, C = A x B, C = bit-field products of
 * A x B, subtracts v from A again; every C is folded into the checksum.
 */
#include "bench_kernel.h"

#define DIM 64

static int16_t mat_a[DIM * DIM], mat_b[DIM * DIM];
static int32_t mat_c[DIM * DIM];

static uint32_t fold(uint32_t sum, const int32_t *c, int32_t len)
{
    uint32_t acc = 0;
    for (int32_t i = 0; i < len; i++)
        acc = acc * 3u + (uint32_t)c[i];
    return bench_mix(sum, acc);
}

static void add_const(int16_t *a, int16_t v)
{
    for (int32_t i = 0; i < DIM * DIM; i++)
        a[i] = (int16_t)(a[i] + v);
}

static void mul_const(int32_t *c, const int16_t *a, int16_t v)
{
    for (int32_t i = 0; i < DIM * DIM; i++)
        c[i] = (int32_t)a[i] * (int32_t)v;
}

static void mul_vec(int32_t *c, const int16_t *a, const int16_t *b)
{
    for (int32_t i = 0; i < DIM; i++) {
        int32_t acc = 0;
        for (int32_t j = 0; j < DIM; j++)
            acc += (int32_t)a[i * DIM + j] * (int32_t)b[j * DIM];
        c[i] = acc;
    }
}

static void mul_mat(int32_t *c, const int16_t *a, const int16_t *b)
{
    for (int32_t i = 0; i < DIM; i++)
        for (int32_t j = 0; j < DIM; j++) {
            int32_t acc = 0;
            for (int32_t k = 0; k < DIM; k++)
                acc += (int32_t)a[i * DIM + k] * (int32_t)b[k * DIM + j];
            c[i * DIM + j] = acc;
        }
}

static void mul_mat_bits(int32_t *c, const int16_t *a, const int16_t *b)
{
    for (int32_t i = 0; i < DIM; i++)
        for (int32_t j = 0; j < DIM; j++) {
            uint32_t acc = 0;
            for (int32_t k = 0; k < DIM; k++) {
                uint32_t p = (uint32_t)((int32_t)a[i * DIM + k] * (int32_t)b[k * DIM + j]);
                acc += ((p >> 3) & 0x1F) * ((p >> 9) & 0x7F);
            }
            c[i * DIM + j] = (int32_t)acc;
        }
}

BENCH_KERNEL(matrix, i32)
{
    uint32_t seed = 0x1234ABCDu;
    for (int32_t i = 0; i < DIM * DIM; i++) {
        mat_a[i] = (int16_t)(bench_rand(&seed) % 2001) - 1000;
        mat_b[i] = (int16_t)(bench_rand(&seed) % 2001) - 1000;
    }
    uint32_t sum = 0;
    for (int32_t it = 0; it < n; it++) {
        int16_t v = (int16_t)((it * 37) % 201 - 100);
        add_const(mat_a, v);
        mul_const(mat_c, mat_a, v);
        sum = fold(sum, mat_c, DIM * DIM);
        mul_vec(mat_c, mat_a, mat_b + (it % DIM));
        sum = fold(sum, mat_c, DIM);
        mul_mat(mat_c, mat_a, mat_b);
        sum = fold(sum, mat_c, DIM * DIM);
        mul_mat_bits(mat_c, mat_a, mat_b);
        sum = fold(sum, mat_c, DIM * DIM);
        add_const(mat_a, (int16_t)-v);
    }
    return (int32_t)sum;
}
