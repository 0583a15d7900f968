/*
 * hashmap.c - an open-addressing hash table with 64-bit keys: i64 multiply,
 * shifts and compares, data-dependent loads, linear probing.
 *
 * Each of the n iterations clears a 65536-slot table, inserts 32768 keys from
 * a splitmix64 sequence, then looks up 65536 keys of which half were inserted.
 * The checksum folds every hit's value and every miss's probe count.
 */
#include "bench_kernel.h"

#define SLOT_BITS 16
#define SLOTS (1u << SLOT_BITS)
#define INSERTS 32768

static uint64_t hm_keys[SLOTS]; /* 0 = empty */
static uint32_t hm_vals[SLOTS];

static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint32_t slot_of(uint64_t key)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - SLOT_BITS));
}

static void hm_insert(uint64_t key, uint32_t val)
{
    uint32_t s = slot_of(key);
    while (hm_keys[s] != 0 && hm_keys[s] != key)
        s = (s + 1) & (SLOTS - 1);
    hm_keys[s] = key;
    hm_vals[s] = val;
}

/* Returns the value, or 0x80000000 | probes on a miss. */
static uint32_t hm_lookup(uint64_t key)
{
    uint32_t s = slot_of(key), probes = 0;
    for (;;) {
        uint64_t k = hm_keys[s];
        if (k == key)
            return hm_vals[s];
        if (k == 0)
            return 0x80000000u | probes;
        s = (s + 1) & (SLOTS - 1);
        probes++;
    }
}

BENCH_KERNEL(hashmap, i64)
{
    uint64_t sum = 0;
    for (int32_t it = 0; it < n; it++) {
        for (uint32_t i = 0; i < SLOTS; i++)
            hm_keys[i] = 0;
        uint64_t base = 0x0123456789ABCDEFull ^ ((uint64_t)(uint32_t)it << 32);
        uint64_t st = base;
        for (uint32_t i = 0; i < INSERTS; i++)
            hm_insert(splitmix64(&st) | 1, i);
        uint64_t hit = base, miss = ~base;
        for (uint32_t i = 0; i < 2 * INSERTS; i++) {
            uint64_t key = (i & 1) ? splitmix64(&miss) | 1 : splitmix64(&hit) | 1;
            sum = (sum ^ hm_lookup(key)) * 0x100000001B3ull;
        }
    }
    return (int64_t)sum;
}
