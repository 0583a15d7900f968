/*
 * table.c - tables of references (funcref: wasm_func *, externref: opaque).
 */
#include "runtime.h"

#include <stdlib.h>

/* One table never holds more than this, whatever the instance's budget. */
#define MAX_TABLE_ELEMS (10u * 1000u * 1000u)

int wasm_table_init(wasm_table *t, wasm_valtype elem, uint32_t size,
                    uint32_t max, void *init, uint64_t *budget)
{
    t->elem = elem;
    t->size = 0;
    t->max = max;
    t->elems = NULL;
    t->budget = budget;
    if (size > MAX_TABLE_ELEMS || size > *budget)
        return -1;
    t->elems = calloc(size ? size : 1, sizeof *t->elems);
    if (!t->elems)
        return -1;
    *budget -= size;
    t->size = size;
    for (uint32_t i = 0; i < size; i++)
        t->elems[i] = init;
    return 0;
}

void wasm_table_release(wasm_table *t)
{
    free(t->elems);
    t->elems = NULL;
    t->size = 0;
}

/* table.grow must fail with -1, never abort: past the table's max, the
 * per-table cap, the owner's budget, or out of host memory. */
int64_t wasm_table_grow_by(wasm_table *t, uint32_t n, void *init)
{
    uint32_t old = t->size;
    if (n == 0)
        return old;
    uint64_t want = (uint64_t)old + n;
    if (want > t->max || want > MAX_TABLE_ELEMS || n > *t->budget)
        return -1;
    void **e = realloc(t->elems, want * sizeof *e);
    if (!e)
        return -1;
    for (uint64_t i = old; i < want; i++)
        e[i] = init;
    t->elems = e;
    t->size = (uint32_t)want;
    *t->budget -= n;
    return old;
}
