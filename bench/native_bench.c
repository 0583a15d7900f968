/*
 * native_bench.c - runs the benchmark kernels compiled natively.
 *
 *   bench_native --list
 *       one line per kernel: name, result type, full, quick and wasm-interp
 *       sizes, what n means (tab-separated); run-bench.sh reads this.
 *   bench_native [--reps R] NAME SIZE [NAME SIZE ...]
 *       calls kernel NAME(SIZE) R times (default 3), timing only the call
 *       with CLOCK_MONOTONIC, and prints
 *           result NAME SIZE TYPE:CHECKSUM SECONDS
 *       (tab-separated; the checksum in unsigned decimal as wasm-interp
 *       prints it; SECONDS is the fastest call). Exits 1 if a kernel is
 *       unknown or returns different checksums on different calls.
 *
 * The output format is shared with wasm_bench and node_bench.mjs.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/bench_kernel.h"

typedef struct kernel {
    const char *name;
    const char *type;
    int32_t (*f32)(int32_t);
    int64_t (*f64)(int32_t);
    int32_t full, quick, interp;
    const char *what;
} kernel;

#define FN_i32(name) bench_##name, NULL
#define FN_i64(name) NULL, bench_##name
#define K(name, type, full, quick, interp, what) \
    {#name, #type, FN_##type(name), full, quick, interp, what},
static const kernel kernels[] = {
#include "kernels/kernels.def"
};
#undef K

static const kernel *find_kernel(const char *name)
{
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        if (strcmp(kernels[i].name, name) == 0)
            return &kernels[i];
    return NULL;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Calls k(size) once; returns the checksum as an unsigned 64-bit value
 * (an i32 result zero-extended) and its duration in *seconds. */
static uint64_t call_kernel(const kernel *k, int32_t size, double *seconds)
{
    uint64_t r;
    double t0 = now_seconds();
    if (k->f32)
        r = (uint32_t)k->f32(size);
    else
        r = (uint64_t)k->f64(size);
    *seconds = now_seconds() - t0;
    return r;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_native --list\n"
                    "       bench_native [--reps R] NAME SIZE [NAME SIZE ...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    int reps = 3, i = 1;
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++)
            printf("%s\t%s\t%" PRId32 "\t%" PRId32 "\t%" PRId32 "\t%s\n",
                   kernels[k].name, kernels[k].type, kernels[k].full,
                   kernels[k].quick, kernels[k].interp, kernels[k].what);
        return 0;
    }
    if (i + 1 < argc && strcmp(argv[i], "--reps") == 0) {
        reps = atoi(argv[i + 1]);
        i += 2;
    }
    if (reps < 1 || i >= argc || (argc - i) % 2 != 0)
        return usage();
    int status = 0;
    for (; i < argc; i += 2) {
        const kernel *k = find_kernel(argv[i]);
        if (!k) {
            fprintf(stderr, "bench_native: no kernel named '%s'\n", argv[i]);
            status = 1;
            continue;
        }
        int32_t size = (int32_t)atoi(argv[i + 1]);
        double best = 0;
        uint64_t first = 0;
        for (int r = 0; r < reps; r++) {
            double t;
            uint64_t sum = call_kernel(k, size, &t);
            if (r == 0) {
                first = sum;
                best = t;
            } else if (sum != first) {
                fprintf(stderr, "bench_native: %s(%" PRId32 ") is not deterministic: "
                        "%" PRIu64 " then %" PRIu64 "\n", k->name, size, first, sum);
                status = 1;
            }
            if (t < best)
                best = t;
        }
        printf("result\t%s\t%" PRId32 "\t%s:%" PRIu64 "\t%.6f\n", k->name, size,
               k->type, first, best);
        fflush(stdout);
    }
    return status;
}
