/*
 * types.c - interning of function types.
 *
 * A grow-only hash set of signatures guarded by a mutex. It is touched only
 * while modules are decoded and host functions are defined, never while
 * code runs, so the lock is not on any hot path.
 */
#include "types.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct interned {
    uint64_t hash;
    uint32_t nparams, nresults;
    uint8_t *sig; /* nparams + nresults type bytes */
} interned;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static interned *table;     /* open addressing, capacity a power of two */
static uint32_t capacity, count;
static uint32_t *ids;       /* parallel to table: the id of each entry */

static uint64_t hash_sig(const uint8_t *sig, uint32_t n, uint32_t nparams)
{
    uint64_t h = 1469598103934665603ull ^ nparams;
    for (uint32_t i = 0; i < n; i++) {
        h ^= sig[i];
        h *= 1099511628211ull;
    }
    return h ^ ((uint64_t)n << 32);
}

static int grow(void)
{
    uint32_t ncap = capacity ? capacity * 2 : 64;
    interned *nt = calloc(ncap, sizeof *nt);
    uint32_t *nids = calloc(ncap, sizeof *nids);
    if (!nt || !nids) {
        free(nt);
        free(nids);
        return -1;
    }
    for (uint32_t i = 0; i < capacity; i++) {
        if (!table[i].sig)
            continue;
        uint32_t j = (uint32_t)table[i].hash & (ncap - 1);
        while (nt[j].sig)
            j = (j + 1) & (ncap - 1);
        nt[j] = table[i];
        nids[j] = ids[i];
    }
    free(table);
    free(ids);
    table = nt;
    ids = nids;
    capacity = ncap;
    return 0;
}

uint32_t wasm_type_intern(const wasm_valtype *params, uint32_t nparams,
                          const wasm_valtype *results, uint32_t nresults)
{
    uint32_t n = nparams + nresults;
    uint8_t small[64];
    uint8_t *sig = n <= sizeof small ? small : malloc(n ? n : 1);
    if (!sig)
        return UINT32_MAX;
    for (uint32_t i = 0; i < nparams; i++)
        sig[i] = (uint8_t)params[i];
    for (uint32_t i = 0; i < nresults; i++)
        sig[nparams + i] = (uint8_t)results[i];
    uint64_t h = hash_sig(sig, n, nparams);
    uint32_t id = UINT32_MAX;

    pthread_mutex_lock(&lock);
    if ((count + 1) * 2 > capacity && grow() != 0)
        goto out;
    uint32_t j = (uint32_t)h & (capacity - 1);
    for (; table[j].sig; j = (j + 1) & (capacity - 1)) {
        interned *e = &table[j];
        if (e->hash == h && e->nparams == nparams && e->nresults == nresults &&
            memcmp(e->sig, sig, n) == 0) {
            id = ids[j];
            goto out;
        }
    }
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        goto out;
    memcpy(copy, sig, n);
    table[j] = (interned){h, nparams, nresults, copy};
    ids[j] = id = count++;
out:
    pthread_mutex_unlock(&lock);
    if (sig != small)
        free(sig);
    return id;
}

wasm_valtype wasm_valtype_from_letter(char c)
{
    switch (c) {
    case 'i': return WASM_I32;
    case 'I': return WASM_I64;
    case 'f': return WASM_F32;
    case 'F': return WASM_F64;
    case 'r': return WASM_FUNCREF;
    case 'e': return WASM_EXTERNREF;
    default: return (wasm_valtype)0;
    }
}

char wasm_valtype_letter(wasm_valtype t)
{
    switch (t) {
    case WASM_I32: return 'i';
    case WASM_I64: return 'I';
    case WASM_F32: return 'f';
    case WASM_F64: return 'F';
    case WASM_FUNCREF: return 'r';
    case WASM_EXTERNREF: return 'e';
    default: return '?';
    }
}

const char *wasm_valtype_name(wasm_valtype t)
{
    switch (t) {
    case WASM_I32: return "i32";
    case WASM_I64: return "i64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    case WASM_V128: return "v128";
    case WASM_FUNCREF: return "funcref";
    case WASM_EXTERNREF: return "externref";
    default: return "unknown";
    }
}
