/*
 * matmul.c - 200x200 f64 matrix product: f64 multiply-add, loads and stores
 * in a triple loop (i-k-j order, so the inner loop walks rows).
 *
 * Each of the n iterations fills A and B from the iteration number, computes
 * C = A * B and adds up C. All values are exact small multiples of 1/8, the
 * sums are done in a fixed order, and kernels are built with
 * -ffp-contract=off, so every engine gets the same bits. The checksum is the
 * bit pattern of the final f64 sum.
 */
#include "bench_kernel.h"

#define DIM 200

static double mat_a[DIM][DIM], mat_b[DIM][DIM], mat_c[DIM][DIM];

BENCH_KERNEL(matmul, i64)
{
    double total = 0.0;
    for (int32_t it = 0; it < n; it++) {
        for (int32_t i = 0; i < DIM; i++) {
            for (int32_t j = 0; j < DIM; j++) {
                mat_a[i][j] = (double)((i * 31 + j * 17 + it) % 64) * 0.125 - 4.0;
                mat_b[i][j] = (double)((i * 13 + j * 29 + 3 * it) % 32) * 0.25 - 3.5;
                mat_c[i][j] = 0.0;
            }
        }
        for (int32_t i = 0; i < DIM; i++) {
            for (int32_t k = 0; k < DIM; k++) {
                double aik = mat_a[i][k];
                for (int32_t j = 0; j < DIM; j++)
                    mat_c[i][j] += aik * mat_b[k][j];
            }
        }
        for (int32_t i = 0; i < DIM; i++)
            for (int32_t j = 0; j < DIM; j++)
                total += mat_c[i][j] * (double)((i ^ j) & 7);
    }
    union {
        double d;
        int64_t i;
    } bits = {total};
    return bits.i;
}
