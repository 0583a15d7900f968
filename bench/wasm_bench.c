/*
 * wasm_bench.c - runs the benchmark kernels in our engine (water_static),
 * through the public API of include/water/wasm.h only.
 *
 *   wasm_bench [--reps R] [--dir DIR] NAME SIZE [NAME SIZE ...]
 *       loads DIR/NAME.wasm (DIR defaults to the directory CMake built the
 *       kernels in), instantiates it without imports, calls its export NAME
 *       with the i32 SIZE R times (default 3), timing only wasm_call() with
 *       CLOCK_MONOTONIC, and prints
 *           result NAME SIZE TYPE:CHECKSUM SECONDS
 *       (tab-separated, the same format as bench_native; SECONDS is the
 *       fastest call). Loading and instantiation times go to stderr.
 *       Exits 1 if anything fails (decode, link, trap) or a kernel returns
 *       different checksums on different calls.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <water/wasm.h>

#ifndef BENCH_WASM_DIR
#define BENCH_WASM_DIR "."
#endif

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reads a whole file; returns a malloc'd buffer or NULL (message printed). */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t cap = 0, used = 0;
    for (;;) {
        if (used == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) {
                fprintf(stderr, "%s: out of memory\n", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        return NULL;
    }
    *len = used;
    return buf;
}

/* Runs one kernel; returns 0 on success. */
static int run_kernel(const char *dir, const char *name, int32_t size, int reps)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s.wasm", dir, name) >= (int)sizeof path) {
        fprintf(stderr, "wasm_bench: path too long\n");
        return 1;
    }
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes)
        return 1;

    int status = 1;
    wasm_error err;
    wasm_module *mod = NULL;
    wasm_instance *inst = NULL;
    double t0 = now_seconds();
    mod = wasm_module_new(bytes, len, &err);
    free(bytes);
    if (!mod) {
        fprintf(stderr, "wasm_bench: %s: %s\n", path, err.message);
        return 1;
    }
    double t1 = now_seconds();
    inst = wasm_instance_new(mod, NULL, NULL, &err);
    if (!inst) {
        fprintf(stderr, "wasm_bench: %s: %s\n", path, err.message);
        goto out;
    }
    double t2 = now_seconds();
    fprintf(stderr, "wasm_bench: %s: load %.3f ms, instantiate %.3f ms\n", name,
            (t1 - t0) * 1e3, (t2 - t1) * 1e3);

    wasm_func *fn = wasm_instance_func(inst, name);
    if (!fn) {
        fprintf(stderr, "wasm_bench: %s: no function export '%s'\n", path, name);
        goto out;
    }
    wasm_functype_info ty = wasm_func_type(fn);
    if (ty.nparams != 1 || ty.params[0] != WASM_I32 || ty.nresults != 1 ||
        (ty.results[0] != WASM_I32 && ty.results[0] != WASM_I64)) {
        fprintf(stderr, "wasm_bench: %s: export '%s' is not (i32) -> i32 or i64\n",
                path, name);
        goto out;
    }

    wasm_val arg = {.type = WASM_I32, .of.i32 = size};
    double best = 0;
    uint64_t first = 0;
    status = 0;
    for (int r = 0; r < reps; r++) {
        wasm_val result;
        memset(&result, 0, sizeof result);
        double c0 = now_seconds();
        wasm_err e = wasm_call(inst, fn, &arg, 1, &result, 1, &err);
        double t = now_seconds() - c0;
        if (e != WASM_OK) {
            fprintf(stderr, "wasm_bench: %s(%" PRId32 "): %s\n", name, size,
                    err.message);
            status = 1;
            goto out;
        }
        uint64_t sum = result.type == WASM_I64 ? (uint64_t)result.of.i64
                                               : (uint64_t)(uint32_t)result.of.i32;
        if (r == 0) {
            first = sum;
            best = t;
        } else if (sum != first) {
            fprintf(stderr, "wasm_bench: %s(%" PRId32 ") is not deterministic: "
                    "%" PRIu64 " then %" PRIu64 "\n", name, size, first, sum);
            status = 1;
        }
        if (t < best)
            best = t;
    }
    printf("result\t%s\t%" PRId32 "\t%s:%" PRIu64 "\t%.6f\n", name, size,
           ty.results[0] == WASM_I64 ? "i64" : "i32", first, best);
    fflush(stdout);
out:
    if (inst)
        wasm_instance_free(inst);
    wasm_module_free(mod);
    return status;
}

static int usage(void)
{
    fprintf(stderr, "usage: wasm_bench [--reps R] [--dir DIR] NAME SIZE [NAME SIZE ...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    int reps = 3, i = 1;
    const char *dir = BENCH_WASM_DIR;
    while (i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-') {
        if (strcmp(argv[i], "--reps") == 0)
            reps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else
            return usage();
        i += 2;
    }
    if (reps < 1 || i >= argc || (argc - i) % 2 != 0)
        return usage();
    int status = 0;
    for (; i < argc; i += 2)
        status |= run_kernel(dir, argv[i], (int32_t)atoi(argv[i + 1]), reps);
    return status;
}
