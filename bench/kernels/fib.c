/*
 * fib.c - recursive Fibonacci: calls, returns, small integer arithmetic.
 *
 * n iterations of fib(26 or 27); the depth of each iteration depends on the
 * running sum so that no compiler can hoist or merge the calls.
 */
#include "bench_kernel.h"

#define FIB_DEPTH 26

static int32_t fib_rec(int32_t k)
{
    if (k < 2)
        return k;
    return fib_rec(k - 1) + fib_rec(k - 2);
}

BENCH_KERNEL(fib, i32)
{
    uint32_t sum = 0;
    for (int32_t i = 0; i < n; i++)
        sum = bench_mix(sum, (uint32_t)fib_rec(FIB_DEPTH + (int32_t)(sum & 1)));
    return (int32_t)sum;
}
