/*
 * prof.c - dispatch profiler for the engine (`wasm_prof`, built with
 * -DWASM_PROFILE): runs EXPORT(N) of a module and prints the most executed
 * internal ops, op pairs, data-flow pairs (the second reads the first's
 * result) and the hot code, which is how the compiler's fusions were chosen.
 *
 *   wasm_prof KERNEL.wasm EXPORT N [MIN_FRACTION]
 *
 * Single-threaded; not a benchmark (the hook costs far more than dispatch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wasm/module.h"
#include "wasm/code.h"
#include "wasm/runtime.h"

extern void (*wasm_profile_hook)(const uint32_t *pc);

#define HBITS 22
static const uint32_t *keys[1u << HBITS];
static uint64_t cnts[1u << HBITS];
static const uint32_t *prev;
static uint64_t pairs[IOP_COUNT][IOP_COUNT];
static const uint32_t *hs;
static uint64_t total;
static uint64_t dpairs[IOP_COUNT][IOP_COUNT][2]; /* [1]: via a temp */
typedef struct { const uint32_t *lo, *hi; uint32_t tbase; } frange;
static frange fr[4096];
static int nfr;
static int has_dst(const char *n) { return !strncmp(n, "op_", 3) || strstr(n, "load") || !strcmp(n, "copy") || !strncmp(n, "const", 5) || !strcmp(n, "select") || !strcmp(n, "global_get"); }

static int iop_at(const uint32_t *pc)
{
    uint32_t h = pc[0];
    static uint32_t ck[4096]; static int cv[4096];
    unsigned k = (unsigned)(h * 0x9E3779B97F4A7C15ull >> 52);
    if (ck[k] == h) return cv[k];
    for (int i = 0; i < IOP_COUNT; i++) if (hs[i] == h) { ck[k] = h; cv[k] = i; return i; }
    return 0;
}

static void hook(const uint32_t *pc)
{
    uint64_t h = ((uintptr_t)pc * 0x9E3779B97F4A7C15ull) >> (64 - HBITS);
    while (keys[h] && keys[h] != pc)
        h = (h + 1) & ((1u << HBITS) - 1);
    keys[h] = pc;
    cnts[h]++;
    total++;
    if (prev) {
        int a = iop_at(prev), b = iop_at(pc);
        pairs[a][b]++;
        if (has_dst(wasm_iop_name(a))) {
            uint32_t d = prev[1];
            uint32_t len = wasm_code_length_at(pc);
            int from = has_dst(wasm_iop_name(b)) ? 2 : 1;
            int reads = 0;
            for (uint32_t k = from; k < len && k < 6; k++) if (pc[k] == d) reads = 1;
            if (reads) {
                int temp = 0;
                for (int i = 0; i < nfr; i++) if (prev >= fr[i].lo && prev < fr[i].hi) temp = d >= fr[i].tbase;
                dpairs[a][b][temp]++;
            }
        }
    }
    prev = pc;
}

static uint64_t count_at(const uint32_t *pc)
{
    uint64_t h = ((uintptr_t)pc * 0x9E3779B97F4A7C15ull) >> (64 - HBITS);
    while (keys[h] && keys[h] != pc)
        h = (h + 1) & ((1u << HBITS) - 1);
    return keys[h] ? cnts[h] : 0;
}

typedef struct { uint64_t n; int a, b; } pr;
static int cmp_pr(const void *x, const void *y)
{
    const pr *a = x, *b = y;
    return a->n < b->n ? 1 : a->n > b->n ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s KERNEL.wasm EXPORT N [MIN_FRACTION]\n", argv[0]);
        return 2;
    }
    double top_frac = argc > 4 ? atof(argv[4]) : 0.005;
    hs = wasm_interp_handlers();
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static uint8_t buf[1 << 24];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    wasm_error err;
    wasm_module *m = wasm_module_new(buf, n, &err);
    if (!m) { fprintf(stderr, "load: %s\n", err.message); return 1; }
    wasm_instance *inst = wasm_instance_new(m, NULL, NULL, &err);
    if (!inst) { fprintf(stderr, "instantiate: %s\n", err.message); return 1; }
    wasm_func *fn = wasm_instance_func(inst, argv[2]);
    if (!fn) { fprintf(stderr, "no exported function %s\n", argv[2]); return 1; }
    wasm_val arg = {.type = WASM_I32, .of.i32 = atoi(argv[3])}, res;
    for (uint32_t i = 0; i < m->nfunc_defs && nfr < 4096; i++) {
        const wasm_code *cd = m->func_defs[i].code;
        fr[nfr++] = (frange){cd->words, cd->words + cd->nwords, cd->nparams + cd->nlocals};
    }
    wasm_profile_hook = hook;
    if (wasm_call(inst, fn, &arg, 1, &res, 1, &err) != WASM_OK) { fprintf(stderr, "call: %s\n", err.message); return 1; }
    wasm_profile_hook = NULL;
    printf("total dispatches %llu\n", (unsigned long long)total);
    /* per-op totals */
    static uint64_t per[IOP_COUNT];
    for (int a = 0; a < IOP_COUNT; a++)
        for (int b = 0; b < IOP_COUNT; b++)
            per[b] += pairs[a][b];
    static pr ps[IOP_COUNT * IOP_COUNT];
    int np = 0;
    for (int a = 0; a < IOP_COUNT; a++)
        if (per[a]) ps[np++] = (pr){per[a], a, -1};
    qsort(ps, np, sizeof *ps, cmp_pr);
    printf("-- ops\n");
    for (int i = 0; i < np && i < 30; i++)
        printf("%6.2f%%  %s\n", 100.0 * ps[i].n / total, wasm_iop_name(ps[i].a));
    np = 0;
    for (int a = 0; a < IOP_COUNT; a++)
        for (int b = 0; b < IOP_COUNT; b++)
            if (pairs[a][b]) ps[np++] = (pr){pairs[a][b], a, b};
    qsort(ps, np, sizeof *ps, cmp_pr);
    printf("-- pairs\n");
    for (int i = 0; i < np && i < 30; i++)
        printf("%6.2f%%  %s -> %s\n", 100.0 * ps[i].n / total, wasm_iop_name(ps[i].a), wasm_iop_name(ps[i].b));
    np = 0;
    for (int a = 0; a < IOP_COUNT; a++)
        for (int b = 0; b < IOP_COUNT; b++)
            for (int t = 0; t < 2; t++)
                if (dpairs[a][b][t]) ps[np++] = (pr){dpairs[a][b][t], a, b * 2 + t};
    qsort(ps, np, sizeof *ps, cmp_pr);
    printf("-- dataflow pairs (second reads first's dst)\n");
    for (int i = 0; i < np && i < 30; i++)
        printf("%6.2f%%  %s -> %s %s\n", 100.0 * ps[i].n / total, wasm_iop_name(ps[i].a), wasm_iop_name(ps[i].b / 2), ps[i].b % 2 ? "(temp)" : "(local)");
    /* hot code */
    printf("-- hot code (instructions >= %.3f%%)\n", top_frac * 100);
    for (uint32_t i = 0; i < m->nfunc_defs; i++) {
        const wasm_code *code = m->func_defs[i].code;
        const char *nm = wasm_module_func_name(m, m->nfunc_imports + i);
        int printed = 0;
        for (uint32_t at = 0; at < code->nwords;) {
            const uint32_t *pc = code->words + at;
            uint32_t len = wasm_code_length_at(pc);
            uint64_t c = count_at(pc);
            if (c >= top_frac * total) {
                if (!printed++) printf("== %s\n", nm ? nm : "?");
                printf("%6.2f%% %5u %-22s", 100.0 * c / total, at, wasm_iop_name(iop_at(pc)));
                for (uint32_t k = WASM_HANDLER_WORDS; k < len; k++) printf(" %d", (int32_t)pc[k]);
                printf("\n");
            }
            at += len ? len : 1;
        }
    }
    return 0;
}
